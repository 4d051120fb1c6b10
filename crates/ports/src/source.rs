//! The inventory source: where stock comes from (Shopify).

use async_trait::async_trait;
use stockbridge_domain::{InventoryItemId, Location, VariantSnapshot};

use crate::error::SourceError;

/// One page of a paged read, with the cursor of the next page when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Reads every page of a paged read, in order, from the first page (`None`) until a page has
/// no next cursor.
pub async fn read_all_pages<T, E, F, Fut>(mut read_page: F) -> Result<Vec<T>, E>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, E>>,
{
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = read_page(cursor).await?;
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}

/// Reads the shop's locations and the stock of its variants.
///
/// Errors follow [`SourceError`]'s contract. Implementations retry throttling and transient
/// failures themselves where they can pace better than the caller; what they return has
/// already been retried as far as they judged useful.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait InventorySource: Send + Sync {
    /// Every location of the shop, active or not.
    async fn locations(&self) -> Result<Vec<Location>, SourceError>;

    /// One page of variant snapshots; `None` starts at the first page. Each variant appears
    /// on exactly one page, with all of its levels.
    async fn variants_page(
        &self,
        cursor: Option<String>,
    ) -> Result<Page<VariantSnapshot>, SourceError>;

    /// Every variant of the shop. The default walks [`Self::variants_page`]; an
    /// implementation may read large catalogs another way (a bulk export) with identical
    /// results.
    async fn all_variants(&self) -> Result<Vec<VariantSnapshot>, SourceError> {
        read_all_pages(|cursor| self.variants_page(cursor)).await
    }

    /// The current snapshots of the variants of these inventory items, for webhook-driven
    /// updates. Items that no longer exist are left out, not an error. Levels carry the time
    /// Shopify last changed them where the source knows it.
    async fn variants_for_items(
        &self,
        items: &[InventoryItemId],
    ) -> Result<Vec<VariantSnapshot>, SourceError>;

    /// How many inventory items [`Self::variants_for_items`] could read right now from spare
    /// capacity: without waiting for a rate limit, and leaving at least half of the limit to
    /// the reads that changes need. Background checks read no more than this. A source
    /// without a rate limit keeps the default, [`UNLIMITED_SPARE_READS`]; one that cannot
    /// tell yet answers 0.
    fn spare_item_reads(&self) -> usize {
        UNLIMITED_SPARE_READS
    }
}

/// [`InventorySource::spare_item_reads`] of a source without a rate limit.
pub const UNLIMITED_SPARE_READS: usize = 250;
