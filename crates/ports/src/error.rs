//! The errors of the ports, and the one function that decides what is retried.

use std::time::Duration;

/// Whether and how a failed call may be tried again. Every retry loop in the project asks
/// [`SourceError::retry`], [`SinkError::retry`] or [`StoreError::retry`], which all end here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Do not retry: a person must fix something, or the platform refused the data.
    Never,
    /// Retry with capped exponential backoff.
    Backoff,
    /// Retry, waiting at least this long first (the platform said so).
    After(Duration),
}

/// Why reading from the inventory source (Shopify) failed.
///
/// Implementations must return:
/// - `RateLimited` when the platform throttled the call (HTTP 429 or a `THROTTLED` answer),
///   with the wait the platform asked for when it said;
/// - `Unauthorized` when the credentials are missing, wrong or lack a scope;
/// - `NotFound` when the shop or resource does not exist;
/// - `Rejected` when the platform refused the request itself, with its code and message;
/// - `Transient` for timeouts, connection failures and 5xx answers;
/// - `Other` for anything else, such as an answer that does not parse.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Throttled; try again after the wait.
    #[error("rate limited by the inventory source{}", wait_text(*retry_after))]
    RateLimited {
        /// How long the platform asked to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// Credentials refused.
    #[error("the inventory source refused the credentials: {message}")]
    Unauthorized {
        /// What the platform said, without any secret.
        message: String,
    },
    /// The shop or resource does not exist.
    #[error("not found in the inventory source: {what}")]
    NotFound {
        /// What was missing.
        what: String,
    },
    /// The platform refused the request.
    #[error("the inventory source rejected the request: {code}: {message}")]
    Rejected {
        /// The platform's error code.
        code: String,
        /// The platform's message.
        message: String,
    },
    /// A timeout, connection failure or server error; worth retrying.
    #[error("the inventory source is unavailable: {message}")]
    Transient {
        /// What happened.
        message: String,
    },
    /// Anything else. Displays the whole chain of causes, so a report line or an exit
    /// message says what happened.
    #[error("inventory source error: {}", chain(.0.as_ref()))]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Why writing to or reading from the inventory sink (TikTok Shop) failed. A per-SKU refusal
/// inside an accepted call is not an error: it is a `WarehouseOutcome::Rejected`.
///
/// Implementations must return:
/// - `RateLimited` for HTTP 429 or TikTok's 36009002, with the wait when the platform said;
/// - `Unauthorized` for signature, timestamp, token, app key and shop cipher problems that
///   survive a token refresh;
/// - `NotFound` for an unknown product or shop;
/// - `Rejected` when the whole call was refused for its content, with TikTok's code and message;
/// - `Transient` for timeouts, connection failures, 5xx and TikTok's internal errors;
/// - `Other` for anything else, such as an answer that does not parse.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Throttled; try again after the wait.
    #[error("rate limited by TikTok Shop{}", wait_text(*retry_after))]
    RateLimited {
        /// How long the platform asked to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// Credentials refused.
    #[error("TikTok Shop refused the credentials: {message}")]
    Unauthorized {
        /// What to fix, without any secret.
        message: String,
    },
    /// The product or shop does not exist.
    #[error("not found on TikTok Shop: {what}")]
    NotFound {
        /// What was missing.
        what: String,
    },
    /// The call was refused for its content.
    #[error("TikTok Shop rejected the request: {code}: {message}")]
    Rejected {
        /// TikTok's error code.
        code: String,
        /// TikTok's message.
        message: String,
    },
    /// A timeout, connection failure or server error; worth retrying.
    #[error("TikTok Shop is unavailable: {message}")]
    Transient {
        /// What happened.
        message: String,
    },
    /// Anything else. Displays the whole chain of causes.
    #[error("TikTok Shop error: {}", chain(.0.as_ref()))]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Why the state store failed.
///
/// Implementations must return `Unavailable` when the store cannot be reached or is locked
/// (worth retrying), `Corrupt` when stored data cannot be read back, and `Other` otherwise.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store is busy or unreachable.
    #[error("the state store is unavailable: {message}")]
    Unavailable {
        /// What happened.
        message: String,
    },
    /// Stored data does not read back.
    #[error("the state store holds unreadable data: {message}")]
    Corrupt {
        /// What is wrong.
        message: String,
    },
    /// Anything else. Displays the whole chain of causes.
    #[error("state store error: {}", chain(.0.as_ref()))]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// ` (retry after 1.5s)` when the platform said how long to wait; nothing when it did not.
fn wait_text(retry_after: Option<Duration>) -> String {
    retry_after.map_or_else(String::new, |wait| {
        let seconds = wait.as_millis() as f64 / 1000.0;
        format!(" (retry after {seconds}s)")
    })
}

/// An error and its causes, joined by `: ` (a cause already quoted by the one before it is
/// not repeated). Adapters keep secrets out of their errors, so the chain carries none.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let next = c.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = c.source();
    }
    text
}

