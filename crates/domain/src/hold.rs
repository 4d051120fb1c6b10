//! TikTok orders in flight (sync-rules.md §7): units a TikTok order holds until Shopify
//! knows of it, per variant and mapping.
//!
//! The caller decides which orders still hold (their status, whether Shopify has a copy, how
//! long they have held); this module only says how many units of a variant each mapping
//! must keep back, and which orders they belong to.

use std::collections::BTreeMap;

use crate::catalog::{TikTokSku, VariantSnapshot};
use crate::ids::{OrderId, Sku, SkuId, WarehouseId};
use crate::resolved::ResolvedRules;

/// One line of a TikTok order that holds units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldLine {
    /// The TikTok order.
    pub order: OrderId,
    /// The TikTok SKU ordered.
    pub sku_id: SkuId,
    /// Its seller SKU as the order carries it; when absent, found through the TikTok SKU.
    pub seller_sku: Option<Sku>,
    /// The warehouse the line ships from, when TikTok says.
    pub warehouse: Option<WarehouseId>,
    /// Units ordered.
    pub quantity: u64,
}

/// The units held for one variant and one mapping, and the orders holding them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Held {
    /// Units to subtract in step 4.
    pub units: u64,
    /// The orders behind them, each once, in id order.
    pub orders: Vec<OrderId>,
}

/// Every line that holds units, indexed by the merchant SKU it holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Holds {
    by_sku: BTreeMap<Sku, Vec<HoldLine>>,
    unresolved: Vec<HoldLine>,
}

impl Holds {
    /// No order holds anything.
    pub fn none() -> Holds {
        Holds::default()
    }

    /// Indexes the lines by seller SKU. A line without one is found through `tiktok` by its
    /// SKU id; one that cannot be found there is kept aside and holds nothing until
    /// [`Holds::resolve`] finds it.
    pub fn new(lines: impl IntoIterator<Item = HoldLine>, tiktok: &[TikTokSku]) -> Holds {
        let mut holds = Holds::default();
        for line in lines {
            holds.insert(line, tiktok);
        }
        holds
    }

    fn insert(&mut self, line: HoldLine, tiktok: &[TikTokSku]) {
        let sku = line.seller_sku.clone().or_else(|| {
            tiktok
                .iter()
                .find(|t| t.sku_id == line.sku_id)
                .and_then(|t| Sku::parse_optional(Some(&t.seller_sku)))
        });
        match sku {
            Some(sku) => self.by_sku.entry(sku).or_default().push(line),
            None => self.unresolved.push(line),
        }
    }

    /// Finds the SKU of lines that were kept aside, through these TikTok SKUs.
    pub fn resolve(&mut self, tiktok: &[TikTokSku]) {
        for line in std::mem::take(&mut self.unresolved) {
            self.insert(line, tiktok);
        }
    }

    /// Whether no line holds anything.
    pub fn is_empty(&self) -> bool {
        self.by_sku.is_empty() && self.unresolved.is_empty()
    }

    /// The units held for `variant` from the mapping at `mapping_index`: the lines of its
    /// SKU that ship from the mapping's warehouse, plus those with no warehouse or one that
    /// no mapping targets (they are held from every mapping, so nothing is oversold). Nothing
    /// is held from a mapping `rules` do not have.
    pub fn held(
        &self,
        variant: &VariantSnapshot,
        rules: &ResolvedRules,
        mapping_index: usize,
    ) -> Held {
        let Some(lines) = variant.sku.as_ref().and_then(|s| self.by_sku.get(s)) else {
            return Held::default();
        };
        let Some(target) = rules.mappings().get(mapping_index).map(|m| m.warehouse()) else {
            return Held::default();
        };
        let mut held = Held::default();
        for line in lines {
            let counts = match &line.warehouse {
                None => true,
                Some(w) => w == target || !rules.mappings().iter().any(|m| m.warehouse() == w),
            };
            if counts {
                held.units = held.units.saturating_add(line.quantity);
                held.orders.push(line.order.clone());
            }
        }
        held.orders.sort();
        held.orders.dedup();
        held
    }
}

#[cfg(test)]
mod tests;
