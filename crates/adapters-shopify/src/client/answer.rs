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
    /// Kept loose: an odd extension must not cost a good answer its data.
    #[serde(default)]
    extensions: Option<serde_json::Value>,
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
        .and_then(cost_of);
    let result = match (
        status_error(status, retry_after, cost.as_ref(), body),
        envelope,
    ) {
        (Some(error), _) => Err(error),
        (None, Err(source)) => Err(AnswerError::Json { operation, source }.into()),
        (None, Ok(envelope)) => data_of(operation, envelope, cost.as_ref()),
    };
    Answer { result, cost }
}

/// `extensions.cost`, when it has a shape this adapter understands; otherwise nothing, and
/// the pacer goes on with what it knew.
fn cost_of(extensions: &serde_json::Value) -> Option<Cost> {
    let cost = extensions.get("cost")?;
    match serde_json::from_value::<Cost>(cost.clone()) {
        Ok(cost) => Some(cost),
        Err(error) => {
            tracing::debug!(%error, "ignoring an extensions.cost of unknown shape");
            None
        }
    }
}

/// The error an HTTP status stands for, whatever the body says. A 429 without `Retry-After`
/// waits for the bucket the body reports, when it reports one.
fn status_error(
    status: StatusCode,
    retry_after: Option<Duration>,
    cost: Option<&Cost>,
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
        429 => SourceError::RateLimited {
            retry_after: retry_after.or_else(|| cost.and_then(Cost::refill_wait)),
        },
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
    let errors = envelope.errors.as_ref().map(errors_of).unwrap_or_default();
    if let Some(error) = errors.iter().min_by_key(|e| precedence(e)) {
        return Err(graphql_error(error, cost));
    }
    match envelope.data {
        None | Some(serde_json::Value::Null) => Err(AnswerError::NoData { operation }.into()),
        Some(data) => serde_json::from_value(data)
            .map_err(|source| AnswerError::Json { operation, source }.into()),
    }
}

/// The errors of an `errors` value, whatever its shape.
fn errors_of(errors: &serde_json::Value) -> Vec<GraphqlError> {
    let unparsed = |message: String| GraphqlError {
        message,
        extensions: None,
    };
    match errors {
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|item| {
                serde_json::from_value(item.clone()).unwrap_or_else(|_| unparsed(item.to_string()))
            })
            .collect(),
        serde_json::Value::String(message) => vec![unparsed(message.clone())],
        other => vec![unparsed(other.to_string())],
    }
}

/// Codes of a failure on Shopify's side that may pass on its own.
const TRANSIENT_CODES: [&str; 3] = ["INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"];

/// Which of several errors an answer stands for (lowest first): a throttle, so the call
/// waits and is sent again; then a transient failure, so it is retried; then the first
/// of the rest.
fn precedence(error: &GraphqlError) -> u8 {
    match code_of(error) {
        Some("THROTTLED") => 0,
        Some(code) if TRANSIENT_CODES.contains(&code) => 1,
        _ => 2,
    }
}

fn code_of(error: &GraphqlError) -> Option<&str> {
    error.extensions.as_ref()?.code.as_deref()
}

/// A top-level GraphQL error, by its `extensions.code`.
fn graphql_error(error: &GraphqlError, cost: Option<&Cost>) -> SourceError {
    let code = code_of(error).unwrap_or("GRAPHQL_ERROR").to_owned();
    let message = error.message.clone();
    match code.as_str() {
        "THROTTLED" => SourceError::RateLimited {
            retry_after: cost.and_then(Cost::refill_wait),
        },
        "ACCESS_DENIED" | "UNAUTHORIZED" => SourceError::Unauthorized { message },
        "NOT_FOUND" => SourceError::NotFound { what: message },
        c if TRANSIENT_CODES.contains(&c) => SourceError::Transient {
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
mod tests;