/// The project's single retry classification, over the kinds the port errors share.
fn classify(rate_limited: Option<Option<Duration>>, transient: bool) -> Retry {
    match (rate_limited, transient) {
        (Some(Some(wait)), _) => Retry::After(wait),
        (Some(None), _) | (None, true) => Retry::Backoff,
        (None, false) => Retry::Never,
    }
}

impl SourceError {
    /// Whether and how to retry the call that failed with this error.
    pub fn retry(&self) -> Retry {
        match self {
            SourceError::RateLimited { retry_after } => classify(Some(*retry_after), false),
            SourceError::Transient { .. } => classify(None, true),
            _ => classify(None, false),
        }
    }
}

impl SinkError {
    /// Whether and how to retry the call that failed with this error.
    pub fn retry(&self) -> Retry {
        match self {
            SinkError::RateLimited { retry_after } => classify(Some(*retry_after), false),
            SinkError::Transient { .. } => classify(None, true),
            _ => classify(None, false),
        }
    }
}

impl StoreError {
    /// Whether and how to retry the call that failed with this error.
    pub fn retry(&self) -> Retry {
        classify(None, matches!(self, StoreError::Unavailable { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_with_a_wait_is_retried_after_that_wait() {
        let e = SinkError::RateLimited {
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(e.retry(), Retry::After(Duration::from_secs(2)));
        let e = SourceError::RateLimited { retry_after: None };
        assert_eq!(e.retry(), Retry::Backoff);
    }

    #[test]
    fn throttling_says_the_wait_in_seconds_or_nothing_when_none_was_given() {
        let sink = |wait| SinkError::RateLimited { retry_after: wait }.to_string();
        assert_eq!(
            sink(Some(Duration::from_secs(1))),
            "rate limited by TikTok Shop (retry after 1s)"
        );
        assert_eq!(
            sink(Some(Duration::from_millis(1500))),
            "rate limited by TikTok Shop (retry after 1.5s)"
        );
        assert_eq!(sink(None), "rate limited by TikTok Shop");
        let source = SourceError::RateLimited {
            retry_after: Some(Duration::from_millis(250)),
        };
        assert_eq!(
            source.to_string(),
            "rate limited by the inventory source (retry after 0.25s)"
        );
    }

    #[test]
    fn refusals_and_bad_credentials_are_never_retried() {
        let e = SinkError::Rejected {
            code: "12019024".into(),
            message: "stock".into(),
        };
        assert_eq!(e.retry(), Retry::Never);
        let e = SourceError::Unauthorized {
            message: "bad token".into(),
        };
        assert_eq!(e.retry(), Retry::Never);
        assert_eq!(
            StoreError::Corrupt {
                message: "x".into()
            }
            .retry(),
            Retry::Never
        );
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot create the state file x.db")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn the_catch_all_variants_say_what_happened_down_to_the_root_cause() {
        let io = || std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
        let store = StoreError::Other(Box::new(Outer(io())));
        assert_eq!(
            store.to_string(),
            "state store error: cannot create the state file x.db: permission denied"
        );
        let sink = SinkError::Other(Box::new(Outer(io())));
        assert_eq!(
            sink.to_string(),
            "TikTok Shop error: cannot create the state file x.db: permission denied"
        );
        let source = SourceError::Other("answer does not parse".into());
        assert_eq!(
            source.to_string(),
            "inventory source error: answer does not parse"
        );
    }

    #[test]
    fn transient_failures_back_off() {
        assert_eq!(
            SinkError::Transient {
                message: "503".into()
            }
            .retry(),
            Retry::Backoff
        );
        assert_eq!(
            StoreError::Unavailable {
                message: "locked".into()
            }
            .retry(),
            Retry::Backoff
        );
    }
}
