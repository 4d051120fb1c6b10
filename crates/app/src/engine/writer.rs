//! Executes product writes against TikTok Shop: concurrently within a bound, each sent once
//! (the adapter retries it within the one retry policy of the ports), every attempted (SKU,
//! warehouse) recorded in the audit log with its outcome; the writes answered while a recording
//! was under way are recorded together in the next transaction (a product's lines always in
//! one).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use stockbridge_domain::{LineStatus, SkuId, WarehouseId, WriteJob, WriteOutcome};
use stockbridge_ports::{AuditEntry, RunId, SinkError, StoreError, Trigger};
use tokio_util::sync::CancellationToken;

use super::Stores;

/// Follows a batch of writes (a progress bar on a terminal).
pub trait Progress: Send + Sync {
    /// The batch starts with `total` lines to write.
    fn start(&self, total: u64);
    /// `done` lines are finished.
    fn advance(&self, done: u64);
    /// The batch is over.
    fn finish(&self);
}

/// How writes are executed.
#[derive(Clone)]
pub struct WriterOptions {
    /// Product writes in flight at once.
    pub concurrency: usize,
    /// Told how many lines there are to write, and how many are done after each product.
    pub progress: Option<Arc<dyn Progress>>,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            concurrency: 8,
            progress: None,
        }
    }
}

/// The statuses of every line written, and whether the batch stopped early.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// By (SKU, warehouse).
    pub statuses: HashMap<(SkuId, WarehouseId), LineStatus>,
    /// Whether cancellation stopped it before every job was attempted.
    pub interrupted: bool,
}

/// The audit entry and the status of each line of `job`, from TikTok's answer to its write.
fn audit_entries(
    job: &WriteJob,
    result: &Result<Vec<WriteOutcome>, SinkError>,
    trigger: &Trigger,
    run_id: Option<RunId>,
) -> Vec<(AuditEntry, LineStatus)> {
    let at = SystemTime::now();
    job.lines
        .iter()
        .zip(job.outcomes(result))
        .map(|(line, outcome)| {
            let status = outcome.status();
            let entry = AuditEntry {
                at,
                run_id,
                product_id: line.product_id.clone(),
                sku_id: line.sku_id.clone(),
                seller_sku: line.sku.clone(),
                warehouse: line.warehouse.clone(),
                old: line.current,
                new: line.quantity,
                explanation: line.explanation.clone(),
                trigger: trigger.clone(),
                outcome: outcome.into(),
            };
            (entry, status)
        })
        .collect()
}

/// Writes TikTok has answered, waiting to be recorded: their audit entries and the status
/// of each line.
#[derive(Default)]
struct Answered {
    audit: Vec<AuditEntry>,
    statuses: Vec<LineStatus>,
    products: usize,
}

impl Answered {
    fn add(
        &mut self,
        job: &WriteJob,
        result: &Result<Vec<WriteOutcome>, SinkError>,
        trigger: &Trigger,
        run_id: Option<RunId>,
    ) {
        for (entry, status) in audit_entries(job, result, trigger, run_id) {
            self.audit.push(entry);
            self.statuses.push(status);
        }
        self.products += 1;
    }
}

/// Executes the jobs; stops starting new ones when `cancel` fires, finishing those in flight.
///
/// The writes TikTok answered while a recording was under way are recorded together, in
/// the next transaction, while the others in flight carry on: a commit flushed to disk takes
/// milliseconds, and one per product, each holding back the writes behind it, bounded the
/// writes per second. A write keeps its place among the `concurrency` until its answer is
/// recorded, so when the state store fails to record, no new job starts; the writes in flight
/// (which TikTok may already have applied) are finished and their recording is still tried;
/// then the first store error is returned.
pub async fn execute(
    stores: &Stores,
    jobs: Vec<WriteJob>,
    trigger: &Trigger,
    run_id: Option<RunId>,
    options: &WriterOptions,
    cancel: &CancellationToken,
) -> Result<BatchOutcome, StoreError> {
    let total = jobs.len();
    if let Some(progress) = &options.progress {
        progress.start(jobs.iter().map(|j| j.lines.len() as u64).sum());
    }
    let sink = stores.sink.as_ref();
    let concurrency = options.concurrency.max(1);
    let mut jobs = jobs.into_iter();
    let mut in_flight = FuturesUnordered::new();
    // Answered and not yet recorded; and those being recorded (how many products).
    let mut answered = Answered::default();
    let mut recording: Option<BoxFuture<'_, (Answered, Result<(), StoreError>)>> = None;
    let mut being_recorded = 0;
    let mut outcome = BatchOutcome::default();
    let mut finished_jobs = 0;
    let mut finished_lines = 0u64;
    let mut store_error = None;
    loop {
        if recording.is_none() && answered.products > 0 {
            let batch = std::mem::take(&mut answered);
            being_recorded = batch.products;
            recording = Some(Box::pin(async move {
                let result = stores.store.record_writes(&batch.audit).await;
                (batch, result)
            }));
        }
        if store_error.is_none() && !cancel.is_cancelled() {
            while in_flight.len() + answered.products + being_recorded < concurrency {
                let Some(job) = jobs.next() else { break };
                in_flight.push(async move {
                    // The adapter retries within its policy; a write that still fails is
                    // reported here and tried again by the next run or requeued by the
                    // pipeline.
                    let result = sink.apply(&job.write).await;
                    (job, result)
                });
            }
        }
        if in_flight.is_empty() && recording.is_none() {
            break;
        }
        tokio::select! {
            Some((job, result)) = in_flight.next(), if !in_flight.is_empty() => {
                finished_jobs += 1;
                answered.add(&job, &result, trigger, run_id);
            }
            (batch, result) = async { recording.as_mut().expect("guarded").await }, if recording.is_some() => {
                recording = None;
                being_recorded = 0;
                if let Err(e) = result {
                    tracing::error!(products = batch.products, lines = batch.audit.len(), error = %e, "the state store failed to record writes");
                    store_error.get_or_insert(e);
                    continue;
                }
                for (entry, status) in batch.audit.into_iter().zip(batch.statuses) {
                    if let LineStatus::Failed(why) = &status {
                        tracing::warn!(sku = %entry.seller_sku, sku_id = %entry.sku_id, warehouse = %entry.warehouse, quantity = entry.new.get(), reason = %why, "write failed");
                    }
                    outcome.statuses.insert((entry.sku_id, entry.warehouse), status);
                    finished_lines += 1;
                }
                if let Some(progress) = &options.progress {
                    progress.advance(finished_lines);
                }
            }
        }
    }
    if let Some(progress) = &options.progress {
        progress.finish();
    }
    if let Some(e) = store_error {
        return Err(e);
    }
    outcome.interrupted = finished_jobs < total;
    Ok(outcome)
}
