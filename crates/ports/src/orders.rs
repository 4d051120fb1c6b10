//! Orders, for the hold on units sold on TikTok that Shopify does not know yet
//! (sync-rules.md §7): TikTok's order search and Shopify's recent orders.

use async_trait::async_trait;
use stockbridge_domain::{ShopifyOrderMarks, TikTokOrder};

use crate::error::{SinkError, SourceError};

/// Reads TikTok Shop's orders.
///
/// Errors follow [`SinkError`]'s contract; a token without the order scope is
/// [`SinkError::Unauthorized`].
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait TikTokOrders: Send + Sync {
    /// Every order whose `update_time` (Unix seconds) lies in `from..until` (`until` open
    /// when `None`), all pages read.
    async fn orders_updated(
        &self,
        from: i64,
        until: Option<i64>,
    ) -> Result<Vec<TikTokOrder>, SinkError>;
}

/// Reads Shopify's recent orders (the `read_orders` scope).
///
/// Errors follow [`SourceError`]'s contract; a token without `read_orders` is
/// [`SourceError::Unauthorized`].
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ShopifyOrders: Send + Sync {
    /// The marks of every order created at or after `since` (Unix seconds), all pages read.
    async fn orders_created_since(&self, since: i64)
        -> Result<Vec<ShopifyOrderMarks>, SourceError>;
}
