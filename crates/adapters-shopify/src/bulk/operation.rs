//! What Shopify says about a bulk operation, and the one place that decides what the export
//! does about it: start, wait for a free slot, keep polling, start again, or give up.

use serde::Deserialize;
use stockbridge_ports::SourceError;

/// How many times an export that failed on Shopify's side is started again.
pub(super) const RESTARTS: u32 = 2;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RunData {
    pub(super) bulk_operation_run_query: RunPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RunPayload {
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
pub(super) struct Operation {
    pub(super) id: String,
    pub(super) status: String,
    #[serde(default)]
    pub(super) error_code: Option<String>,
    #[serde(default)]
    pub(super) url: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct PollData {
    pub(super) node: Option<Operation>,
}

/// The answer to `bulkOperationRunQuery`.
#[derive(Debug)]
pub(super) enum Start {
    /// The export runs under this id.
    Started(String),
    /// The shop runs as many bulk operations as it allows (another copy of the service, or
    /// exports left running by a crash): wait and ask again.
    Busy { code: String, message: String },
}

impl RunPayload {
    pub(super) fn into_start(self) -> Result<Start, SourceError> {
        if let Some(error) = self.user_errors.into_iter().next() {
            let code = error.code.unwrap_or_else(|| "USER_ERROR".to_owned());
            return match code.as_str() {
                "OPERATION_IN_PROGRESS" | "LIMIT_REACHED" => Ok(Start::Busy {
                    code,
                    message: error.message,
                }),
                _ => Err(SourceError::Rejected {
                    code,
                    message: error.message,
                }),
            };
        }
        self.bulk_operation
            .map(|op| Start::Started(op.id))
            .ok_or_else(|| SourceError::Rejected {
                code: "NO_BULK_OPERATION".into(),
                message: "bulkOperationRunQuery returned neither an operation nor an error".into(),
            })
    }
}

/// A finished export.
#[derive(Debug)]
pub(super) enum Finished {
    /// Its file's URL; none when the export holds no object.
    Completed(Option<String>),
    /// Failed on Shopify's side in a way the same query may not meet again.
    Restartable { message: String },
    /// Any other end.
    Failed(SourceError),
}

/// The outcome of an operation that has finished; `None` while it runs.
pub(super) fn finished(op: Operation) -> Option<Finished> {
    let code = op.error_code.unwrap_or_default();
    let message = format!("bulk operation {} ended {} {code}", op.id, op.status);
    match op.status.as_str() {
        "CREATED" | "RUNNING" | "CANCELING" => None,
        "COMPLETED" => Some(Finished::Completed(op.url)),
        // Shopify: "These errors might be intermittent, so you can try performing the same
        // query again." A TIMEOUT would likely recur at once: the next read retries it.
        "FAILED" if code == "INTERNAL_SERVER_ERROR" => Some(Finished::Restartable { message }),
        "FAILED" => Some(Finished::Failed(match code.as_str() {
            "ACCESS_DENIED" => SourceError::Unauthorized { message },
            "TIMEOUT" => SourceError::Transient { message },
            _ => SourceError::Rejected {
                code: if code.is_empty() {
                    "FAILED".into()
                } else {
                    code
                },
                message,
            },
        })),
        other => Some(Finished::Failed(SourceError::Rejected {
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

    fn payload(json: serde_json::Value) -> RunPayload {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_running_export_is_not_finished() {
        assert!(finished(op("RUNNING", None)).is_none());
        assert!(finished(op("CREATED", None)).is_none());
    }

    #[test]
    fn a_completed_export_gives_its_url() {
        assert!(matches!(
            finished(op("COMPLETED", None)),
            Some(Finished::Completed(Some(url))) if url == "http://x/1.jsonl"
        ));
    }

    #[test]
    fn only_an_internal_server_error_is_restarted() {
        assert!(matches!(
            finished(op("FAILED", Some("INTERNAL_SERVER_ERROR"))),
            Some(Finished::Restartable { .. })
        ));
        assert!(matches!(
            finished(op("FAILED", Some("TIMEOUT"))),
            Some(Finished::Failed(SourceError::Transient { .. }))
        ));
        assert!(matches!(
            finished(op("FAILED", Some("ACCESS_DENIED"))),
            Some(Finished::Failed(SourceError::Unauthorized { .. }))
        ));
        assert!(matches!(
            finished(op("EXPIRED", None)),
            Some(Finished::Failed(SourceError::Rejected { code, .. })) if code == "EXPIRED"
        ));
    }

    #[test]
    fn both_codes_of_a_full_shop_mean_wait() {
        for code in ["OPERATION_IN_PROGRESS", "LIMIT_REACHED"] {
            let start = payload(serde_json::json!({"bulkOperation": null,
                "userErrors": [{"field": null, "message": "busy", "code": code}]}))
            .into_start();
            assert!(
                matches!(&start, Ok(Start::Busy { code: c, .. }) if c == code),
                "{start:?}"
            );
        }
    }

    #[test]
    fn an_invalid_query_is_rejected_with_shopifys_code() {
        let start = payload(serde_json::json!({"bulkOperation": null,
            "userErrors": [{"field": ["query"], "message": "Invalid bulk query", "code": "INVALID"}]}))
        .into_start();
        assert!(
            matches!(&start, Err(SourceError::Rejected { code, .. }) if code == "INVALID"),
            "{start:?}"
        );
    }
}
