//! Shopify webhooks: verifying a delivery's signature over the raw body, reading its headers,
//! and parsing its REST-shaped body into a typed [`ShopifyEvent`]. No HTTP server here: the
//! application receives the request and hands over the headers and bytes.

mod event;
mod headers;
mod signature;

pub use event::{parse_webhook, EventKind, LocationChange, ShopifyEvent};
pub use headers::WebhookHeaders;
pub use signature::{verify_webhook, verify_webhook_any};

/// Why a delivery was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// A required header is absent.
    #[error("the webhook lacks the {0} header")]
    MissingHeader(&'static str),
    /// An id header is longer than [`WebhookHeaders::MAX_LEN`].
    #[error(
        "the webhook's {header} header is {len} bytes long; at most {} are accepted",
        WebhookHeaders::MAX_LEN
    )]
    HeaderTooLong {
        /// The header.
        header: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The body is the payload of another topic's resource (a product sent as a location,
    /// say): the signature covers the body only, so the topic header could have been changed.
    #[error("the body of a {topic} webhook is {found}, not the topic's resource")]
    WrongResource {
        /// The delivery's topic.
        topic: String,
        /// What the body is instead.
        found: String,
    },
    /// The signature header is not base64 of a SHA-256 digest.
    #[error("the webhook signature header is not a base64 HMAC-SHA256")]
    MalformedSignature,
    /// The signature does not match the body under any configured secret.
    #[error("the webhook signature does not match its body")]
    BadSignature,
    /// No secret is configured, so nothing can be verified.
    #[error("no webhook secret is configured")]
    NoSecret,
    /// The body does not parse as the topic's payload.
    #[error("the body of a {topic} webhook does not parse")]
    MalformedBody {
        /// The delivery's topic.
        topic: String,
        /// What did not parse.
        #[source]
        source: serde_json::Error,
    },
    /// The body names an id that is not a positive number.
    #[error("the {topic} webhook carries an invalid {field}")]
    InvalidId {
        /// The delivery's topic.
        topic: String,
        /// The field holding the id.
        field: &'static str,
    },
}
