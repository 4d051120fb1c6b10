//! A full reconciliation: read both stores, resolve the rules, plan, write what differs,
//! record the run. `sync` runs it once; `serve` runs it at start and on a schedule.

use std::sync::Arc;
use std::time::SystemTime;

use stockbridge_domain::{
    resolve, Breaker, Holds, LineCounts, LineStatus, Plan, ResolvedRules, RuleError, RuleSet,
    TikTokSku, VariantSnapshot, Verdict, WriteBatches,
};
use stockbridge_ports::{
    HeldWrite, RunCounts, RunEnd, RunId, RunKind, RunOutcome, SinkError, SourceError, StoreError,
    Trigger,
};
use tokio_util::sync::CancellationToken;

use super::writer::{execute, BatchOutcome, Progress, WriterOptions};
use super::Stores;

/// Why a reconciliation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Reading Shopify failed.
    #[error("reading Shopify failed: {0}")]
    Source(#[from] SourceError),
    /// Reading TikTok Shop failed.
    #[error("reading TikTok Shop failed: {0}")]
    Sink(#[from] SinkError),
    /// The state store failed.
    #[error("the state store failed: {0}")]
    Store(#[from] StoreError),
    /// Reading the TikTok orders in flight failed.
    #[error("{0}")]
    Holds(#[from] super::HoldError),
    /// The rules do not fit the live stores.
    #[error("{}", crate::error::rules_do_not_fit(.0))]
    Rules(Vec<RuleError>),
    /// Cancelled while reading the stores: nothing was written.
    #[error("interrupted while reading the stores; nothing was written")]
    Interrupted,
}

impl EngineError {
    /// Whether the merchant must fix configuration or credentials (exit code 2).
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            EngineError::Rules(_)
                | EngineError::Source(SourceError::Unauthorized { .. })
                | EngineError::Sink(SinkError::Unauthorized { .. })
                | EngineError::Holds(super::HoldError::Shopify(SourceError::Unauthorized { .. }))
                | EngineError::Holds(super::HoldError::TikTok(SinkError::Unauthorized { .. }))
        )
    }
}

/// Both stores as read, with the rules resolved and the plan built.
pub struct Snapshot {
    /// The rules, resolved against the live stores.
    pub rules: ResolvedRules,
    /// Shopify's variants.
    pub variants: Vec<VariantSnapshot>,
    /// TikTok's SKUs with what TikTok holds now.
    pub tiktok: Vec<TikTokSku>,
    /// The plan.
    pub plan: Plan,
}

/// Reads both stores concurrently and plans.
pub async fn read_and_plan(stores: &Stores, rules: &RuleSet) -> Result<Snapshot, EngineError> {
    // The orders in flight first: a Shopify copy seen here ends its hold for the levels read
    // below, which show the sale.
    if let Some(holds) = &stores.holds {
        holds.refresh().await?;
    }
    let read_at = SystemTime::now();
    let (locations, warehouses, variants, tiktok) = tokio::try_join!(
        async { stores.source.locations().await.map_err(EngineError::from) },
        async { stores.sink.warehouses().await.map_err(EngineError::from) },
        async {
            stores
                .source
                .all_variants()
                .await
                .map_err(EngineError::from)
        },
        async { stores.sink.all_skus().await.map_err(EngineError::from) },
    )?;
    let rules = resolve(rules, &locations, &warehouses).map_err(EngineError::Rules)?;
    let holds = match &stores.holds {
        Some(book) => {
            // Orders placed since the refresh, named by webhooks still being read, count.
            book.settled().await;
            book.holds(read_at, &tiktok)
        }
        None => Holds::none(),
    };
    let plan = Plan::build_holding(&rules, &variants, &tiktok, &holds);
    Ok(Snapshot {
        rules,
        variants,
        tiktok,
        plan,
    })
}

/// The result of a reconciliation.
pub struct SyncReport {
    /// What was planned.
    pub plan: Plan,
    /// The status of each plan line, by position.
    pub statuses: Vec<LineStatus>,
    /// Counts.
    pub counts: RunCounts,
    /// The recorded run.
    pub run_id: RunId,
    /// Whether it was interrupted before every write was attempted.
    pub interrupted: bool,
    /// The rules as resolved for this run.
    pub rules: ResolvedRules,
    /// TikTok's SKUs as read for the run, before its writes (`Plan::apply_updated` with
    /// `statuses` gives what TikTok holds after).
    pub tiktok: Vec<TikTokSku>,
    /// Shopify's variants as read for the run.
    pub variants: Vec<VariantSnapshot>,
    /// What the mass-drop breaker made of the plan; when it tripped, the zeroing lines are
    /// [`LineStatus::Held`] and kept in the state store.
    pub verdict: Verdict,
}

/// One full reconciliation, recorded as a run, guarded by the default mass-drop breaker.
pub async fn reconcile(
    stores: &Stores,
    rules: &RuleSet,
    kind: RunKind,
    options: &WriterOptions,
    cancel: &CancellationToken,
) -> Result<SyncReport, EngineError> {
    reconcile_guarded(stores, rules, &Breaker::default(), kind, options, cancel).await
}

/// One full reconciliation, recorded as a run. When `breaker` trips on the plan
/// (sync-rules.md §9), everything but the zeroing writes is written, and the zeroing writes
/// replace those the state store holds; otherwise the store holds none afterwards.
pub async fn reconcile_guarded(
    stores: &Stores,
    rules: &RuleSet,
    breaker: &Breaker,
    kind: RunKind,
    options: &WriterOptions,
    cancel: &CancellationToken,
) -> Result<SyncReport, EngineError> {
    let run_id = stores.store.start_run(kind, SystemTime::now()).await?;
    // Reading can take minutes on a large shop: a cancellation stops a read still in
    // progress (nothing has been written yet), as it stops writes from starting.
    let read = tokio::select! {
        biased;
        read = read_and_plan(stores, rules) => read,
        () = cancel.cancelled() => Err(EngineError::Interrupted),
    };
    let snapshot = match read {
        Ok(s) => s,
        Err(e) => return Err(abort_run(stores, run_id, e).await),
    };
    let trigger = match kind {
        RunKind::Sync => Trigger::Sync,
        RunKind::Reconcile => Trigger::Reconcile,
    };
    let verdict = breaker.judge(&snapshot.plan.lines);
    let batches = verdict.write_batches(&snapshot.plan, &snapshot.tiktok, WRITE_BATCH);
    let outcome = match write_batches(stores, batches, &trigger, run_id, options, cancel).await {
        Ok(outcome) => outcome,
        // The writes in flight were finished and their recording tried: the run ends
        // aborted with the reason rather than staying `running`.
        Err(e) => return Err(abort_run(stores, run_id, e.into()).await),
    };

    let plan = snapshot.plan;
    let mut statuses = plan.statuses(&outcome.statuses);
    let held = held_writes(&plan, &verdict, &mut statuses, run_id);
    let counts = RunCounts::from(LineCounts::of(&statuses));
    let run_outcome = if outcome.interrupted {
        RunOutcome::Aborted("interrupted".into())
    } else if counts.failed > 0 {
        RunOutcome::PartlyFailed
    } else {
        RunOutcome::Succeeded
    };
    stores
        .store
        .finish_run(
            run_id,
            RunEnd {
                at: SystemTime::now(),
                counts,
                outcome: run_outcome,
            },
        )
        .await?;
    stores.store.hold_writes(&held).await?;
    Ok(SyncReport {
        plan,
        statuses,
        counts,
        run_id,
        interrupted: outcome.interrupted,
        rules: snapshot.rules,
        tiktok: snapshot.tiktok,
        variants: snapshot.variants,
        verdict,
    })
}

/// Write jobs made and written this many at a time, so that the changed lines of a large
/// plan are not all copied into jobs at once. Between two batches the writer finishes the
/// writes in flight (at most `concurrency`), about one request's time per batch.
const WRITE_BATCH: usize = 1024;

/// Writes the jobs a batch at a time, in their order, as one batch would be written: one
/// progress from 0 to every line, the statuses of all, interrupted when cancellation stopped
/// any batch.
async fn write_batches(
    stores: &Stores,
    mut batches: WriteBatches<'_>,
    trigger: &Trigger,
    run_id: RunId,
    options: &WriterOptions,
    cancel: &CancellationToken,
) -> Result<BatchOutcome, StoreError> {
    if let Some(progress) = &options.progress {
        progress.start(batches.lines_left() as u64);
    }
    let mut outcome = BatchOutcome::default();
    let mut done = 0u64;
    for jobs in batches.by_ref() {
        let lines: u64 = jobs.iter().map(|j| j.lines.len() as u64).sum();
        let batch_options = WriterOptions {
            concurrency: options.concurrency,
            progress: options.progress.clone().map(|whole| {
                Arc::new(Continued {
                    whole,
                    before: done,
                }) as Arc<dyn Progress>
            }),
        };
        let batch = execute(stores, jobs, trigger, Some(run_id), &batch_options, cancel).await?;
        outcome.statuses.extend(batch.statuses);
        done += lines;
        if batch.interrupted {
            outcome.interrupted = true;
            break;
        }
    }
    if let Some(progress) = &options.progress {
        progress.finish();
    }
    Ok(outcome)
}

/// One batch's progress as progress of the whole write: the lines of earlier batches added.
struct Continued {
    whole: Arc<dyn Progress>,
    before: u64,
}

impl Progress for Continued {
    fn start(&self, _total: u64) {}

    fn advance(&self, done: u64) {
        self.whole.advance(self.before + done);
    }

    fn finish(&self) {}
}

/// Marks the lines the verdict holds [`LineStatus::Held`] and gives them as held writes.
fn held_writes(
    plan: &Plan,
    verdict: &Verdict,
    statuses: &mut [LineStatus],
    run_id: RunId,
) -> Vec<HeldWrite> {
    let at = SystemTime::now();
    let mut held = Vec::new();
    for (line, status) in plan.lines.iter().zip(statuses.iter_mut()) {
        let Some(old) = line.current.filter(|_| verdict.holds(line)) else {
            continue;
        };
        *status = LineStatus::Held;
        held.push(HeldWrite {
            at,
            run_id: Some(run_id),
            product_id: line.product_id.clone(),
            sku_id: line.sku_id.clone(),
            seller_sku: line.sku.clone(),
            warehouse: line.warehouse.clone(),
            old,
            explanation: line.explanation.clone(),
        });
    }
    held
}

/// Records the run as aborted with the reason (as well as the store still can) and gives the
/// error back.
async fn abort_run(stores: &Stores, run_id: RunId, error: EngineError) -> EngineError {
    let finished = stores
        .store
        .finish_run(
            run_id,
            RunEnd {
                at: SystemTime::now(),
                counts: RunCounts::default(),
                outcome: RunOutcome::Aborted(error.to_string()),
            },
        )
        .await;
    if let Err(e) = finished {
        tracing::warn!(run = run_id.0, error = %e, "could not record the run as aborted");
    }
    error
}
