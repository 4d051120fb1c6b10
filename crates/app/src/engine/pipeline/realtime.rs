//! The real-time path: the flush that re-reads the next batch of changed items, plans them
//! against the domain's live view of TikTok ([`LiveView`]), writes, and records the outcomes.

use std::collections::{BTreeMap, HashSet};
use std::time::SystemTime;

use stockbridge_domain::{Holds, InventoryItemId, LineStatus, LiveView};
use stockbridge_ports::Trigger;
use tokio_util::sync::CancellationToken;

use super::queue::Pending;
use super::{Hint, Pipeline};
use crate::engine::reconcile::SyncReport;
use crate::engine::writer::execute;

/// The live view a full reconciliation leaves.
pub(super) fn live_view(report: SyncReport) -> LiveView {
    LiveView::after_reconcile(
        report.rules,
        &report.variants,
        report.tiktok,
        &report.plan,
        &report.statuses,
    )
}

/// When more than `bound` of `items` are unknown to the live view (the last reconciliation
/// did not read them), drops those and says so: reading them one flush at a time would cost
/// more Shopify reads than one reconciliation, which reads every item there is. A few
/// unknown items (a new product's variants) are kept and re-read.
pub(super) fn drop_unknown_past(
    live: &LiveView,
    items: &mut Vec<InventoryItemId>,
    bound: usize,
) -> bool {
    let unknown = items.iter().filter(|item| !live.knows(**item)).count();
    if unknown <= bound {
        return false;
    }
    items.retain(|item| live.knows(*item));
    true
}

/// Notes the webhooks' hints in the view; the items whose `available` fell (re-read first).
pub(super) fn fallen(live: &mut LiveView, hints: &[Hint]) -> HashSet<InventoryItemId> {
    hints
        .iter()
        .filter(|h| live.note_level(h.item, h.location, h.available))
        .map(|h| h.item)
        .collect()
}

impl Pipeline {
    /// Reads the next batch of pending items (the urgent ones, or the oldest, at most
    /// `max_items_per_flush`), writes what changed; returns when to flush again, if needed:
    /// at once while a backlog remains, later for a retry.
    pub(super) async fn flush(
        &self,
        live: &mut LiveView,
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
        let read_at = SystemTime::now();
        // Bundles made of a changed item are planned with it, from all of their components.
        let to_read = live.to_read(&items);
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
        let holds = match &self.stores.holds {
            Some(book) => {
                // Orders TikTok has taken but the ledger is still reading must count.
                book.settled().await;
                book.holds(read_at, &[])
            }
            None => Holds::none(),
        };
        let planned = live.plan_holding(&variants, &holds);
        let jobs = planned.write_jobs();
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
        let statuses = planned.plan.statuses(&outcome.statuses);
        self.count(&statuses);
        live.record(&planned, &statuses);
        let now = SystemTime::now();
        let mut failed = BTreeMap::new();
        for (line, status) in planned.plan.lines.iter().zip(&statuses) {
            let changed_at = changed.get(&line.inventory_item_id).copied().unwrap_or(now);
            match status {
                LineStatus::Updated => {
                    let lag = now.duration_since(changed_at).unwrap_or_default();
                    self.metrics.observe_lag(lag);
                    self.latest.record_lag(now, lag);
                }
                // A write that failed may still have been applied: the live view restates
                // the line in its next plan.
                LineStatus::Failed(_) => {
                    failed.insert(line.inventory_item_id, changed_at);
                }
                // A real-time change is never held by the breaker.
                LineStatus::Unchanged | LineStatus::Held => {}
            }
        }
        for item in changed.keys().filter(|i| !failed.contains_key(i)) {
            pending.attempts.remove(item);
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
