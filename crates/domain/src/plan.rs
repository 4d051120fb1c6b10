//! The plan: one line per (matched TikTok SKU, target warehouse) with the number the rules
//! give, what TikTok holds now, and why; and the per-product writes that get TikTok there
//! (sync-rules.md §4).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::bundle::Components;
use crate::catalog::{TikTokSku, VariantSnapshot, WarehouseStock};
use crate::compute::{Decision, Evaluation, Steps};
use crate::hold::Holds;
use crate::ids::{InventoryItemId, OrderId, ProductId, SkuId, VariantId, WarehouseId};
use crate::matching::match_skus;
use crate::quantity::Quantity;
use crate::warning::Warning;
use crate::write::{ProductWrite, SkuWrite, WriteJob};
use crate::ResolvedRules;

/// One number for one TikTok SKU in one warehouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanLine {
    /// The merchant SKU (trimmed).
    pub sku: String,
    /// The Shopify variant it comes from.
    pub variant_id: VariantId,
    /// The variant's inventory item.
    pub inventory_item_id: InventoryItemId,
    /// The TikTok product.
    pub product_id: ProductId,
    /// The TikTok SKU.
    pub sku_id: SkuId,
    /// The target warehouse.
    pub warehouse: WarehouseId,
    /// The target warehouse's name (one allocation shared by the warehouse's lines).
    pub warehouse_name: Arc<str>,
    /// What the rules give.
    pub quantity: Quantity,
    /// What TikTok holds now (or the last confirmed number), when known.
    pub current: Option<Quantity>,
    /// How `quantity` was computed.
    pub explanation: String,
    /// Units subtracted in step 4 for TikTok orders Shopify does not know yet (§7).
    pub held: u64,
    /// The TikTok orders behind `held`, each once.
    pub held_orders: Vec<OrderId>,
    /// Whether the variant is a bundle, whose number comes from its components (§8).
    pub bundle: bool,
}

impl PlanLine {
    /// Whether the number differs from what TikTok holds (unknown counts as different).
    pub fn changed(&self) -> bool {
        self.current != Some(self.quantity)
    }

    /// Whether the line sets to 0 a number TikTok holds above 0.
    pub fn zeroes(&self) -> bool {
        self.quantity == Quantity::ZERO && self.current.is_some_and(|c| c > Quantity::ZERO)
    }
}

/// Counts of a plan, for its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlanSummary {
    /// Shopify variants read.
    pub variants: usize,
    /// TikTok SKUs read.
    pub tiktok_skus: usize,
    /// (variant, TikTok SKU) pairs matched.
    pub matched: usize,
    /// Lines computed.
    pub lines: usize,
    /// Lines whose number differs from TikTok's.
    pub changed: usize,
    /// Matched TikTok SKUs left alone by an `exclude` override.
    pub excluded: usize,
    /// TikTok SKUs left alone because their SKU is ambiguous.
    pub ambiguous: usize,
    /// Variants with a SKU no TikTok SKU carries.
    pub unmatched_variants: usize,
    /// TikTok SKUs no variant feeds.
    pub unmatched_tiktok_skus: usize,
    /// Lines whose number goes up.
    pub up: usize,
    /// Lines whose number goes down, those going to 0 included.
    pub down: usize,
    /// Lines going to 0 from above 0 (what the mass-drop breaker judges).
    pub zeroed: usize,
    /// Units TikTok holds now over the lines whose current number is known.
    pub units_before: u64,
    /// Units over all lines once the plan is written.
    pub units_after: u64,
}

impl PlanSummary {
    /// Sets `lines`, `changed` and the movements from the lines.
    fn count_lines(&mut self, lines: &[PlanLine]) {
        self.lines = lines.len();
        self.changed = lines.iter().filter(|l| l.changed()).count();
        self.count_movements(lines);
    }

