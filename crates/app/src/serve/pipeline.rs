//! The real-time pipeline: changes from webhooks are coalesced for a short window, the
//! affected inventory items re-read from Shopify (so duplicated or out-of-order deliveries
//! can never push a stale number), and one write per TikTok product sent. Full
//! reconciliations run in the same task, at start, on a schedule and after location
//! changes, so the two never interleave.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use stockbridge_domain::{InventoryItemId, Plan, ResolvedRules, RuleSet, TikTokSku, Warning};
use stockbridge_ports::{RunKind, Trigger};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::metrics::Metrics;
use crate::reconcile::{
    apply_updates, jobs_for, line_statuses, reconcile, EngineError, Stores, SyncReport,
};
use crate::writer::{execute, LineStatus, WriterOptions};

/// How long processed webhook ids are kept for deduplication.
pub const WEBHOOK_ID_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// A change the pipeline acts on.
#[derive(Debug, Clone)]
pub enum Change {
    /// These inventory items changed in Shopify.
    Items {
        /// The items.
        items: Vec<InventoryItemId>,
        /// The webhook topic (the audit log's trigger).
        topic: String,
        /// When Shopify says the change happened.
        changed_at: SystemTime,
        /// When the webhook arrived: the coalescing window runs from here, so a change that
        /// queued behind a flush goes out in the next one at once.
        received: tokio::time::Instant,
    },
    /// Something changed that needs a full reconciliation (a location).
    Reconcile {
        /// Why.
        reason: String,
    },
}

/// How the pipeline runs.
#[derive(Clone)]
pub struct PipelineOptions {
    /// How long changes are collected before one read and one write.
    pub coalesce_window: Duration,
    /// Full reconciliation interval.
    pub reconcile_every: Duration,
    /// How writes are executed.
    pub writer: WriterOptions,
    /// Wait before a failed real-time update is tried again.
    pub retry_after: Duration,
    /// Attempts of a real-time update before it is left to the next reconciliation.
    pub max_attempts: u32,
    /// The longest a stop waits for changes already received to be written.
    pub final_flush_limit: Duration,
}

/// What the pipeline knows between reconciliations.
struct Live {
    rules: ResolvedRules,
    /// TikTok SKUs by trimmed seller SKU, with the last confirmed numbers.
    by_sku: HashMap<String, Vec<TikTokSku>>,
    /// SKUs shared by several Shopify variants at the last reconciliation: never touched.
    ambiguous: HashSet<String>,
}

impl Live {
    fn from_report(report: SyncReport) -> Live {
        let ambiguous = report
            .plan
            .warnings
            .iter()
            .filter_map(|w| match w {
                Warning::AmbiguousSku { sku, .. } => Some(sku.clone()),
                _ => None,
            })
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
        }
    }
}

/// Pending items, each with the time of its earliest change not yet on TikTok, and the
/// attempts made so far for items whose write failed.
#[derive(Default)]
struct Pending {
    items: BTreeMap<InventoryItemId, SystemTime>,
    topics: BTreeSet<String>,
    attempts: HashMap<InventoryItemId, u32>,
}

impl Pending {
    fn add(&mut self, item: InventoryItemId, changed_at: SystemTime) {
        let at = self.items.entry(item).or_insert(changed_at);
        *at = (*at).min(changed_at);
    }

    fn add_all(&mut self, items: Vec<InventoryItemId>, topic: String, changed_at: SystemTime) {
        for item in items {
            self.add(item, changed_at);
        }
        self.topics.insert(topic);
    }
}

/// The pipeline task. Runs until `stop` fires, then flushes what is pending and returns.
pub struct Pipeline {
    /// The ports.
    pub stores: Stores,
    /// The merchant's rules.
    pub rules: RuleSet,
    /// Options.
    pub options: PipelineOptions,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Set to true after the first reconciliation finished (for `/healthz`).
    pub ready: watch::Sender<bool>,
}

