//! The real-time path: webhook payloads offered to the domain's trust rule, and the flush
//! that takes the next batch of changed items, reads those that need it from Shopify in as
//! few queries as the cost limits allow, plans them with the trusted ones against the
//! domain's live view of TikTok ([`LiveView`]), writes, and records the outcomes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::SystemTime;

use stockbridge_domain::{
    Holds, InventoryItemId, LevelPayload, LineStatus, LivePlan, LiveView, Offer, WriteJob,
};
use stockbridge_ports::Trigger;
use tokio_util::sync::CancellationToken;

use super::queue::Pending;
use super::{Hint, Metrics, Pipeline};
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

/// `jobs` (in the order the domain sends them: those that may lower a number first) with,
/// among those that may lower a number and among the others, the writes of the items that
/// have waited longest first (`arrived` lists the items in the order they joined the queue):
/// the change that opened the coalescing window has already waited all of it, the one that
/// arrived just before the flush hardly at all. An item not in `arrived` (a bundle planned
/// with its component) goes with the last.
pub(super) fn longest_waiting_first(
    mut jobs: Vec<WriteJob>,
    arrived: &[InventoryItemId],
) -> Vec<WriteJob> {
    let place: HashMap<InventoryItemId, usize> = arrived
        .iter()
        .enumerate()
        .map(|(n, item)| (*item, n))
        .collect();
    let waited = |job: &WriteJob| {
        job.lines
            .iter()
            .filter_map(|line| place.get(&line.inventory_item_id).copied())
            .min()
            .unwrap_or(usize::MAX)
    };
    jobs.sort_by_cached_key(|job| (!job.lowers_stock(), waited(job)));
    jobs
}

impl Pipeline {
    /// Offers the webhooks' payloads to the view's trust rule: the items whose `available`
    /// fell (they go first), and those whose payload was applied (no read needed).
    pub(super) fn offer(
        &self,
        live: &mut LiveView,
        hints: &[Hint],
    ) -> (HashSet<InventoryItemId>, HashSet<InventoryItemId>) {
        let mut fallen = HashSet::new();
        let mut applied = HashSet::new();
        // An item with one payload applied and another not (two levels of it in one change)
        // is read: what was not applied may differ from what is known.
        let mut reread = HashSet::new();
        for hint in hints {
            let payload = LevelPayload {
                item: hint.item,
                location: hint.location,
                available: hint.available,
                updated_at: hint.updated_at,
            };
            let fell = match live.offer(&payload) {
                Offer::Applied { fell } => {
                    Metrics::inc(&self.metrics.payloads_applied);
                    applied.insert(hint.item);
                    fell
                }
                Offer::Reread { fell, why } => {
                    Metrics::inc(&self.metrics.payloads_reread);
                    tracing::debug!(item = %hint.item, reason = ?why, "payload not applied; re-reading the item");
                    reread.insert(hint.item);
                    fell
                }
            };
            if fell {
                fallen.insert(hint.item);
            }
        }
        applied.retain(|item| !reread.contains(item));
        (fallen, applied)
    }

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
            to_read = batch.to_read.len(),
            urgent = batch.urgent,
            left = pending.len(),
            "flushing changed items"
        );
        let trigger = if batch.topics.is_empty() {
            Trigger::Retry
        } else {
            Trigger::Webhook(batch.topics.iter().cloned().collect::<Vec<_>>().join(","))
        };
        let read_at = SystemTime::now();
        // Bundles made of a changed item are planned with it, from all of their components:
        // read with it, or taken from what is known when its payload was applied.
        let reread: Vec<InventoryItemId> = batch.to_read.iter().copied().collect();
        let mut to_read = live.to_read(&reread);
        let trusted: Vec<InventoryItemId> = items
            .iter()
            .filter(|i| !batch.to_read.contains(i))
            .copied()
            .collect();
        let mut known = Vec::new();
        for item in live.to_read(&trusted) {
            if to_read.contains(&item) {
                continue;
            }
            if live.knows(item) {
                known.push(item);
            } else {
                to_read.push(item);
            }
        }
        let read = if to_read.is_empty() {
            Some(Ok(Vec::new()))
        } else {
            tokio::select! {
                read = self.stores.source.variants_for_items(&to_read) => Some(read),
                () = cancel.cancelled() => None,
            }
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
        let planned = live.plan_with_known(&variants, &known, &holds);
        self.count_mismatches(&planned);
        let jobs = longest_waiting_first(planned.write_jobs(), &batch.arrived);
        let Some(statuses) = self.write(live, &planned, jobs, &trigger, cancel).await else {
            return self.requeue(pending, changed);
        };
        if statuses.is_empty() {
            for item in changed.keys() {
                pending.attempts.remove(item);
            }
            return backlog;
        }
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

    /// Sends `jobs`, the writes of `planned`, and records the outcomes in the view; the
    /// status of each line (none when nothing needed writing), or `None` when the state store
    /// failed.
    pub(super) async fn write(
        &self,
        live: &mut LiveView,
        planned: &LivePlan,
        jobs: Vec<WriteJob>,
        trigger: &Trigger,
        cancel: &CancellationToken,
    ) -> Option<Vec<LineStatus>> {
        if jobs.is_empty() {
            return Some(Vec::new());
        }
        let outcome = match execute(
            &self.stores,
            jobs,
            trigger,
            None,
            &self.options.writer,
            cancel,
        )
        .await
        {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %e, "the state store failed while recording writes");
                return None;
            }
        };
        let statuses = planned.plan.statuses(&outcome.statuses);
        self.count(&statuses);
        live.record(planned, &statuses);
        Some(statuses)
    }

    /// Counts and reports the trusted numbers a read contradicted; the plan corrects them.
    pub(super) fn count_mismatches(&self, planned: &LivePlan) {
        for m in &planned.mismatches {
            Metrics::inc(&self.metrics.payload_mismatch);
            tracing::warn!(
                item = %m.item,
                location = %m.location,
                trusted = m.trusted,
                read = m.read,
                "a webhook's number applied without a read differs from Shopify's at the same time; correcting it"
            );
        }
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
                pending.add(item, changed_at, None, false, true);
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