    /// Sets `up`, `down`, `zeroed`, `units_before` and `units_after` from the lines.
    pub fn count_movements(&mut self, lines: &[PlanLine]) {
        let (mut up, mut down, mut before, mut after) = (0, 0, 0u64, 0u64);
        for line in lines {
            after += u64::from(line.quantity.get());
            if let Some(current) = line.current {
                before += u64::from(current.get());
                up += usize::from(line.quantity > current);
                down += usize::from(line.quantity < current);
            }
        }
        self.up = up;
        self.down = down;
        self.zeroed = lines.iter().filter(|l| l.zeroes()).count();
        self.units_before = before;
        self.units_after = after;
    }
}

/// Everything a sync would send, and why.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The lines, in TikTok catalog order then mapping order.
    pub lines: Vec<PlanLine>,
    /// What the merchant should know.
    pub warnings: Vec<Warning>,
    /// Counts.
    pub summary: PlanSummary,
}

impl Plan {
    /// Computes the plan. `tiktok` carries what TikTok holds now in each warehouse (for
    /// real-time updates, the last confirmed numbers stand in).
    pub fn build(
        rules: &ResolvedRules,
        variants: &[VariantSnapshot],
        tiktok: &[TikTokSku],
    ) -> Plan {
        Plan::build_holding(rules, variants, tiktok, &Holds::none())
    }

    /// Computes the plan with the units that TikTok orders in flight hold (sync-rules.md §7)
    /// subtracted in step 4.
    pub fn build_holding(
        rules: &ResolvedRules,
        variants: &[VariantSnapshot],
        tiktok: &[TikTokSku],
        holds: &Holds,
    ) -> Plan {
        Plan::build_restating_holding(rules, variants, tiktok, holds, &HashSet::new())
    }

    /// Computes the plan with the numbers of `unknown` (SKU, warehouse) pairs taken as not
    /// known: their lines are changed whatever the rules give, so a write restates them
    /// (the real-time view's lines whose last write failed: TikTok may hold either number).
    pub fn build_restating(
        rules: &ResolvedRules,
        variants: &[VariantSnapshot],
        tiktok: &[TikTokSku],
        unknown: &HashSet<(SkuId, WarehouseId)>,
    ) -> Plan {
        Plan::build_restating_holding(rules, variants, tiktok, &Holds::none(), unknown)
    }

