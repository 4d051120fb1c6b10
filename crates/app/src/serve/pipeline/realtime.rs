//! The real-time path: the changed items waiting to be written, the live view of TikTok
//! they are planned against, and the flush that re-reads, plans and writes them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::SystemTime;

use stockbridge_domain::{
    InventoryItemId, Plan, ResolvedRules, SkuId, TikTokSku, WarehouseId, Warning,
};
use stockbridge_ports::Trigger;
use tokio_util::sync::CancellationToken;

use super::Pipeline;
use crate::reconcile::{apply_updates, jobs_for, line_statuses, SyncReport};
use crate::writer::{execute, LineStatus};

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
        Live {
            rules: report.rules,
            by_sku,
            ambiguous,
            unsure,
        }
    }
}

/// Pending items, each with the time of its earliest change not yet on TikTok, and the
/// attempts made so far for items whose write failed.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) items: BTreeMap<InventoryItemId, SystemTime>,
    topics: BTreeSet<String>,
    attempts: HashMap<InventoryItemId, u32>,
}

impl Pending {
    fn add(&mut self, item: InventoryItemId, changed_at: SystemTime) {
        let at = self.items.entry(item).or_insert(changed_at);
        *at = (*at).min(changed_at);
    }

    pub(super) fn add_all(
        &mut self,
        items: Vec<InventoryItemId>,
        topic: String,
        changed_at: SystemTime,
    ) {
        for item in items {
            self.add(item, changed_at);
        }
        self.topics.insert(topic);
    }
}

impl Pipeline {
    /// Reads the pending items, writes what changed; returns when to try again, if needed.
    pub(super) async fn flush(
        &self,
        live: &mut Live,
        pending: &mut Pending,
        cancel: &CancellationToken,
    ) -> Option<tokio::time::Instant> {
        let changed = std::mem::take(&mut pending.items);
        let items: Vec<InventoryItemId> = changed.keys().copied().collect();
        let topics = std::mem::take(&mut pending.topics);
        let trigger = if topics.is_empty() {
            Trigger::Retry
        } else {
            Trigger::Webhook(topics.into_iter().collect::<Vec<_>>().join(","))
        };
        let read = tokio::select! {
            read = self.stores.source.variants_for_items(&items) => Some(read),
            () = cancel.cancelled() => None,
        };
        let Some(read) = read else {
            pending.items.extend(changed);
            return None;
        };
        let variants = match read {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(items = items.len(), error = %e, "re-reading changed items failed; trying again");
                return self.requeue(pending, changed);
            }
        };
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
            return None;
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
                    self.metrics
                        .observe_lag(now.duration_since(changed_at).unwrap_or_default());
                }
                LineStatus::Failed(_) => {
                    // A write that failed may still have been applied: the live view keeps
                    // the old number, but the next plan restates this line.
                    live.unsure.insert(key);
                    failed.insert(line.inventory_item_id, changed_at);
                }
                LineStatus::Unchanged => {}
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
            return None;
        }
        self.requeue(pending, failed)
    }

    fn requeue(
        &self,
        pending: &mut Pending,
        items: BTreeMap<InventoryItemId, SystemTime>,
    ) -> Option<tokio::time::Instant> {
        let mut kept = 0;
        for (item, changed_at) in items {
            let attempts = pending.attempts.entry(item).or_insert(0);
            *attempts += 1;
            if *attempts < self.options.max_attempts {
                pending.add(item, changed_at);
                kept += 1;
            } else {
                pending.attempts.remove(&item);
                tracing::warn!(item = %item, "update still failing; left to the next reconciliation (it is in the audit log)");
            }
        }
        if kept == 0 {
            return None;
        }
        Some(tokio::time::Instant::now() + self.options.retry_after)
    }
}
