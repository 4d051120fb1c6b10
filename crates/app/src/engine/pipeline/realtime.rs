//! The real-time path: the live view of TikTok the changed items are planned against, and
//! the flush that re-reads, plans and writes the next batch of them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::SystemTime;

use stockbridge_domain::{
    BundleIndex, InventoryItemId, Plan, ResolvedRules, SkuId, StockLevel, TikTokSku,
    VariantSnapshot, WarehouseId, Warning,
};
use stockbridge_ports::Trigger;
use tokio_util::sync::CancellationToken;

use super::queue::Pending;
use super::{Hint, Pipeline};
use crate::engine::reconcile::{apply_updates, jobs_for, line_statuses, SyncReport};
use crate::engine::writer::{execute, LineStatus};

/// What the pipeline knows between reconciliations.
pub(super) struct Live {
    rules: ResolvedRules,
    /// TikTok SKUs by trimmed seller SKU, with the last confirmed numbers.
    by_sku: HashMap<String, Vec<TikTokSku>>,
    /// SKUs shared by several Shopify variants at the last reconciliation: never touched.
    ambiguous: HashSet<String>,
    /// (SKU, warehouse) whose last write failed, in the reconciliation or since: TikTok may
    /// hold the old number or the new one, so the next plan restates it whatever it computes.
    unsure: HashSet<(SkuId, WarehouseId)>,
    /// Shopify's `available` per item and location as last seen, read (by a reconciliation
    /// or a flush) or hinted by a webhook. It orders the re-reads, never decides a number.
    levels: HashMap<InventoryItemId, Vec<StockLevel>>,
    /// Which bundles each component feeds: a component's change re-plans them (§8).
    bundles: BundleIndex,
}

impl Live {
    pub(super) fn from_report(report: SyncReport) -> Live {
        let ambiguous = report
            .plan
            .warnings
            .iter()
            .filter_map(|w| match w {
                Warning::AmbiguousSku { sku, .. } => Some(sku.clone()),
                _ => None,
            })
            .collect();
        let unsure = report
            .plan
            .lines
            .iter()
            .zip(&report.statuses)
            .filter(|(_, status)| matches!(status, LineStatus::Failed(_)))
            .map(|(line, _)| (line.sku_id.clone(), line.warehouse.clone()))
            .collect();
        let mut by_sku: HashMap<String, Vec<TikTokSku>> = HashMap::new();
        for sku in report.tiktok {
            by_sku
                .entry(sku.seller_sku.trim().to_owned())
                .or_default()
                .push(sku);
        }
        let mut live = Live {
            rules: report.rules,
            by_sku,
            ambiguous,
            unsure,
            levels: HashMap::new(),
            bundles: BundleIndex::new(&report.variants),
        };
        live.remember(&report.variants);
        live
    }

    /// Remembers the levels Shopify answered.
    fn remember(&mut self, variants: &[VariantSnapshot]) {
        for v in variants {
            self.levels.insert(v.inventory_item_id, v.levels.clone());
        }
    }

    /// Notes the webhooks' hints and returns the items whose hinted `available` is below the
    /// one last seen (an item never seen is not among them): these are re-read first.
    pub(super) fn fallen(&mut self, hints: &[Hint]) -> HashSet<InventoryItemId> {
        let mut fallen = HashSet::new();
        for hint in hints {
            let Some(levels) = self.levels.get_mut(&hint.item) else {
                continue;
            };
            let known = match levels.iter_mut().find(|l| l.location == hint.location) {
                Some(level) => &mut level.available,
                None => {
                    // Not stocked there at the last read: it counted 0.
                    levels.push(StockLevel {
                        location: hint.location,
                        available: 0,
                    });
                    &mut levels.last_mut().expect("just pushed").available
                }
            };
            if hint.available < *known {
                fallen.insert(hint.item);
            }
            *known = hint.available;
        }
        fallen
    }
}