    /// [`Plan::build_restating`] with the units TikTok orders in flight hold (sync-rules.md
    /// §7) subtracted in step 4.
    pub fn build_restating_holding(
        rules: &ResolvedRules,
        variants: &[VariantSnapshot],
        tiktok: &[TikTokSku],
        holds: &Holds,
        unknown: &HashSet<(SkuId, WarehouseId)>,
    ) -> Plan {
        let matching = match_skus(variants, tiktok);
        let mut plan = Plan {
            warnings: rules.warnings().to_vec(),
            summary: PlanSummary {
                variants: variants.len(),
                tiktok_skus: tiktok.len(),
                matched: matching.pairs.len(),
                ambiguous: matching.ambiguous,
                unmatched_variants: matching.unmatched_variants,
                unmatched_tiktok_skus: matching.unmatched_tiktok_skus,
                ..PlanSummary::default()
            },
            ..Plan::default()
        };
        plan.warnings.extend(matching.warnings);
        let components = Components::of(variants).holding(holds);
        let mut unreadable = HashSet::new();
        for &(v, t) in &matching.pairs {
            let (variant, sku) = (&variants[v], &tiktok[t]);
            if !variant.product_status.is_synced() {
                continue;
            }
            let mut excluded = false;
            for (m, mapping) in rules.mappings().iter().enumerate() {
                let held = components.held_of(variant, rules, m);
                // `m` is a mapping of `rules`: there is always a decision.
                let Some(decision) = rules.evaluate_in(variant, &components, m, held.units) else {
                    continue;
                };
                let evaluation = match decision {
                    Decision::Excluded { .. } => {
                        excluded = true;
                        continue;
                    }
                    Decision::Unreadable(reason) => {
                        if unreadable.insert(variant.variant_id) {
                            plan.warnings.push(Warning::BundleUnreadable {
                                sku: sku.seller_sku.trim().to_owned(),
                                variant: variant.variant_id,
                                reason,
                            });
                        }
                        continue;
                    }
                    Decision::Push(e) => e,
                };
                let Some(current) = sku
                    .stock
                    .iter()
                    .find(|s| &s.warehouse == mapping.warehouse())
                else {
                    plan.warnings.push(Warning::NotStockedInWarehouse {
                        sku: sku.seller_sku.trim().to_owned(),
                        sku_id: sku.sku_id.clone(),
                        warehouse: mapping.warehouse().clone(),
                        warehouse_name: mapping.warehouse_name().to_owned(),
                    });
                    continue;
                };
                plan.lines.push(PlanLine {
                    sku: sku.seller_sku.trim().to_owned(),
                    variant_id: variant.variant_id,
                    inventory_item_id: variant.inventory_item_id,
                    product_id: sku.product_id.clone(),
                    sku_id: sku.sku_id.clone(),
                    warehouse: mapping.warehouse().clone(),
                    warehouse_name: Arc::clone(mapping.shared_warehouse_name()),
                    quantity: evaluation.quantity,
                    current: (unknown.is_empty()
                        || !unknown.contains(&(sku.sku_id.clone(), mapping.warehouse().clone())))
                    .then_some(current.quantity),
                    explanation: rules
                        .explain_in(variant, &components, m, &evaluation, &held.orders)
                        .map(|mut text| {
                            // Held by every line until printed: no spare capacity.
                            text.shrink_to_fit();
                            text
                        })
                        .unwrap_or_default(),
                    bundle: variant.is_bundle(),
                    held: if subtracts(&evaluation) {
                        held.units
                    } else {
                        0
                    },
                    held_orders: if subtracts(&evaluation) {
                        held.orders
                    } else {
                        Vec::new()
                    },
                });
            }
            if excluded {
                plan.summary.excluded += 1;
            }
        }
        plan.warnings
            .extend(shared_components(variants, &matching.pairs, &components));
        plan.summary.count_lines(&plan.lines);
        plan
    }

    /// This plan without the lines `drop` names, its summary counting the lines kept (what
    /// is left to write when the mass-drop breaker holds some).
    pub fn without(&self, drop: impl Fn(&PlanLine) -> bool) -> Plan {
        let mut kept = self.clone();
        kept.lines.retain(|l| !drop(l));
        kept.summary.count_lines(&kept.lines);
        kept
    }

    /// The writes with the changed lines each carries, in the order they go out: writes that
    /// may lower a number first ([`WriteJob::lowers_stock`]), so that when the rate limit
    /// makes writes queue, the risk of overselling drains first; otherwise by product.
    pub fn write_jobs(&self, tiktok: &[TikTokSku]) -> Vec<WriteJob> {
        self.write_jobs_except(tiktok, |_| false)
    }

    /// [`Plan::write_jobs`] without the lines `skip` names (those the mass-drop breaker
    /// holds): what `self.without(skip).write_jobs(tiktok)` gives, without copying the plan.
    pub fn write_jobs_except(
        &self,
        tiktok: &[TikTokSku],
        skip: impl Fn(&PlanLine) -> bool,
    ) -> Vec<WriteJob> {
        self.write_batches(tiktok, skip, usize::MAX)
            .next()
            .unwrap_or_default()
    }

