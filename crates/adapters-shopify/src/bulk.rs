//! The full read of a large catalog through a bulk export: start `bulkOperationRunQuery`,
//! poll the operation until it finishes, download its JSONL and join it into snapshots equal
//! to those of the paged read.

mod export;

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use stockbridge_domain::VariantSnapshot;
use stockbridge_ports::SourceError;

use crate::catalog::BULK_VARIANTS;
use crate::client::{GraphqlClient, Query};

const RUN: &str = "mutation RunBulkExport($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}";

const POLL: &str = "query BulkExportStatus($id: ID!) {
  node(id: $id) { ... on BulkOperation { id status errorCode url objectCount } }
}";

/// How to wait for an export.
pub(crate) struct Polling {
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunData {
    bulk_operation_run_query: RunPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunPayload {
    bulk_operation: Option<Operation>,
    #[serde(default)]
    user_errors: Vec<UserError>,
}

#[derive(Deserialize)]
struct UserError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Operation {
    id: String,
    status: String,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct PollData {
    node: Option<Operation>,
}

/// Every variant with every level, read through one bulk export.
pub(crate) async fn all_variants(
    client: &GraphqlClient,
    polling: &Polling,
) -> Result<Vec<VariantSnapshot>, SourceError> {
    let id = start(client).await?;
    tracing::info!(operation = %id, "bulk export started");
    let url = wait(client, &id, polling).await?;
    let Some(url) = url else {
        // Shopify gives no file when the export holds no object.
        return Ok(Vec::new());
    };
    let body = client.download(&url).await?;
    let variants = export::snapshots(&body)?;
    tracing::info!(operation = %id, variants = variants.len(), "bulk export read");
    Ok(variants)
}

async fn start(client: &GraphqlClient) -> Result<String, SourceError> {
    let data: RunData = client
        .run(|_| Query {
            operation: "bulkOperationRunQuery",
            text: RUN,
            variables: json!({ "query": BULK_VARIANTS }),
            shape: "bulk-run".into(),
            estimated_cost: 10,
        })
        .await?;
    let payload = data.bulk_operation_run_query;
    if let Some(error) = payload.user_errors.into_iter().next() {
        return Err(SourceError::Rejected {
            code: error.code.unwrap_or_else(|| "USER_ERROR".to_owned()),
            message: error.message,
        });
    }
    payload
        .bulk_operation
        .map(|op| op.id)
        .ok_or_else(|| SourceError::Rejected {
            code: "NO_BULK_OPERATION".into(),
            message: "bulkOperationRunQuery returned neither an operation nor an error".into(),
        })
}

/// Polls until the export is done; its file's URL (none for an empty export).
async fn wait(
    client: &GraphqlClient,
    id: &str,
    polling: &Polling,
) -> Result<Option<String>, SourceError> {
    let deadline = tokio::time::Instant::now() + polling.timeout;
    loop {
        let data: PollData = client
            .run(|_| Query {
                operation: "bulk operation status",
                text: POLL,
                variables: json!({ "id": id }),
                shape: "bulk-poll".into(),
                estimated_cost: 1,
            })
            .await?;
        let op = data.node.ok_or_else(|| SourceError::NotFound {
            what: format!("bulk operation {id}"),
        })?;
        if let Some(outcome) = finished(op) {
            return outcome;
        }
        if tokio::time::Instant::now() + polling.interval > deadline {
            return Err(SourceError::Transient {
                message: format!(
                    "bulk operation {id} did not finish within {:?}",
                    polling.timeout
                ),
            });
        }
        tokio::time::sleep(polling.interval).await;
    }
}

/// The outcome of a finished operation; `None` while it runs.
fn finished(op: Operation) -> Option<Result<Option<String>, SourceError>> {
    let code = op.error_code.unwrap_or_default();
    let message = format!("bulk operation {} ended {} {code}", op.id, op.status);
    match op.status.as_str() {
        "CREATED" | "RUNNING" | "CANCELING" => None,
        "COMPLETED" => Some(Ok(op.url)),
        "FAILED" => Some(Err(match code.as_str() {
            "ACCESS_DENIED" => SourceError::Unauthorized { message },
            "INTERNAL_SERVER_ERROR" | "TIMEOUT" => SourceError::Transient { message },
            _ => SourceError::Rejected {
                code: if code.is_empty() {
                    "FAILED".into()
                } else {
                    code
                },
                message,
            },
        })),
        other => Some(Err(SourceError::Rejected {
            code: other.to_owned(),
            message,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(status: &str, code: Option<&str>) -> Operation {
        Operation {
            id: "gid://shopify/BulkOperation/1".into(),
            status: status.into(),
            error_code: code.map(str::to_owned),
            url: Some("http://x/1.jsonl".into()),
        }
    }

    #[test]
    fn a_running_export_is_not_finished() {
        assert!(finished(op("RUNNING", None)).is_none());
        assert!(finished(op("CREATED", None)).is_none());
    }

    #[test]
    fn a_completed_export_gives_its_url() {
        assert_eq!(
            finished(op("COMPLETED", None)).unwrap().unwrap().as_deref(),
            Some("http://x/1.jsonl")
        );
    }

    #[test]
    fn a_failed_export_maps_its_error_code() {
        let transient = finished(op("FAILED", Some("INTERNAL_SERVER_ERROR"))).unwrap();
        assert!(matches!(transient, Err(SourceError::Transient { .. })));
        let denied = finished(op("FAILED", Some("ACCESS_DENIED"))).unwrap();
        assert!(matches!(denied, Err(SourceError::Unauthorized { .. })));
        let expired = finished(op("EXPIRED", None)).unwrap();
        assert!(matches!(expired, Err(SourceError::Rejected { code, .. }) if code == "EXPIRED"));
    }
}
