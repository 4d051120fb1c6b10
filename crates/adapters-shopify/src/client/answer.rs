//! Reading one GraphQL answer: the HTTP status, the top-level `errors`, the cost extension
//! and the data, mapped onto `SourceError` by its documented contract.

use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use stockbridge_ports::SourceError;

use super::pacing::Cost;
use crate::error::AnswerError;

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<serde_json::Value>,
    /// An array of errors; Shopify's REST-style answers use a string or an object instead.
    #[serde(default)]
    errors: Option<serde_json::Value>,
    #[serde(default)]
    extensions: Option<Extensions>,
}

#[derive(Debug, Deserialize)]
struct Extensions {
    #[serde(default)]
    cost: Option<Cost>,
}

/// One item of the top-level `errors` array.
#[derive(Debug, Deserialize)]
struct GraphqlError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    extensions: Option<ErrorExtensions>,
}

#[derive(Debug, Deserialize)]
struct ErrorExtensions {
    #[serde(default)]
    code: Option<String>,
}

/// What an answer held: its data or the error it stands for, and the cost it reported.
pub(crate) struct Answer<T> {
    pub(crate) result: Result<T, SourceError>,
    pub(crate) cost: Option<Cost>,
}

/// Reads an answer to `operation`. `retry_after` is the `Retry-After` header, when sent.
pub(crate) fn read<T: DeserializeOwned>(
    operation: &'static str,
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Answer<T> {
    let envelope = serde_json::from_slice::<Envelope>(body);
    let cost = envelope
        .as_ref()
        .ok()
        .and_then(|e| e.extensions.as_ref())
        .and_then(|e| e.cost.clone());
    let result = match (status_error(status, retry_after, body), envelope) {
        (Some(error), _) => Err(error),
        (None, Err(source)) => Err(AnswerError::Json { operation, source }.into()),
        (None, Ok(envelope)) => data_of(operation, envelope, cost.as_ref()),
    };
    Answer { result, cost }
}

/// The error an HTTP status stands for, whatever the body says.
fn status_error(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Option<SourceError> {
    if status.is_success() {
        return None;
    }
    let message = format!("HTTP {status}: {}", excerpt(body));
    Some(match status.as_u16() {
        401 | 403 => SourceError::Unauthorized { message },
        404 => SourceError::NotFound {
            what: format!("the shop's Admin API ({message})"),
        },
        429 => SourceError::RateLimited { retry_after },
        s if s >= 500 => SourceError::Transient { message },
        s => SourceError::Rejected {
            code: s.to_string(),
            message,
        },
    })
}

fn data_of<T: DeserializeOwned>(
    operation: &'static str,
    envelope: Envelope,
    cost: Option<&Cost>,
) -> Result<T, SourceError> {
    if let Some(error) = envelope.errors.as_ref().and_then(first_error) {
        return Err(graphql_error(&error, cost));
    }
    match envelope.data {
        None | Some(serde_json::Value::Null) => Err(AnswerError::NoData { operation }.into()),
        Some(data) => serde_json::from_value(data)
            .map_err(|source| AnswerError::Json { operation, source }.into()),
    }
}

/// The first error of an `errors` value, whatever its shape; `None` when there is none.
fn first_error(errors: &serde_json::Value) -> Option<GraphqlError> {
    match errors {
        serde_json::Value::Null => None,
        serde_json::Value::Array(items) => items.first().map(|item| {
            serde_json::from_value(item.clone()).unwrap_or_else(|_| GraphqlError {
                message: item.to_string(),
                extensions: None,
            })
        }),
        serde_json::Value::String(message) => Some(GraphqlError {
            message: message.clone(),
            extensions: None,
        }),
        other => Some(GraphqlError {
            message: other.to_string(),
            extensions: None,
        }),
    }
}

/// A top-level GraphQL error, by its `extensions.code`.
fn graphql_error(error: &GraphqlError, cost: Option<&Cost>) -> SourceError {
    let code = error
        .extensions
        .as_ref()
        .and_then(|e| e.code.clone())
        .unwrap_or_else(|| "GRAPHQL_ERROR".to_owned());
    let message = error.message.clone();
    match code.as_str() {
        "THROTTLED" => SourceError::RateLimited {
            retry_after: cost.and_then(Cost::refill_wait),
        },
        "ACCESS_DENIED" | "UNAUTHORIZED" => SourceError::Unauthorized { message },
        "NOT_FOUND" => SourceError::NotFound { what: message },
        "INTERNAL_SERVER_ERROR" | "SERVICE_UNAVAILABLE" | "TIMEOUT" => SourceError::Transient {
            message: format!("{code}: {message}"),
        },
        _ => SourceError::Rejected { code, message },
    }
}

/// The start of a body, for an error message.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// `Retry-After` in seconds (an HTTP date is ignored: the pacer waits instead).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let seconds = value.trim().parse::<f64>().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Shop {
        name: String,
    }

    fn read_ok(body: &str) -> Answer<Shop> {
        read("shop", StatusCode::OK, None, body.as_bytes())
    }

    #[test]
    fn reads_data_and_cost() {
        let answer = read_ok(
            r#"{"data":{"name":"Demo"},"extensions":{"cost":{"requestedQueryCost":3,
            "actualQueryCost":1,"throttleStatus":{"maximumAvailable":2000.0,
            "currentlyAvailable":1999,"restoreRate":100.0}}}}"#,
        );
        assert_eq!(answer.result.unwrap().name, "Demo");
        assert_eq!(answer.cost.unwrap().requested_query_cost, Some(3.0));
    }

    #[test]
    fn throttled_body_is_rate_limited_for_as_long_as_the_bucket_needs() {
        let answer = read_ok(
            r#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],
            "extensions":{"cost":{"requestedQueryCost":300,"actualQueryCost":null,
            "throttleStatus":{"maximumAvailable":1000.0,"currentlyAvailable":100,"restoreRate":50.0}}}}"#,
        );
        match answer.result {
            Err(SourceError::RateLimited { retry_after }) => {
                assert_eq!(retry_after, Some(Duration::from_secs(4)))
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
    }

    #[test]
    fn access_denied_with_http_200_is_unauthorized() {
        let answer = read_ok(
            r#"{"data":null,"errors":[{"message":"no","extensions":{"code":"ACCESS_DENIED"}}]}"#,
        );
        assert!(matches!(
            answer.result,
            Err(SourceError::Unauthorized { .. })
        ));
    }

    #[test]
    fn max_cost_exceeded_is_rejected_with_its_code() {
        let answer = read_ok(
            r#"{"errors":[{"message":"too dear","extensions":{"code":"MAX_COST_EXCEEDED","cost":1200,"maxCost":1000}}]}"#,
        );
        match answer.result {
            Err(SourceError::Rejected { code, .. }) => assert_eq!(code, "MAX_COST_EXCEEDED"),
            other => panic!("expected Rejected, got {other:?}"),
        }
    }

    #[test]
    fn internal_server_error_code_is_transient() {
        let answer = read_ok(
            r#"{"errors":[{"message":"oops","extensions":{"code":"INTERNAL_SERVER_ERROR","requestId":"r1"}}]}"#,
        );
        assert!(matches!(answer.result, Err(SourceError::Transient { .. })));
    }

    #[test]
    fn errors_as_a_string_or_an_object_are_errors_too() {
        let answer = read_ok(r#"{"errors":"Not Found"}"#);
        assert!(
            matches!(answer.result, Err(SourceError::Rejected { message, .. }) if message == "Not Found")
        );
        let answer = read_ok(r#"{"errors":{"query":"Required parameter missing or invalid"}}"#);
        assert!(matches!(answer.result, Err(SourceError::Rejected { .. })));
        assert_eq!(
            read_ok(r#"{"data":{"name":"x"},"errors":[]}"#)
                .result
                .unwrap()
                .name,
            "x"
        );
    }

    #[test]
    fn an_error_without_a_code_is_rejected_even_beside_data() {
        let answer =
            read_ok(r#"{"data":{"name":"x"},"errors":[{"message":"Field 'nope' doesn't exist"}]}"#);
        assert!(matches!(answer.result, Err(SourceError::Rejected { .. })));
    }

    #[test]
    fn http_statuses_map_onto_the_port_contract() {
        type Expected = fn(&SourceError) -> bool;
        let cases: [(u16, Expected); 7] = [
            (401, |e| matches!(e, SourceError::Unauthorized { .. })),
            (403, |e| matches!(e, SourceError::Unauthorized { .. })),
            (404, |e| matches!(e, SourceError::NotFound { .. })),
            (429, |e| {
                matches!(
                    e,
                    SourceError::RateLimited {
                        retry_after: Some(_)
                    }
                )
            }),
            (503, |e| matches!(e, SourceError::Transient { .. })),
            (
                402,
                |e| matches!(e, SourceError::Rejected { code, .. } if code == "402"),
            ),
            (
                423,
                |e| matches!(e, SourceError::Rejected { code, .. } if code == "423"),
            ),
        ];
        for (status, expected) in cases {
            let status = StatusCode::from_u16(status).unwrap();
            let answer: Answer<Shop> = read("shop", status, Some(Duration::from_secs(1)), b"nope");
            let error = answer.result.unwrap_err();
            assert!(expected(&error), "{status} gave {error:?}");
        }
    }

    #[test]
    fn malformed_json_is_an_error_not_a_panic() {
        let answer = read_ok(r#"{"data": {"name": "#);
        match answer.result {
            Err(SourceError::Other(source)) => {
                assert!(source.downcast_ref::<AnswerError>().is_some())
            }
            other => panic!("expected Other, got {other:?}"),
        }
        assert!(read_ok(r#"{"data":null}"#).result.is_err());
        assert!(read_ok(r#"{"data":{"name":7}}"#).result.is_err());
    }
}
