//! The sink itself: TikTok Shop behind [`InventorySink`].

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use stockbridge_domain::{ProductWrite, TikTokSku, Warehouse, WriteOutcome};
use stockbridge_ports::{InventorySink, Page, SinkError, StateStore};
use tokio::sync::OnceCell;

use crate::client::{Client, Request};
use crate::outcome::outcomes;
use crate::wire::{UpdateBody, UpdateData, WarehousesData};

/// The code of a write refused before sending (nothing to write).
pub const EMPTY_WRITE: &str = "stockbridge.empty_write";

/// TikTok Shop as an inventory sink. Cheap to share behind an `Arc`: concurrent calls share
/// one request pace and one set of tokens.
pub struct TikTokSink {
    pub(crate) client: Client,
    pub(crate) shop_cipher: OnceCell<String>,
    pub(crate) configured_cipher: bool,
    /// Set once the 202502 product search turned out to be missing.
    pub(crate) legacy_search: AtomicBool,
    pub(crate) page_size: u32,
}

impl std::fmt::Debug for TikTokSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TikTokSink")
            .field("base_url", &self.client.base_url)
            .field("app_key", &self.client.app_key)
            .field("shop_cipher", &self.shop_cipher.get())
            .finish_non_exhaustive()
    }
}

impl TikTokSink {
    pub(crate) fn new(client: Client, shop_cipher: Option<String>, page_size: u32) -> Self {
        let configured_cipher = shop_cipher.is_some();
        TikTokSink {
            client,
            shop_cipher: OnceCell::new_with(shop_cipher),
            configured_cipher,
            legacy_search: AtomicBool::new(false),
            page_size,
        }
    }

    /// Keeps tokens in `store`, under [`crate::token_key`] of the configured tokens: tokens
    /// saved there are used instead of the configured ones (they come from a later refresh of
    /// the same grant), and every refresh saves both new tokens there.
    pub fn with_token_store(mut self, store: Arc<dyn StateStore>) -> Self {
        self.client.tokens.set_store(store);
        self
    }

    /// The request rate in force now (requests per second): [`crate::PACING_SHARE`] of the
    /// configured limit, or less after TikTok throttled.
    pub fn request_rate(&self) -> f64 {
        self.client.limiter.rate()
    }

    pub(crate) fn shop_request<'a>(
        &'a self,
        method: Method,
        path: &'a str,
        cipher: &'a str,
    ) -> Request<'a> {
        Request {
            method,
            path,
            query: Vec::new(),
            body: None,
            shop_cipher: Some(cipher),
        }
    }
}

#[async_trait]
impl InventorySink for TikTokSink {
    async fn warehouses(&self) -> Result<Vec<Warehouse>, SinkError> {
        let cipher = self.cipher().await?;
        let req = self.shop_request(Method::GET, "/logistics/202309/warehouses", cipher);
        let data: WarehousesData = self.client.call(&req).await?;
        Ok(data.into_domain())
    }

    async fn skus_page(&self, cursor: Option<String>) -> Result<Page<TikTokSku>, SinkError> {
        self.search_page(cursor).await
    }

    async fn all_skus(&self) -> Result<Vec<TikTokSku>, SinkError> {
        self.whole_catalog().await
    }

    async fn apply(&self, write: &ProductWrite) -> Result<Vec<WriteOutcome>, SinkError> {
        if write.skus.is_empty() || write.skus.iter().any(|s| s.stock.is_empty()) {
            return Err(SinkError::Rejected {
                code: EMPTY_WRITE.to_owned(),
                message: format!(
                    "the write to product {} states no quantity for some SKU; nothing was sent",
                    write.product_id
                ),
            });
        }
        let cipher = self.cipher().await?;
        let body = serde_json::to_vec(&UpdateBody::from_write(write))
            .map_err(|e| SinkError::Other(Box::new(e)))?;
        let path = format!(
            "/product/202309/products/{}/inventory/update",
            urlencoding::encode(write.product_id.as_str())
        );
        let mut req = self.shop_request(Method::POST, &path, cipher);
        req.body = Some(body);
        let data: UpdateData = self.client.call(&req).await?;
        let result = outcomes(write, &data);
        let refused = result.iter().filter(|o| !o.is_applied()).count();
        if refused > 0 {
            tracing::warn!(product = %write.product_id, refused, stated = result.len(), "TikTok refused part of an inventory update");
        }
        Ok(result)
    }
}
