//! The real-time pipeline: changes from webhooks are coalesced for a short window, and one
//! write per TikTok product sent. An `inventory_levels/update` whose number is provably the
//! newest (its `updated_at` strictly later than the level's as last read or applied) is
//! applied without a Shopify read; every other change re-reads its items from Shopify, many
//! items per query (so duplicated or out-of-order deliveries can never push a stale number).
//! Spare Shopify capacity re-reads the items whose numbers were trusted, and a read that
//! contradicts one corrects it at once. When Shopify's rate limit makes a backlog, items a
//! webhook hinted had fallen go first, and each flush is bounded, so a fall waits for one
//! flush at most. Full reconciliations run in the same task, at start, on a schedule and
//! after location changes, so they never interleave with the rest.

mod queue;
mod realtime;
mod verify;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use stockbridge_domain::{Breaker, InventoryItemId, LocationId, RuleSet, UpdatedAt};
use stockbridge_ports::RunKind;
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::latest::{Latest, LatestPlan};
use super::metrics::Metrics;
use super::reconcile::{reconcile_guarded, EngineError};
use super::writer::WriterOptions;
use super::Stores;
use queue::Pending;
use stockbridge_domain::LineStatus;
use stockbridge_domain::LiveView;
use verify::Checks;

/// How long processed webhook ids are kept for deduplication.
pub const WEBHOOK_ID_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// What an `inventory_levels/update` says an item's `available` became at a location, and
/// when. Applied without a read when provably the newest (the domain's trust rule,
/// `LiveView::offer`); otherwise it only orders the re-reads (an item whose number fell
/// goes first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint {
    /// The item.
    pub item: InventoryItemId,
    /// Where.
    pub location: LocationId,
    /// The `available` the webhook carries (null for an untracked item).
    pub available: Option<i64>,
    /// The payload's `updated_at`.
    pub updated_at: Option<UpdatedAt>,
}

