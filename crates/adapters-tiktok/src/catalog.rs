//! Reading the catalog: product search pages (202502, falling back to 202309 where the newer
//! path is missing) and inventory search by product, 100 products per call.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use reqwest::Method;
use stockbridge_domain::{ProductId, TikTokSku};
use stockbridge_ports::{Page, SinkError};

use crate::error::{NO_SUCH_ENDPOINT, NO_SUCH_VERSION};
use crate::sink::TikTokSink;
use crate::wire::{InventorySearchBody, InventorySearchData, SearchData};

const SEARCH_PATH: &str = "/product/202502/products/search";
const LEGACY_SEARCH_PATH: &str = "/product/202309/products/search";
const INVENTORY_SEARCH_PATH: &str = "/product/202309/inventory/search";
/// Inventory search takes at most this many product ids.
const INVENTORY_BATCH: usize = 100;
/// TikTok's code for an invalid product id in inventory search.
const INVALID_PRODUCT_ID: &str = "12019008";

impl TikTokSink {
    /// One product search page: every SKU of its products, with their quantities.
    pub(crate) async fn search_page(
        &self,
        cursor: Option<String>,
    ) -> Result<Page<TikTokSku>, SinkError> {
        if !self.legacy_search.load(Ordering::Relaxed) {
            match self.search_at(SEARCH_PATH, cursor.as_deref()).await {
                Err(err) if is_missing_endpoint(&err) => {
                    tracing::info!(
                        path = SEARCH_PATH,
                        "product search 202502 unavailable; using 202309"
                    );
                    self.legacy_search.store(true, Ordering::Relaxed);
                }
                other => return other,
            }
        }
        self.search_at(LEGACY_SEARCH_PATH, cursor.as_deref()).await
    }

    async fn search_at(
        &self,
        path: &str,
        cursor: Option<&str>,
    ) -> Result<Page<TikTokSku>, SinkError> {
        let cipher = self.cipher().await?;
        let mut req = self.shop_request(Method::POST, path, cipher);
        req.query.push(("page_size", self.page_size.to_string()));
        if let Some(token) = cursor.filter(|t| !t.is_empty()) {
            req.query.push(("page_token", token.to_owned()));
        }
        req.body = Some(b"{}".to_vec());
        let data: SearchData = self.client.call(&req).await?;
        let (items, next) = data.into_domain();
        let next_cursor = next.filter(|n| Some(n.as_str()) != cursor);
        Ok(Page { items, next_cursor })
    }

    /// What TikTok holds now for these products' SKUs; unknown products are left out.
    pub(crate) async fn inventory(
        &self,
        products: &[ProductId],
    ) -> Result<Vec<TikTokSku>, SinkError> {
        let unique: Vec<&str> = products
            .iter()
            .map(ProductId::as_str)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut skus = Vec::new();
        for batch in unique.chunks(INVENTORY_BATCH) {
            match self.inventory_batch(batch).await {
                Ok(found) => skus.extend(found),
                Err(err) if is_unknown_product(&err) && batch.len() > 1 => {
                    // One bad id can spoil a batch: ask one by one and skip the unknown.
                    for id in batch {
                        match self.inventory_batch(&[id]).await {
                            Ok(found) => skus.extend(found),
                            Err(err) if is_unknown_product(&err) => {}
                            Err(err) => return Err(err),
                        }
                    }
                }
                Err(err) if is_unknown_product(&err) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(skus)
    }

    async fn inventory_batch(&self, product_ids: &[&str]) -> Result<Vec<TikTokSku>, SinkError> {
        let cipher = self.cipher().await?;
        let body = serde_json::to_vec(&InventorySearchBody {
            product_ids: product_ids.to_vec(),
        })
        .map_err(|e| SinkError::Other(Box::new(e)))?;
        let mut req = self.shop_request(Method::POST, INVENTORY_SEARCH_PATH, cipher);
        req.body = Some(body);
        let data: InventorySearchData = self.client.call(&req).await?;
        Ok(data.into_domain())
    }
}

fn is_missing_endpoint(err: &SinkError) -> bool {
    let missing = [
        NO_SUCH_ENDPOINT.to_string(),
        NO_SUCH_VERSION.to_string(),
        "HTTP 404".to_owned(),
    ];
    matches!(err, SinkError::Rejected { code, .. } if missing.contains(code))
}

fn is_unknown_product(err: &SinkError) -> bool {
    match err {
        SinkError::NotFound { .. } => true,
        SinkError::Rejected { code, .. } => code == INVALID_PRODUCT_ID,
        _ => false,
    }
}