impl Pipeline {
    /// Runs the pipeline.
    pub async fn run(self, mut changes: mpsc::UnboundedReceiver<Change>, stop: CancellationToken) {
        let writes_cancel = CancellationToken::new();
        let mut live = self.full_reconcile("start-up", &stop).await;
        let _ = self.ready.send(true);
        let mut pending = Pending::default();
        let mut deadline: Option<tokio::time::Instant> = None;
        let mut next_reconcile = tokio::time::Instant::now() + self.options.reconcile_every;
        loop {
            self.metrics
                .queue_depth
                .store(pending.items.len() as u64, Ordering::Relaxed);
            let flush_at = deadline.unwrap_or(next_reconcile);
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                change = changes.recv() => match change {
                    None => break,
                    Some(Change::Items { items, topic, changed_at, received }) => {
                        pending.add_all(items, topic, changed_at);
                        let due = received + self.options.coalesce_window;
                        deadline = Some(deadline.map_or(due, |d| d.min(due)));
                    }
                    Some(Change::Reconcile { reason }) => {
                        live = self.full_reconcile(&reason, &stop).await.or(live);
                        next_reconcile = tokio::time::Instant::now() + self.options.reconcile_every;
                    }
                },
                () = tokio::time::sleep_until(flush_at) => {
                    if deadline.is_some() {
                        deadline = match live.as_mut() {
                            Some(l) => self.flush(l, &mut pending, &writes_cancel).await,
                            None => {
                                // No reconciliation has succeeded yet: try again now, then flush.
                                live = self.full_reconcile("retry", &stop).await;
                                Some(tokio::time::Instant::now() + self.options.retry_after)
                            }
                        };
                    } else {
                        live = self.full_reconcile("schedule", &stop).await.or(live);
                        next_reconcile = tokio::time::Instant::now() + self.options.reconcile_every;
                    }
                }
            }
        }
        // Stopping: what was received is still written, then the task ends.
        while let Ok(Change::Items {
            items,
            topic,
            changed_at,
            ..
        }) = changes.try_recv()
        {
            pending.add_all(items, topic, changed_at);
        }
        if let Some(l) = live.as_mut() {
            if !pending.items.is_empty() {
                // Bounded, so that a stop is never held by a long backlog: writes in flight
                // finish, no new ones start after the limit, and the start-up reconciliation
                // of the next run brings TikTok in line.
                let limit = writes_cancel.clone();
                let final_flush_limit = self.options.final_flush_limit;
                let timer = tokio::spawn(async move {
                    tokio::time::sleep(final_flush_limit).await;
                    limit.cancel();
                });
                self.flush(l, &mut pending, &writes_cancel).await;
                timer.abort();
                if !pending.items.is_empty() || writes_cancel.is_cancelled() {
                    tracing::warn!(items = pending.items.len(), "stopped before every change was written; the next start-up reconciliation writes the rest");
                }
            }
        }
        self.metrics.queue_depth.store(0, Ordering::Relaxed);
    }

    async fn full_reconcile(&self, reason: &str, cancel: &CancellationToken) -> Option<Live> {
        let started = Instant::now();
        // Shopify retries a delivery for up to 4 hours; ids older than a day cannot recur.
        let horizon = SystemTime::now() - WEBHOOK_ID_RETENTION;
        if let Err(e) = self.stores.store.forget_webhooks_before(horizon).await {
            tracing::warn!(error = %e, "could not prune processed webhook ids");
        }
        let result = reconcile(
            &self.stores,
            &self.rules,
            RunKind::Reconcile,
            &self.options.writer,
            cancel,
        )
        .await;
        self.metrics
            .last_reconcile_ms
            .store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        match result {
            Ok(report) => {
                Metrics::inc(&self.metrics.reconciles_ok);
                self.count(&report.statuses);
                tracing::info!(
                    reason,
                    lines = report.counts.lines,
                    updated = report.counts.updated,
                    failed = report.counts.failed,
                    ms = started.elapsed().as_millis() as u64,
                    "reconciled"
                );
                Some(Live::from_report(report))
            }
            Err(EngineError::Interrupted) => {
                tracing::info!(reason, "reconciliation stopped by shutdown before writing");
                None
            }
            Err(e) => {
                Metrics::inc(&self.metrics.reconciles_failed);
                if e.is_configuration() {
                    tracing::error!(reason, error = %e, "reconciliation impossible: fix the configuration");
                } else {
                    tracing::warn!(reason, error = %e, "reconciliation failed; it runs again on schedule");
                }
                None
            }
        }
    }

    fn count(&self, statuses: &[LineStatus]) {
        for s in statuses {
            match s {
                LineStatus::Updated => Metrics::inc(&self.metrics.writes_updated),
                LineStatus::Failed(_) => Metrics::inc(&self.metrics.writes_failed),
                LineStatus::Unchanged => {}
            }
        }
    }

    /// Reads the pending items, writes what changed; returns when to try again, if needed.
    async fn flush(
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
        let plan = Plan::build(&live.rules, &variants, &tiktok);
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
            match status {
                LineStatus::Updated => {
                    self.metrics
                        .observe_lag(now.duration_since(changed_at).unwrap_or_default());
                }
                LineStatus::Failed(_) => {
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
