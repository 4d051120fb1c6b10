//! The full read of a large catalog through a bulk export: start `bulkOperationRunQuery`,
//! poll the operation until it finishes, read its JSONL as it downloads and join it into
//! snapshots equal to those of the paged read. A shop already running as many bulk operations as it allows
//! (another copy of the service, or exports left running by a crash) is waited out, and an
//! export that fails on Shopify's side is started again, all within the bulk timeout.

mod export;
mod operation;

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use stockbridge_domain::VariantSnapshot;
use stockbridge_ports::SourceError;
use tokio::time::Instant;

use self::export::Export;
use self::operation::{finished, Finished, PollData, RunData, Start, RESTARTS};
use crate::catalog::BULK_VARIANTS;
use crate::client::{GraphqlClient, Query};

/// One of the export's two requests: its name in errors and logs, its text, and its cost.
struct Request {
    operation: &'static str,
    text: &'static str,
    shape: &'static str,
    estimated_cost: u64,
}

const RUN: Request = Request {
    operation: "bulkOperationRunQuery",
    text: "mutation RunBulkExport($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}",
    shape: "bulk-run",
    estimated_cost: 10,
};

const POLL: Request = Request {
    operation: "bulk operation status",
    text: "query BulkExportStatus($id: ID!) {
  node(id: $id) { ... on BulkOperation { id status errorCode url objectCount } }
}",
    shape: "bulk-poll",
    estimated_cost: 1,
};

/// Sends `request` with `variables` (paced and retried as every query is).
async fn send<T: DeserializeOwned>(
    client: &GraphqlClient,
    request: &Request,
    variables: Value,
) -> Result<T, SourceError> {
    client
        .run(|_| Query {
            operation: request.operation,
            text: request.text,
            variables: variables.clone(),
            shape: request.shape.into(),
            estimated_cost: request.estimated_cost,
        })
        .await
}

/// The longest wait between two tries for a free slot, unless the poll interval is longer.
const MAX_SLOT_WAIT: Duration = Duration::from_secs(60);

/// How to wait for an export.
pub(crate) struct Polling {
    pub(crate) interval: Duration,
    /// Bounds the whole read: waiting for a slot, every run of the export, the polls.
    pub(crate) timeout: Duration,
}

/// Every variant with every level, read through one bulk export.
pub(crate) async fn all_variants(
    client: &GraphqlClient,
    polling: &Polling,
) -> Result<Vec<VariantSnapshot>, SourceError> {
    // A timeout beyond what the clock can hold is no limit at all.
    let deadline = Instant::now()
        .checked_add(polling.timeout)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600));
    let mut restarts = 0;
    let (id, url) = loop {
        let id = start(client, polling, deadline).await?;
        tracing::info!(operation = %id, "bulk export started");
        match wait(client, &id, polling, deadline).await? {
            Finished::Completed(url) => break (id, url),
            Finished::Restartable { message } if restarts < RESTARTS => {
                restarts += 1;
                tracing::warn!(operation = %id, restart = restarts, reason = %message, "bulk export failed on Shopify's side; starting it again");
            }
            Finished::Restartable { message } => {
                return Err(SourceError::Transient {
                    message: format!("{message}; the export failed {} times", restarts + 1),
                })
            }
            Finished::Failed(error) => return Err(error),
        }
    };
    let Some(url) = url else {
        // Shopify gives no file when the export holds no object.
        return Ok(Vec::new());
    };
    // Read as it downloads: the file of a large catalog is never held whole.
    let variants = client
        .download_into(&url, Export::default, |export, chunk| {
            export.feed(chunk).map_err(SourceError::from)
        })
        .await?
        .finish()?;
    tracing::info!(operation = %id, variants = variants.len(), "bulk export read");
    Ok(variants)
}

/// Starts the export; while the shop runs as many bulk operations as it allows, waits (the
/// poll interval, doubling up to a minute) and asks again until the deadline.
async fn start(
    client: &GraphqlClient,
    polling: &Polling,
    deadline: Instant,
) -> Result<String, SourceError> {
    let mut pause = polling.interval;
    let mut waited = Duration::ZERO;
    loop {
        let data: RunData = send(client, &RUN, json!({ "query": BULK_VARIANTS })).await?;
        let (code, message) = match data.bulk_operation_run_query.into_start()? {
            Start::Started(id) => {
                if !waited.is_zero() {
                    tracing::info!(operation = %id, waited_ms = waited.as_millis() as u64, "bulk export started once a slot was free");
                }
                return Ok(id);
            }
            Start::Busy { code, message } => (code, message),
        };
        if passes(deadline, pause) {
            return Err(SourceError::Transient {
                message: format!(
                    "no bulk export could start within {:?}: the shop still runs as many bulk operations as it allows ({code}: {message})",
                    polling.timeout
                ),
            });
        }
        if waited.is_zero() {
            tracing::warn!(%code, %message, wait_ms = pause.as_millis() as u64, "the shop already runs as many bulk operations as it allows (another copy of this service, or exports left running by a crash); waiting for one to finish");
        } else {
            tracing::debug!(%code, wait_ms = pause.as_millis() as u64, "still no free bulk operation slot");
        }
        tokio::time::sleep(pause).await;
        waited += pause;
        pause = (pause * 2).min(MAX_SLOT_WAIT.max(polling.interval));
    }
}

/// Polls until the export is done.
async fn wait(
    client: &GraphqlClient,
    id: &str,
    polling: &Polling,
    deadline: Instant,
) -> Result<Finished, SourceError> {
    loop {
        let data: PollData = send(client, &POLL, json!({ "id": id })).await?;
        let op = data.node.ok_or_else(|| SourceError::NotFound {
            what: format!("bulk operation {id}"),
        })?;
        if let Some(outcome) = finished(op) {
            return Ok(outcome);
        }
        if passes(deadline, polling.interval) {
            return Err(SourceError::Transient {
                message: format!(
                    "bulk operation {id} did not finish within the bulk timeout ({:?})",
                    polling.timeout
                ),
            });
        }
        tokio::time::sleep(polling.interval).await;
    }
}

/// Whether waiting `pause` from now would end past `deadline`.
fn passes(deadline: Instant, pause: Duration) -> bool {
    Instant::now()
        .checked_add(pause)
        .is_none_or(|end| end > deadline)
}
