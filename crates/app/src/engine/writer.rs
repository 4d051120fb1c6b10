//! Executes product writes against TikTok Shop: concurrently within a bound, each sent once
//! (the adapter retries it within the one retry policy of the ports), every attempted (SKU,
//! warehouse) recorded in the audit log with its outcome, in one transaction per product.

use std::collections::HashMap;
use std::future::ready;
use std::sync::Arc;
use std::time::SystemTime;

use futures::StreamExt;
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

/// Executes the jobs; stops starting new ones when `cancel` fires, finishing those in flight.
///
/// When the state store fails to record a product's writes, no new job starts, but the
/// writes in flight (which TikTok may already have applied) are finished and their recording
/// is still tried; then the first store error is returned.
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
    // Fires on `cancel`, and when the state store fails.
    let stop = cancel.child_token();
    let stop_ref = &stop;
    let mut results = futures::stream::iter(jobs)
        .take_while(|_| ready(!stop_ref.is_cancelled()))
        .map(|job| async move {
            // The adapter retries within its policy; a write that still fails is reported
            // here and tried again by the next run or requeued by the pipeline.
            let result = sink.apply(&job.write).await;
            (job, result)
        })
        .buffer_unordered(options.concurrency.max(1));

    let mut outcome = BatchOutcome::default();
    let mut finished_jobs = 0;
    let mut finished_lines = 0u64;
    let mut store_error = None;
    while let Some((job, result)) = results.next().await {
        finished_jobs += 1;
        let entries = audit_entries(&job, &result, trigger, run_id);
        let (audit, statuses): (Vec<AuditEntry>, Vec<LineStatus>) = entries.into_iter().unzip();
        if let Err(e) = stores.store.record_writes(&audit).await {
            tracing::error!(product = %job.write.product_id, lines = audit.len(), error = %e, "the state store failed to record writes");
            stop.cancel();
            store_error.get_or_insert(e);
            continue;
        }
        for (entry, status) in audit.iter().zip(statuses) {
            if let LineStatus::Failed(why) = &status {
                tracing::warn!(sku = %entry.seller_sku, sku_id = %entry.sku_id, warehouse = %entry.warehouse, quantity = entry.new.get(), reason = %why, "write failed");
            }
            outcome
                .statuses
                .insert((entry.sku_id.clone(), entry.warehouse.clone()), status);
        }
        finished_lines += job.lines.len() as u64;
        if let Some(progress) = &options.progress {
            progress.advance(finished_lines);
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
