//! The real-time view: what is known of TikTok between two full reconciliations, the plan of
//! the items that changed since, made against it, and what the outcomes of its writes teach.
//!
//! A full reconciliation reads everything; a webhook names a few inventory items, which are
//! re-read alone. The view keeps what the reconciliation learned (TikTok's SKUs with the
//! numbers they hold, which SKUs are ambiguous, Shopify's levels) so that the changed items
//! can be planned by the same rules and matching as a full plan, without reading TikTok.
//!
//! It also keeps every variant as last read, with the time Shopify gives each level, so that
//! a webhook's number that is provably the newest can be planned without reading Shopify at
//! all ([`LiveView::offer`], the trust rule), and a later read of that item can tell whether
//! the number trusted was right ([`Mismatch`]).

use std::collections::{HashMap, HashSet};

mod payload;

pub use payload::{LevelPayload, Mismatch, Offer, Reread};

use crate::bundle::BundleIndex;
use crate::catalog::{TikTokSku, UpdatedAt, VariantSnapshot};
use crate::hold::Holds;
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
    /// Every variant as last read, or as a trusted payload left it, by inventory item: what
    /// a trusted item is planned from.
    known: HashMap<InventoryItemId, VariantSnapshot>,
    /// Numbers webhooks carried that were not applied: they order the re-reads (a fall goes
    /// first), never decide a number. Cleared when the item is read.
    hinted: HashMap<(InventoryItemId, LocationId), i64>,
    /// Levels whose number a payload set and no read has confirmed since: the number and its
    /// time, to compare with the next read ([`Mismatch`]).
    trusted: HashMap<(InventoryItemId, LocationId), (i64, UpdatedAt)>,
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
    /// Trusted payload numbers the read behind this plan contradicts: the plan corrects
    /// them.
    pub mismatches: Vec<Mismatch>,
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
        LiveView {
            rules,
            by_sku,
            unsure,
            known: variants
                .iter()
                .map(|v| (v.inventory_item_id, v.clone()))
                .collect(),
            hinted: HashMap::new(),
            trusted: HashMap::new(),
            bundles: BundleIndex::new(variants),
        }
    }

    /// The rules the view plans with (as resolved by the last reconciliation).
    pub fn rules(&self) -> &ResolvedRules {
        &self.rules
    }

    /// Whether the view knows `item`: the last reconciliation, or a re-read since, saw it.
    pub fn knows(&self, item: InventoryItemId) -> bool {
        self.known.contains_key(&item)
    }

    /// What to re-read to plan the changed `items`: them, every bundle made of one of them,
    /// and every component of those bundles ([`BundleIndex::with_bundles`]).
    pub fn to_read(&self, items: &[InventoryItemId]) -> Vec<InventoryItemId> {
        self.bundles.with_bundles(items)
    }

    /// Notes that a webhook says `item` now has `available` at `location`, without applying
    /// it; whether that is below what was last seen (an item never seen has not fallen; a
    /// location it was not stocked at counted 0). Items that fell are re-read first.
    pub fn note_level(
        &mut self,
        item: InventoryItemId,
        location: LocationId,
        available: i64,
    ) -> bool {
        let Some(variant) = self.known.get(&item) else {
            return false;
        };
        let last = self
            .hinted
            .get(&(item, location))
            .copied()
            .unwrap_or_else(|| variant.available_at(location));
        self.hinted.insert((item, location), available);
        available < last
    }

    /// Plans the changed items, as just re-read ([`LiveView::to_read`]), against what is known: matched to the
    /// TikTok SKUs their SKUs name by the domain's matching (an ambiguous SKU is left
    /// alone), each line's current number the last known, none for an unsure line.
    pub fn plan(&mut self, variants: &[VariantSnapshot]) -> LivePlan {
        self.plan_holding(variants, &Holds::none())
    }

    /// [`LiveView::plan`] with the units TikTok orders in flight hold subtracted in step 4
    /// (sync-rules.md §7); lines without a seller SKU are found through the planned SKUs.
    ///
    /// `variants` are merged with what is known first ([`LiveView::absorb`]): a level a
    /// trusted payload set later than the read keeps the payload's number, and a read that
    /// contradicts a trusted number is reported in [`LivePlan::mismatches`].
    pub fn plan_holding(&mut self, variants: &[VariantSnapshot], holds: &Holds) -> LivePlan {
        self.plan_with_known(variants, &[], holds)
    }

    /// [`LiveView::plan_holding`] of the items just `read` together with `trusted` items,
    /// planned from what is known of them ([`LiveView::offer`] applied their payloads)
    /// without a read; a trusted item that was read too, or that the view does not know, is
    /// planned from the read alone.
    pub fn plan_with_known(
        &mut self,
        read: &[VariantSnapshot],
        trusted: &[InventoryItemId],
        holds: &Holds,
    ) -> LivePlan {
        let (mut merged, mismatches) = self.absorb(read);
        let was_read: HashSet<InventoryItemId> =
            merged.iter().map(|v| v.inventory_item_id).collect();
        for item in trusted {
            if was_read.contains(item) {
                continue;
            }
            if let Some(known) = self.known.get(item) {
                merged.push(known.clone());
            }
        }
        let variants = merged.as_slice();
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
        let mut holds = holds.clone();
        holds.resolve(&tiktok);
        let plan =
            Plan::build_restating_holding(&self.rules, variants, &tiktok, &holds, &self.unsure);
        LivePlan {
            plan,
            tiktok,
            mismatches,
        }
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
}

#[cfg(test)]
mod tests;
