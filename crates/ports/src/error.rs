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
    #[error("rate limited by the inventory source (retry after {retry_after:?})")]
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
    /// Anything else.
    #[error("inventory source error")]
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
    #[error("rate limited by TikTok Shop (retry after {retry_after:?})")]
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
    /// Anything else.
    #[error("TikTok Shop error")]
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
    /// Anything else.
    #[error("state store error")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
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