/// A change the pipeline acts on.
#[derive(Debug, Clone)]
pub enum Change {
    /// These inventory items changed in Shopify.
    Items {
        /// The items.
        items: Vec<InventoryItemId>,
        /// What the webhook says their numbers became, when it says (`inventory_levels/update`).
        hints: Vec<Hint>,
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
    /// An operator approved the writes the mass-drop breaker held: a full reconciliation
    /// with the breaker off.
    AcceptDrops,
}

/// How the pipeline runs.
#[derive(Clone)]
pub struct PipelineOptions {
    /// How long changes are collected before one read and one write.
    pub coalesce_window: Duration,
    /// The most items one flush re-reads from Shopify; the rest go out in the next flush, at
    /// once.
    pub max_items_per_flush: usize,
    /// Full reconciliation interval.
    pub reconcile_every: Duration,
    /// How writes are executed.
    pub writer: WriterOptions,
    /// Wait before a failed real-time update is tried again, and before a failed
    /// reconciliation is while none has succeeded.
    pub retry_after: Duration,
    /// Attempts of a real-time update before it is left to the next reconciliation.
    pub max_attempts: u32,
    /// The longest a stop waits for changes already received to be written: no write starts
    /// later than this after the stop, the flush under way included.
    pub final_flush_limit: Duration,
    /// When a full reconciliation holds its zeroing writes (`[safety]`).
    pub breaker: Breaker,
    /// For a shop of a fleet worker: what its shops share (`None` for one shop).
    pub fleet: Option<FleetShare>,
}

/// What the shops of one fleet worker share, so that shops taken together do not reconcile
/// together for ever after.
#[derive(Clone)]
pub struct FleetShare {
    /// Permits of the scheduled reconciliations: one is taken for the length of each. A shop
    /// whose reconciliation is due while all are taken keeps acting on its changes and tries
    /// again a second or two later.
    pub scheduled: Arc<Semaphore>,
    /// How many of the worker's shops wait to start (their first reconciliation not begun):
    /// while any does, scheduled reconciliations wait, since a shop not started syncs nothing
    /// and a started one only misses a safety net for a while.
    pub starting: Arc<AtomicUsize>,
}

/// When the first scheduled reconciliation of a fleet shop comes, after its start-up one: at
/// a random point of the second half of `every` (`draw` in 0..1), so that shops taken at the
/// same moment come due spread over half an interval, and each at least every `every`.
pub fn first_schedule(every: Duration, draw: f64) -> Duration {
    every.mul_f64(0.5 + 0.5 * draw.clamp(0.0, 1.0))
}

/// The pipeline task: reconciles in full at start, then acts on changes until `stop` fires
/// and the queue's sending side is gone, writes what was received and returns.
pub struct Pipeline {
    /// The ports.
    pub stores: Stores,
    /// The merchant's rules.
    pub rules: RuleSet,
    /// Options.
    pub options: PipelineOptions,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Set to true once a reconciliation has succeeded (for `/healthz`).
    pub ready: watch::Sender<bool>,
    /// The last full reconciliation's plan (for the console).
    pub latest: Arc<Latest>,
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Pipeline {
    /// Runs the pipeline. A full reconciliation runs at start, every `reconcile_every` however
    /// busy the queue, and on [`Change::Reconcile`]; one that fails is tried again after
    /// `retry_after` until one has succeeded.
    ///
    /// After `stop`, changes still arrive while the server finishes the requests under way:
    /// they are taken until every sender is dropped, then written; writes stop starting
    /// `final_flush_limit` after `stop`, the flush already under way included.
    ///
    /// Returns an error, without waiting for `stop`, when no reconciliation has succeeded yet
    /// and one fails because the configuration or the credentials are wrong
    /// ([`EngineError::is_configuration`]): serving could never sync anything.
    pub async fn run(
        self,
        mut changes: mpsc::UnboundedReceiver<Change>,
        stop: CancellationToken,
    ) -> Result<(), EngineError> {
        let writes_cancel = CancellationToken::new();
        let _limit = AbortOnDrop(tokio::spawn({
            let (stop, writes_cancel) = (stop.clone(), writes_cancel.clone());
            let limit = self.options.final_flush_limit;
            async move {
                stop.cancelled().await;
                tokio::time::sleep(limit).await;
                writes_cancel.cancel();
            }
        }));
        let mut live = None;
        self.reconcile_into("start-up", &mut live, &stop).await?;
        // A reconciliation asked for while one runs waits here; however many are asked for
        // meanwhile, one more runs (webhooks replayed by the thousand cost one).
        let mut reconcile_asked: Option<String> = None;
        let mut pending = Pending::default();
        let mut checks = Checks::default();
        let mut deadline: Option<tokio::time::Instant> = None;
        // When trusted numbers are next checked against Shopify.
        let mut check_at: Option<tokio::time::Instant> = None;
        let mut next_reconcile = match (&self.options.fleet, &live) {
            (Some(_), Some(_)) => {
                let draw: f64 = rand::random();
                tokio::time::Instant::now() + first_schedule(self.options.reconcile_every, draw)
            }
            _ => self.next_reconcile(&live),
        };
        loop {
            self.metrics.set_queue_depth(pending.len());
            // The schedule comes before the queue, so that a steady stream of changes never
            // holds it back; queued changes come before the flush, so that changes that
            // arrived during the last flush go out together in the next one.
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                () = tokio::time::sleep_until(next_reconcile) => {
                    let Ok(_permit) = self.scheduled_permit(&live) else {
                        let draw: f64 = rand::random();
                        next_reconcile = tokio::time::Instant::now()
                            + Duration::from_secs(1).mul_f64(1.0 + draw);
                        continue;
                    };
                    let reason = if live.is_some() { "schedule" } else { "retry" };
                    self.reconcile_into(reason, &mut live, &stop).await?;
                    next_reconcile = self.next_reconcile(&live);
                }
                change = changes.recv() => match change {
                    None => break,
                    Some(Change::Items { mut items, hints, topic, changed_at, received }) => {
                        let bound = self.options.max_items_per_flush;
                        if live.as_ref().is_some_and(|l| realtime::drop_unknown_past(l, &mut items, bound)) {
                            tracing::info!(topic = %topic, "a webhook named more unknown items than one flush reads: a reconciliation reads them instead");
                            reconcile_asked.get_or_insert(format!("{topic} naming unknown items"));
                            if items.is_empty() {
                                continue;
                            }
                        }
                        let (fallen, applied) = live.as_mut().map(|l| self.offer(l, &hints)).unwrap_or_default();
                        if checks.note(&applied) {
                            check_at.get_or_insert_with(|| tokio::time::Instant::now() + verify::CHECK_EVERY);
                        }
                        pending.add_all(items, &topic, changed_at, &fallen, &applied);
                        let due = received + self.options.coalesce_window;
                        deadline = Some(deadline.map_or(due, |d| d.min(due)));
                    }
                    Some(Change::Reconcile { reason }) => {
                        reconcile_asked.get_or_insert(reason);
                    }
                    Some(Change::AcceptDrops) => {

                        self.reconcile_with(&Breaker::off(), "drops accepted", &mut live, &stop).await?;
                        next_reconcile = self.next_reconcile(&live);
                    }
                },
                // After the queued changes, so that every request already queued joins it.
                () = std::future::ready(()), if reconcile_asked.is_some() => {
                    let reason = reconcile_asked.take().unwrap_or_default();
                    self.reconcile_into(&reason, &mut live, &stop).await?;
                    next_reconcile = self.next_reconcile(&live);
                }
                // Without a live view (no reconciliation has succeeded yet), changes wait
                // for the next attempt.
                () = tokio::time::sleep_until(deadline.unwrap_or(next_reconcile)),
                    if deadline.is_some() && live.is_some() =>
                {
                    if let Some(l) = live.as_mut() {
                        deadline = self.flush(l, &mut pending, &writes_cancel).await;
                    }
                }
                // Last: checks of trusted numbers use what the changes leave of Shopify's
                // capacity.
                () = tokio::time::sleep_until(check_at.unwrap_or(next_reconcile)),
                    if check_at.is_some() && live.is_some() =>
                {
                    if let Some(l) = live.as_mut() {
                        check_at = self.check(l, &mut checks, &writes_cancel).await;
                    }
                }
            }
        }
        // Stopping. The server is still finishing the requests under way, and what it
        // acknowledged is written too: take changes until its side of the queue is gone.
        // Reconciliation requests are left to the next start-up reconciliation.
        loop {
            let change = tokio::select! {
                biased;
                change = changes.recv() => change,
                () = writes_cancel.cancelled() => None,
            };
            match change {
                None => break,
                Some(Change::Items {
                    items,
                    hints,
                    topic,
                    changed_at,
                    ..
                }) => {
                    let (fallen, applied) = live
                        .as_mut()
                        .map(|l| self.offer(l, &hints))
                        .unwrap_or_default();
                    pending.add_all(items, &topic, changed_at, &fallen, &applied);
                }
                Some(Change::Reconcile { .. } | Change::AcceptDrops) => {}
            }
        }
        // Each item is tried once: enough bounded flushes to take every one.
        let flushes = pending
            .len()
            .div_ceil(self.options.max_items_per_flush.max(1));
        if let Some(l) = live.as_mut() {
            for _ in 0..flushes {
                if writes_cancel.is_cancelled() {
                    break;
                }
                self.flush(l, &mut pending, &writes_cancel).await;
            }
        }
        if !pending.is_empty() || writes_cancel.is_cancelled() {
            // Bounded, so that a stop is never held by a long backlog or a slow store.
            tracing::warn!(items = pending.len(), "stopped before every change was written; the next start-up reconciliation writes the rest");
        }
        self.metrics.set_queue_depth(0);
        Ok(())
    }