impl Pipeline {
    /// Reads the next batch of pending items (the urgent ones, or the oldest, at most
    /// `max_items_per_flush`), writes what changed; returns when to flush again, if needed:
    /// at once while a backlog remains, later for a retry.
    pub(super) async fn flush(
        &self,
        live: &mut Live,
        pending: &mut Pending,
        cancel: &CancellationToken,
    ) -> Option<tokio::time::Instant> {
        let batch = pending.take(self.options.max_items_per_flush);
        // What is left goes out in the next flush, without a coalescing wait.
        let backlog = (!pending.is_empty()).then(tokio::time::Instant::now);
        let items: Vec<InventoryItemId> = batch.items.keys().copied().collect();
        tracing::debug!(
            items = items.len(),
            urgent = batch.urgent,
            left = pending.len(),
            "re-reading changed items"
        );
        let trigger = if batch.topics.is_empty() {
            Trigger::Retry
        } else {
            Trigger::Webhook(batch.topics.iter().cloned().collect::<Vec<_>>().join(","))
        };
        // Bundles made of a changed item are planned with it, from all of their components.
        let to_read = live.bundles.with_bundles(&items);
        let read = tokio::select! {
            read = self.stores.source.variants_for_items(&to_read) => Some(read),
            () = cancel.cancelled() => None,
        };
        let Some(read) = read else {
            pending.put_back(batch);
            return None;
        };
        let changed = batch.items;
        let variants = match read {
            Ok(v) => v,
            Err(e) => {
                // Shopify is failing: the backlog waits for the retry too.
                tracing::warn!(items = items.len(), error = %e, "re-reading changed items failed; trying again");
                return self.requeue(pending, changed);
            }
        };
        live.remember(&variants);
        live.bundles.update(&variants);
        let mut tiktok: Vec<TikTokSku> = Vec::new();
        for v in &variants {
            let Some(sku) = &v.sku else { continue };
            if live.ambiguous.contains(sku.as_str()) {
                continue;
            }
            if let Some(skus) = live.by_sku.get(sku.as_str()) {
                tiktok.extend(skus.iter().cloned());
            }
        }
        let mut plan = Plan::build(&live.rules, &variants, &tiktok);
        for line in &mut plan.lines {
            if live
                .unsure
                .contains(&(line.sku_id.clone(), line.warehouse.clone()))
            {
                line.current = None;
            }
        }
        let jobs = jobs_for(&plan, &tiktok);
        if jobs.is_empty() {
            for item in changed.keys() {
                pending.attempts.remove(item);
            }
            return backlog;
        }
        let outcome = match execute(
            &self.stores,
            jobs,
            &trigger,
            None,
            &self.options.writer,
            cancel,
        )
        .await
        {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %e, "the state store failed while recording writes");
                return self.requeue(pending, changed);
            }
        };
        let statuses = line_statuses(&plan, &outcome.statuses);
        self.count(&statuses);
        let now = SystemTime::now();
        let mut failed = BTreeMap::new();
        for (line, status) in plan.lines.iter().zip(&statuses) {
            let changed_at = changed.get(&line.inventory_item_id).copied().unwrap_or(now);
            let key = (line.sku_id.clone(), line.warehouse.clone());
            match status {
                LineStatus::Updated => {
                    live.unsure.remove(&key);
                    let lag = now.duration_since(changed_at).unwrap_or_default();
                    self.metrics.observe_lag(lag);
                    self.latest.record_lag(now, lag);
                }
                LineStatus::Failed(_) => {
                    // A write that failed may still have been applied: the live view keeps
                    // the old number, but the next plan restates this line.
                    live.unsure.insert(key);
                    failed.insert(line.inventory_item_id, changed_at);
                }
                // A real-time change is never held by the breaker.
                LineStatus::Unchanged | LineStatus::Held => {}
            }
        }
        for item in changed.keys().filter(|i| !failed.contains_key(i)) {
            pending.attempts.remove(item);
        }
        // Remember what TikTok holds now, for the next restatement.
        let mut updated = tiktok;
        apply_updates(&mut updated, &plan, &statuses);
        for sku in updated {
            if let Some(known) = live.by_sku.get_mut(sku.seller_sku.trim()) {
                if let Some(slot) = known.iter_mut().find(|k| k.sku_id == sku.sku_id) {
                    *slot = sku;
                }
            }
        }
        if failed.is_empty() {
            return backlog;
        }
        // Failed items queue again behind the backlog, if there is one.
        let retry = self.requeue(pending, failed);
        backlog.or(retry)
    }

    fn requeue(
        &self,
        pending: &mut Pending,
        items: BTreeMap<InventoryItemId, SystemTime>,
    ) -> Option<tokio::time::Instant> {
        for (item, changed_at) in items {
            let attempts = pending.attempts.entry(item).or_insert(0);
            *attempts += 1;
            if *attempts < self.options.max_attempts {
                pending.add(item, changed_at, None, false);
            } else {
                pending.attempts.remove(&item);
                tracing::warn!(item = %item, "update still failing; left to the next reconciliation (it is in the audit log)");
            }
        }
        // Items left in the queue wait for the retry too, even when these were given up.
        if pending.is_empty() {
            return None;
        }
        Some(tokio::time::Instant::now() + self.options.retry_after)
    }
}
