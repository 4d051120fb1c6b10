//! The real-time view: what is known of TikTok between two full reconciliations, the plan of
//! the items that changed since, made against it, and what the outcomes of its writes teach.
//!
//! A full reconciliation reads everything; a webhook names a few inventory items, which are
//! re-read alone. The view keeps what the reconciliation learned (TikTok's SKUs with the
//! numbers they hold, which SKUs are ambiguous, Shopify's levels) so that the changed items
//! can be planned by the same rules and matching as a full plan, without reading TikTok.

use std::collections::{HashMap, HashSet};

use crate::bundle::BundleIndex;
use crate::catalog::{StockLevel, TikTokSku, VariantSnapshot};
use crate::ids::{InventoryItemId, LocationId, SkuId, WarehouseId};
use crate::matching::match_skus;
use crate::outcome::LineStatus;
use crate::plan::Plan;
use crate::resolved::ResolvedRules;
use crate::write::WriteJob;

/// What is known between reconciliations.
#[derive(Debug, Clone)]
pub struct LiveView {
    rules: ResolvedRules,
    /// TikTok's SKUs by the SKU a variant must carry to feed them
    /// ([`TikTokSku::sku_key`]), with the numbers TikTok was last known to hold. SKUs that
    /// were ambiguous at the reconciliation are left out: they are never touched.
    by_sku: HashMap<String, Vec<TikTokSku>>,
    /// (SKU, warehouse) whose last write failed: TikTok may hold the old number or the new
    /// one, so the next plan restates it whatever the rules give.
    unsure: HashSet<(SkuId, WarehouseId)>,
    /// Shopify's `available` per item and location as last seen (read, or hinted by a
    /// webhook). It orders the re-reads, never decides a number.
    levels: HashMap<InventoryItemId, Vec<StockLevel>>,
    /// Which bundles each component feeds: a component's change re-plans them (§8).
    bundles: BundleIndex,
}

/// A plan of changed items made against the view, with the TikTok SKUs it concerns (what
/// its writes restate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivePlan {
    /// The plan; lines the view is unsure of have no current number.
    pub plan: Plan,
    /// The TikTok SKUs the changed items feed, with the numbers last known.
    pub tiktok: Vec<TikTokSku>,
}

impl LivePlan {
    /// The writes to send, in the order they go out ([`Plan::write_jobs`]).
    pub fn write_jobs(&self) -> Vec<WriteJob> {
        self.plan.write_jobs(&self.tiktok)
    }
}

impl LiveView {
    /// The view a full reconciliation leaves: `variants` and `tiktok` as it read them,
    /// `plan` its plan and `statuses` what became of each line. TikTok holds the updated
    /// numbers; lines whose write failed are unsure.
    pub fn after_reconcile(
        rules: ResolvedRules,
        variants: &[VariantSnapshot],
        mut tiktok: Vec<TikTokSku>,
        plan: &Plan,
        statuses: &[LineStatus],
    ) -> LiveView {
        plan.apply_updated(&mut tiktok, statuses);
        let ambiguous: HashSet<String> = match_skus(variants, &tiktok)
            .ambiguous_skus
            .into_iter()
            .collect();
        let mut by_sku: HashMap<String, Vec<TikTokSku>> = HashMap::new();
        for sku in tiktok {
            if !ambiguous.contains(sku.sku_key()) {
                by_sku
                    .entry(sku.sku_key().to_owned())
                    .or_default()
                    .push(sku);
            }
        }
        let unsure = plan
            .lines
            .iter()
            .zip(statuses)
            .filter(|(_, status)| matches!(status, LineStatus::Failed(_)))
            .map(|(line, _)| (line.sku_id.clone(), line.warehouse.clone()))
            .collect();
        let mut view = LiveView {
            rules,
            by_sku,
            unsure,
            levels: HashMap::new(),
            bundles: BundleIndex::new(variants),
        };
        view.remember(variants);
        view
    }

    /// The rules the view plans with (as resolved by the last reconciliation).
    pub fn rules(&self) -> &ResolvedRules {
        &self.rules
    }

    /// Whether the view knows `item`: the last reconciliation, or a re-read since, saw it.
    pub fn knows(&self, item: InventoryItemId) -> bool {
        self.levels.contains_key(&item)
    }

    /// What to re-read to plan the changed `items`: them, every bundle made of one of them,
    /// and every component of those bundles ([`BundleIndex::with_bundles`]).
    pub fn to_read(&self, items: &[InventoryItemId]) -> Vec<InventoryItemId> {
        self.bundles.with_bundles(items)
    }

    /// Notes that a webhook says `item` now has `available` at `location`; whether that is
    /// below what was last seen (an item never seen has not fallen; a location it was not
    /// stocked at counted 0). Items that fell are re-read first.
    pub fn note_level(
        &mut self,
        item: InventoryItemId,
        location: LocationId,
        available: i64,
    ) -> bool {
        let Some(levels) = self.levels.get_mut(&item) else {
            return false;
        };
        let index = match levels.iter().position(|l| l.location == location) {
            Some(index) => index,
            None => {
                levels.push(StockLevel {
                    location,
                    available: 0,
                });
                levels.len() - 1
            }
        };
        let known = &mut levels[index].available;
        let fell = available < *known;
        *known = available;
        fell
    }

    /// Plans the changed items, as just re-read ([`LiveView::to_read`]), against what is known: matched to the
    /// TikTok SKUs their SKUs name by the domain's matching (an ambiguous SKU is left
    /// alone), each line's current number the last known, none for an unsure line.
    pub fn plan(&mut self, variants: &[VariantSnapshot]) -> LivePlan {
        self.remember(variants);
        self.bundles.update(variants);
        let mut tiktok = Vec::new();
        let mut seen = HashSet::new();
        for variant in variants {
            let Some(sku) = &variant.sku else { continue };
            if !seen.insert(sku.as_str()) {
                continue;
            }
            if let Some(skus) = self.by_sku.get(sku.as_str()) {
                tiktok.extend(skus.iter().cloned());
            }
        }
        let plan = Plan::build_restating(&self.rules, variants, &tiktok, &self.unsure);
        LivePlan { plan, tiktok }
    }

    /// Learns from what became of a plan's lines (`statuses` by position): an updated line
    /// is TikTok's number now and sure; a failed one is unsure until a write succeeds.
    pub fn record(&mut self, planned: &LivePlan, statuses: &[LineStatus]) {
        for (line, status) in planned.plan.lines.iter().zip(statuses) {
            let key = (line.sku_id.clone(), line.warehouse.clone());
            match status {
                LineStatus::Updated => {
                    self.unsure.remove(&key);
                }
                LineStatus::Failed(_) => {
                    self.unsure.insert(key);
                }
                LineStatus::Unchanged | LineStatus::Held => {}
            }
        }
        let mut updated = planned.tiktok.clone();
        planned.plan.apply_updated(&mut updated, statuses);
        for sku in updated {
            if let Some(known) = self.by_sku.get_mut(sku.sku_key()) {
                if let Some(slot) = known.iter_mut().find(|k| k.sku_id == sku.sku_id) {
                    *slot = sku;
                }
            }
        }
    }

    fn remember(&mut self, variants: &[VariantSnapshot]) {
        for v in variants {
            self.levels.insert(v.inventory_item_id, v.levels.clone());
        }
    }
}

#[cfg(test)]
mod tests;
