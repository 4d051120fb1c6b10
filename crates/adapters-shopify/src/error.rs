//! The crate's own errors: a configuration that cannot build a source, and an answer from
//! Shopify that does not have the shape this adapter reads. Failures of calls to Shopify are
//! `ports::SourceError`; webhook problems are [`crate::webhook::WebhookError`].

use stockbridge_ports::SourceError;

/// Why a [`crate::ShopifyConfig`] could not build a source.
#[derive(Debug, thiserror::Error)]
pub enum ShopifyError {
    /// A setting is missing or out of range.
    #[error("invalid Shopify setting `{field}`: {problem}")]
    InvalidConfig {
        /// The setting, as named in [`crate::ShopifyConfig`].
        field: &'static str,
        /// What is wrong and what is allowed.
        problem: String,
    },
    /// The HTTP client could not be built (TLS backend, proxy settings).
    #[error("could not build the HTTP client for Shopify")]
    HttpClient(#[source] reqwest::Error),
}

/// An answer from Shopify that this adapter cannot read. Reaches callers inside
/// `SourceError::Other`, from which it can be downcast.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// The body is not the JSON expected for the operation.
    #[error("the answer to {operation} is not the expected JSON")]
    Json {
        /// The GraphQL operation (or download) that was answered.
        operation: &'static str,
        /// What did not parse.
        #[source]
        source: serde_json::Error,
    },
    /// The answer carries neither data nor errors.
    #[error("the answer to {operation} carries no data")]
    NoData {
        /// The GraphQL operation that was answered.
        operation: &'static str,
    },
    /// An id that is not a `gid://shopify/{kind}/N`.
    #[error("unexpected id {value:?} (expected gid://shopify/{kind}/N)")]
    Gid {
        /// The kind of object expected.
        kind: &'static str,
        /// The id as received.
        value: String,
    },
    /// An enum value this adapter does not know.
    #[error("unknown {field} value {value:?}")]
    UnknownValue {
        /// The field that carried it.
        field: &'static str,
        /// The value as received.
        value: String,
    },
    /// A line of a bulk export that does not parse.
    #[error("line {line} of the bulk export is not valid")]
    BulkLine {
        /// One-based line number.
        line: usize,
        /// What did not parse.
        #[source]
        source: serde_json::Error,
    },
    /// A line of a bulk export that belongs to no variant of the export.
    #[error("line {line} of the bulk export names an unknown parent {parent:?}")]
    BulkOrphan {
        /// One-based line number.
        line: usize,
        /// The `__parentId` it carried.
        parent: String,
    },
}

impl From<AnswerError> for SourceError {
    fn from(error: AnswerError) -> Self {
        SourceError::Other(Box::new(error))
    }
}