    /// When the next full reconciliation is due: soon while none has succeeded.
    /// The permit a scheduled reconciliation of a fleet shop runs under (`None`: it needs
    /// none: one shop, or no reconciliation succeeded yet); `Err` when all are taken or a
    /// shop of the worker waits to start.
    fn scheduled_permit(
        &self,
        live: &Option<LiveView>,
    ) -> Result<Option<OwnedSemaphorePermit>, ()> {
        match (&self.options.fleet, live) {
            (Some(fleet), Some(_)) => {
                if fleet.starting.load(Ordering::Acquire) > 0 {
                    return Err(());
                }
                fleet
                    .scheduled
                    .clone()
                    .try_acquire_owned()
                    .map(Some)
                    .map_err(drop)
            }
            _ => Ok(None),
        }
    }

    fn next_reconcile(&self, live: &Option<LiveView>) -> tokio::time::Instant {
        let wait = if live.is_some() {
            self.options.reconcile_every
        } else {
            self.options.retry_after
        };
        tokio::time::Instant::now() + wait
    }

    /// Runs a full reconciliation. A success replaces the live view and makes the server
    /// ready; a failure keeps the last view, or ends the pipeline when the configuration is
    /// wrong and no reconciliation has succeeded yet.
    async fn reconcile_into(
        &self,
        reason: &str,
        live: &mut Option<LiveView>,
        cancel: &CancellationToken,
    ) -> Result<(), EngineError> {
        self.reconcile_with(&self.options.breaker, reason, live, cancel)
            .await
    }

