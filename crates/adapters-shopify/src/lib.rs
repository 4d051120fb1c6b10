//! The Shopify side of Stockbridge: an `InventorySource` over the Admin GraphQL API (paged and
//! bulk reads, cost-bucket pacing, retries), webhook verification and parsing, and the health
//! check. It turns Shopify's wire formats into domain types and `ports::SourceError`.
//!
//! It must not know TikTok Shop, the sync rules, the state store or any HTTP server: the
//! application receives webhooks and decides what to do with what this crate reads.

mod bulk;
mod catalog;
mod client;
mod config;
mod error;
mod gid;
mod health;
mod orders;
mod source;
mod time;
pub mod webhook;

pub use config::{ReadMode, ShopifyConfig, ShopifyHttp, MAX_QUERY_COST};
pub use error::{AnswerError, ShopifyError};
pub use health::{Scopes, ShopifyHealth, REQUIRED_SCOPES};
pub use source::ShopifySource;
pub use stockbridge_ports::RetryPolicy;
pub use webhook::{
    parse_webhook, verify_webhook, verify_webhook_any, EventKind, LocationChange, ShopifyEvent,
    WebhookError, WebhookHeaders,
};
