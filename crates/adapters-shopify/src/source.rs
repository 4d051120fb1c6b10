//! [`ShopifySource`]: the inventory source over one shop's Admin GraphQL API.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use stockbridge_domain::{InventoryItemId, Location, VariantSnapshot};
use stockbridge_ports::{read_all_pages, InventorySource, Page, SourceError};

use crate::bulk::{self, Polling};
use crate::catalog::{self, Sizes};
use crate::client::GraphqlClient;
use crate::config::{ReadMode, ShopifyConfig};

/// Reads locations and variant stock from one shop. Built by [`ShopifyConfig::build`]; all
/// calls share one cost-bucket pacer.
pub struct ShopifySource {
    pub(crate) client: GraphqlClient,
    config: ShopifyConfig,
    /// How many locations the shop had at the last read of them (0 before): an item is
    /// stocked at no more, so a read by id asks for no more levels per item.
    locations: AtomicUsize,
}

impl std::fmt::Debug for ShopifySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopifySource")
            .field("shop_domain", &self.config.shop_domain)
            .field("endpoint", &self.config.endpoint())
            .finish_non_exhaustive()
    }
}

impl ShopifySource {
    pub(crate) fn new(client: GraphqlClient, config: ShopifyConfig) -> Self {
        ShopifySource {
            client,
            config,
            locations: AtomicUsize::new(0),
        }
    }

    /// The shop this source reads.
    pub fn shop_domain(&self) -> &str {
        &self.config.shop_domain
    }

    /// Every variant read page by page, whatever the read mode.
    pub async fn all_variants_paged(&self) -> Result<Vec<VariantSnapshot>, SourceError> {
        read_all_pages(|cursor| self.variants_page(cursor)).await
    }

    /// Every variant read through one bulk export, whatever the read mode.
    pub async fn all_variants_bulk(&self) -> Result<Vec<VariantSnapshot>, SourceError> {
        let polling = Polling {
            interval: self.config.bulk_poll_interval,
            timeout: self.config.bulk_timeout,
        };
        bulk::all_variants(&self.client, &polling).await
    }

    fn sizes(&self) -> Sizes {
        Sizes {
            variants: self.config.page_size,
            levels: self.config.levels_page_size,
        }
    }

    /// Levels asked for per item in a read by id: `levels_page_size`, or the shop's number
    /// of locations when smaller (the requested cost then matches the actual cost).
    fn item_levels(&self) -> usize {
        match self.locations.load(Ordering::Relaxed) {
            0 => self.config.levels_page_size,
            known => known.min(self.config.levels_page_size),
        }
    }

    /// Whether `Auto` mode should export: more variants than the threshold. A shop whose API
    /// cannot count variants is read by pages.
    async fn large_catalog(&self) -> Result<bool, SourceError> {
        match catalog::variant_count(&self.client).await {
            Ok(count) => Ok(count.exceeds(self.config.bulk_threshold as u64)),
            Err(SourceError::Rejected { code, message }) => {
                tracing::warn!(%code, %message, "cannot count variants; reading by pages");
                Ok(false)
            }
            Err(other) => Err(other),
        }
    }
}

#[async_trait]
impl InventorySource for ShopifySource {
    async fn locations(&self) -> Result<Vec<Location>, SourceError> {
        let locations = catalog::locations(&self.client).await?;
        self.locations.store(locations.len(), Ordering::Relaxed);
        Ok(locations)
    }

    async fn variants_page(
        &self,
        cursor: Option<String>,
    ) -> Result<Page<VariantSnapshot>, SourceError> {
        catalog::variants_page(&self.client, self.sizes(), cursor).await
    }

    async fn all_variants(&self) -> Result<Vec<VariantSnapshot>, SourceError> {
        let bulk = match self.config.read_mode {
            ReadMode::Paged => false,
            ReadMode::Bulk => true,
            ReadMode::Auto => self.large_catalog().await?,
        };
        if bulk {
            self.all_variants_bulk().await
        } else {
            self.all_variants_paged().await
        }
    }

    async fn variants_for_items(
        &self,
        items: &[InventoryItemId],
    ) -> Result<Vec<VariantSnapshot>, SourceError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let sizes = Sizes {
            variants: self.config.items_batch_size,
            levels: self.item_levels(),
        };
        catalog::variants_for_items(&self.client, sizes, items).await
    }

    /// What the cost bucket holds above half its size, in items read by id: background
    /// checks never take the bucket below half, so changes always find it at least half full.
    fn spare_item_reads(&self) -> usize {
        let (Some(size), Some(holds)) = (self.client.bucket_maximum(), self.client.bucket_holds())
        else {
            return 0;
        };
        let spare = holds - size / 2.0;
        let each = catalog::items_cost(1, self.item_levels()) as f64;
        if spare < each {
            return 0;
        }
        ((spare / each).floor() as usize).min(catalog::MAX_IDS)
    }
}