    /// [`Self::reconcile_into`] with this breaker.
    async fn reconcile_with(
        &self,
        breaker: &Breaker,
        reason: &str,
        live: &mut Option<LiveView>,
        cancel: &CancellationToken,
    ) -> Result<(), EngineError> {
        match self.full_reconcile(breaker, reason, cancel).await {
            Ok(fresh) => {
                *live = Some(fresh);
                self.ready.send_replace(true);
                Ok(())
            }
            Err(e) if live.is_none() && e.is_configuration() => Err(e),
            Err(_) => Ok(()),
        }
    }

    async fn full_reconcile(
        &self,
        breaker: &Breaker,
        reason: &str,
        cancel: &CancellationToken,
    ) -> Result<LiveView, EngineError> {
        let started = Instant::now();
        // Shopify retries a delivery for up to 4 hours; ids older than a day cannot recur.
        let horizon = SystemTime::now() - WEBHOOK_ID_RETENTION;
        if let Err(e) = self.stores.store.forget_webhooks_before(horizon).await {
            tracing::warn!(error = %e, "could not prune processed webhook ids");
        }
        let result = reconcile_guarded(
            &self.stores,
            &self.rules,
            breaker,
            RunKind::Reconcile,
            &self.options.writer,
            cancel,
        )
        .await;
        self.metrics.set_last_reconcile(started.elapsed());
        match &result {
            Ok(report) => {
                Metrics::inc(&self.metrics.reconciles_ok);
                self.metrics.set_configuration_problem(None);
                let held = report
                    .verdict
                    .tripped
                    .then(|| report.verdict.reason(breaker));
                if let Some(why) = &held {
                    // An operator must act: approve the held writes or fix the rules.
                    tracing::error!(
                        reason,
                        zeroed = report.verdict.zeroed,
                        above_zero = report.verdict.above_zero,
                        "{why}"
                    );
                }
                self.metrics.set_breaker(held);
                self.count(&report.statuses);
                self.latest.set(LatestPlan {
                    plan: report.plan.clone(),
                    at: SystemTime::now(),
                    run_id: report.run_id,
                });
                tracing::info!(
                    reason,
                    lines = report.counts.lines,
                    updated = report.counts.updated,
                    failed = report.counts.failed,
                    ms = started.elapsed().as_millis() as u64,
                    "reconciled"
                );
            }
            Err(EngineError::Interrupted) => {
                tracing::info!(reason, "reconciliation stopped by shutdown before writing");
            }
            Err(e) => {
                Metrics::inc(&self.metrics.reconciles_failed);
                if e.is_configuration() {
                    self.metrics.set_configuration_problem(Some(e.to_string()));
                    tracing::error!(reason, error = %e, "reconciliation impossible: fix the configuration");
                } else {
                    tracing::warn!(reason, error = %e, "reconciliation failed; it runs again on schedule");
                }
            }
        }
        result.map(realtime::live_view)
    }

    fn count(&self, statuses: &[LineStatus]) {
        for s in statuses {
            match s {
                LineStatus::Updated => Metrics::inc(&self.metrics.writes_updated),
                LineStatus::Failed(_) => Metrics::inc(&self.metrics.writes_failed),
                LineStatus::Unchanged | LineStatus::Held => {}
            }
        }
    }
}
