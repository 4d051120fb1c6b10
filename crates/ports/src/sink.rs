//! The inventory sink: where stock goes (TikTok Shop).

use async_trait::async_trait;
use stockbridge_domain::{ProductWrite, TikTokSku, Warehouse, WriteOutcome};

use crate::error::SinkError;
use crate::source::{read_all_pages, Page};

/// Reads TikTok Shop's warehouses and SKUs and writes per-warehouse quantities.
///
/// Errors follow [`SinkError`]'s contract. A call TikTok accepted but in which it refused
/// some SKUs is `Ok`, with those SKUs' outcomes `Rejected`.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait InventorySink: Send + Sync {
    /// Every warehouse of the shop, of every type and status.
    async fn warehouses(&self) -> Result<Vec<Warehouse>, SinkError>;

    /// One page of the catalog: SKUs with their seller SKU and current quantity in each
    /// warehouse they are stocked in. `None` starts at the first page. A product's SKUs are
    /// never split across pages.
    async fn skus_page(&self, cursor: Option<String>) -> Result<Page<TikTokSku>, SinkError>;

    /// The whole catalog. The default walks [`Self::skus_page`].
    async fn all_skus(&self) -> Result<Vec<TikTokSku>, SinkError> {
        read_all_pages(|cursor| self.skus_page(cursor)).await
    }

    /// Applies one product's write and returns one outcome per (SKU, warehouse) it states.
    async fn apply(&self, write: &ProductWrite) -> Result<Vec<WriteOutcome>, SinkError>;
}