    /// [`Plan::write_jobs_except`] made `size` jobs at a time, in the same order: each job
    /// copies its changed lines, so a caller that writes a batch before asking for the next
    /// never holds a second copy of a large plan.
    pub fn write_batches<'a>(
        &'a self,
        tiktok: &'a [TikTokSku],
        skip: impl Fn(&PlanLine) -> bool,
        size: usize,
    ) -> WriteBatches<'a> {
        WriteBatches::new(self, tiktok, skip, size)
    }

    /// The writes that bring TikTok to the plan: one per product with changed SKUs, each SKU
    /// restating every warehouse it is stocked in (untargeted ones at their current number).
    pub fn writes(&self, tiktok: &[TikTokSku]) -> Vec<ProductWrite> {
        let mut changed: BTreeMap<(&ProductId, &SkuId), Vec<&PlanLine>> = BTreeMap::new();
        for line in self.lines.iter().filter(|l| l.changed()) {
            changed
                .entry((&line.product_id, &line.sku_id))
                .or_default()
                .push(line);
        }
        let mut products: BTreeMap<&ProductId, Vec<SkuWrite>> = BTreeMap::new();
        for sku in tiktok {
            let Some(lines) = changed.remove(&(&sku.product_id, &sku.sku_id)) else {
                continue;
            };
            products
                .entry(&sku.product_id)
                .or_default()
                .push(restating_write(sku, &lines));
        }
        products
            .into_iter()
            .map(|(product_id, skus)| ProductWrite {
                product_id: product_id.clone(),
                skus,
            })
            .collect()
    }
}

/// The write of one TikTok SKU: every warehouse it is stocked in, at the number of its line
/// among `lines` (a line of this SKU and warehouse) or else at its current number.
pub(crate) fn restating_write(sku: &TikTokSku, lines: &[&PlanLine]) -> SkuWrite {
    let stock = sku
        .stock
        .iter()
        .map(|s| WarehouseStock {
            warehouse: s.warehouse.clone(),
            quantity: lines
                .iter()
                .find(|l| l.sku_id == sku.sku_id && l.warehouse == s.warehouse)
                .map_or(s.quantity, |l| l.quantity),
        })
        .collect();
    SkuWrite {
        sku_id: sku.sku_id.clone(),
        stock,
    }
}

/// Whether held units entered the number (step 4); unlimited and fixed numbers ignore them.
fn subtracts(evaluation: &Evaluation) -> bool {
    matches!(evaluation.steps, Steps::Computed { .. })
}

/// One warning per component that is listed on TikTok on its own and inside a listed bundle.
fn shared_components(
    variants: &[VariantSnapshot],
    pairs: &[(usize, usize)],
    components: &Components<'_>,
) -> Vec<Warning> {
    if components.is_empty() {
        return Vec::new();
    }
    let listed: HashSet<usize> = pairs.iter().map(|&(v, _)| v).collect();
    let listed_ids: HashSet<VariantId> = listed.iter().map(|&v| variants[v].variant_id).collect();
    let mut shared: BTreeMap<VariantId, (String, Vec<String>)> = BTreeMap::new();
    let mut bundles: Vec<usize> = listed
        .into_iter()
        .filter(|&v| variants[v].is_bundle())
        .collect();
    bundles.sort_unstable();
    for b in bundles {
        let bundle = &variants[b];
        let bundle_sku = bundle.sku.as_ref().map_or("", |s| s.as_str());
        for c in bundle.components.iter().flatten() {
            let Some(component) = components.get(c.variant_id) else {
                continue;
            };
            if !listed_ids.contains(&component.variant_id) {
                continue;
            }
            let (_, in_bundles) = shared.entry(component.variant_id).or_insert_with(|| {
                let sku = component.sku.as_ref().map_or("", |s| s.as_str());
                (sku.to_owned(), Vec::new())
            });
            if !in_bundles.iter().any(|s| s == bundle_sku) {
                in_bundles.push(bundle_sku.to_owned());
            }
        }
    }
    shared
        .into_values()
        .map(|(sku, bundles)| Warning::SharedComponent { sku, bundles })
        .collect()
}

mod batches;
#[cfg(test)]
mod tests;

pub use batches::WriteBatches;
