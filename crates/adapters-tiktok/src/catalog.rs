//! Reading the catalog: product search pages (202502, falling back to 202309 where the newer
//! path is missing), in `update_time` windows once a search reaches TikTok's result cap
//! ([`windows`]), and inventory search by product, 100 products per call.

mod windows;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::Method;
use stockbridge_domain::{ProductId, TikTokSku};
use stockbridge_ports::{Page, SinkError};

use crate::error::{NO_SUCH_ENDPOINT, NO_SUCH_VERSION, SEARCH_RESULTS_CAPPED};
use crate::sink::TikTokSink;
use crate::wire::{SearchBody, SearchData};
use windows::{Position, Window};

const SEARCH_PATH: &str = "/product/202502/products/search";
const LEGACY_SEARCH_PATH: &str = "/product/202309/products/search";

impl TikTokSink {
    /// One catalog page: every SKU of its products, with their quantities. A product can come
    /// again on a later page when the read had to split a window it was read in, or when it
    /// was updated during the read; [`Self::whole_catalog`] keeps one reading of each.
    pub(crate) async fn search_page(
        &self,
        cursor: Option<String>,
    ) -> Result<Page<TikTokSku>, SinkError> {
        let mut at =
            Position::from_cursor(cursor.as_deref()).map_err(|e| SinkError::Other(Box::new(e)))?;
        loop {
            let window = at.window();
            let data = match self.search(window, at.token.as_deref()).await {
                Ok(data) => data,
                Err(err) if is_capped(&err) => {
                    at.learn_cap();
                    narrow(&mut at, err)?;
                    continue;
                }
                Err(err) => return Err(err),
            };
            let total = data.total_count().unwrap_or(0);
            if at.token.is_none() && total > at.cap {
                let err = SinkError::Rejected {
                    code: SEARCH_RESULTS_CAPPED.to_string(),
                    message: format!("{total} products match; a search serves {}", at.cap),
                };
                narrow(&mut at, err)?;
                continue;
            }
            let products = data.product_count();
            let (items, next) = data.into_domain();
            let next = next.filter(|n| Some(n) != at.token.as_ref());
            let window_done = next.is_none();
            let next_at = at.advance(next, products);
            match next_at {
                // An empty window: go on to the next rather than hand out an empty page.
                Some(next_at) if items.is_empty() && window_done => at = next_at,
                next_at => {
                    return Ok(Page {
                        items,
                        next_cursor: next_at.map(|p| p.to_cursor()),
                    })
                }
            }
        }
    }

    /// Every SKU of the catalog, each product once: a product read more than once keeps its
    /// last reading (the later one, when it was updated during the read).
    pub(crate) async fn whole_catalog(&self) -> Result<Vec<TikTokSku>, SinkError> {
        let mut pages = Vec::new();
        let mut last_page: HashMap<ProductId, usize> = HashMap::new();
        let mut cursor = None;
        loop {
            let page = self.search_page(cursor).await?;
            for sku in &page.items {
                last_page.insert(sku.product_id.clone(), pages.len());
            }
            pages.push(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        // Sized once: a catalog of 100,000 SKUs is not copied while its vector grows.
        let mut all = Vec::with_capacity(pages.iter().map(Vec::len).sum());
        for (n, items) in pages.into_iter().enumerate() {
            all.extend(
                items
                    .into_iter()
                    .filter(|sku| last_page.get(&sku.product_id) == Some(&n)),
            );
        }
        all.shrink_to_fit();
        Ok(all)
    }

    /// One product search page of `window`.
    async fn search(&self, window: Window, token: Option<&str>) -> Result<SearchData, SinkError> {
        let body = SearchBody {
            update_time_ge: Some(window.ge).filter(|&ge| ge > 0),
            update_time_le: window.le,
        };
        let body = serde_json::to_vec(&body).map_err(|e| SinkError::Other(Box::new(e)))?;
        if !self.legacy_search.load(Ordering::Relaxed) {
            match self.search_at(SEARCH_PATH, token, body.clone()).await {
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
        self.search_at(LEGACY_SEARCH_PATH, token, body).await
    }

    async fn search_at(
        &self,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> Result<SearchData, SinkError> {
        let cipher = self.cipher().await?;
        let mut req = self.shop_request(Method::POST, path, cipher);
        req.query.push(("page_size", self.page_size.to_string()));
        if let Some(token) = token.filter(|t| !t.is_empty()) {
            req.query.push(("page_token", token.to_owned()));
        }
        req.body = Some(body);
        self.client.call(&req).await
    }
}

/// Splits the window being read, or, when it is one second, returns why the catalog cannot be
/// read whole (`refused`, with the second named).
fn narrow(at: &mut Position, refused: SinkError) -> Result<(), SinkError> {
    let window = at.window();
    let first = !at.windowed();
    if at.split(unix_now()) {
        if first {
            tracing::info!(
                cap = at.cap,
                "product search reached its result cap; reading the catalog by update_time windows"
            );
        }
        tracing::debug!(ge = window.ge, le = ?window.le, "update_time window split");
        return Ok(());
    }
    let when = match window.le {
        Some(le) if le == window.ge => format!("in second {le}"),
        _ => format!("at {} or later", window.ge),
    };
    match refused {
        SinkError::Rejected { code, message } => Err(SinkError::Rejected {
            code,
            message: format!(
                "more than {} products were last updated {when} (Unix seconds), more than one product search serves, so the catalog cannot be read whole ({message})",
                at.cap
            ),
        }),
        other => Err(other),
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn is_capped(err: &SinkError) -> bool {
    matches!(err, SinkError::Rejected { code, .. } if *code == SEARCH_RESULTS_CAPPED.to_string())
}

fn is_missing_endpoint(err: &SinkError) -> bool {
    let missing = [
        NO_SUCH_ENDPOINT.to_string(),
        NO_SUCH_VERSION.to_string(),
        "HTTP 404".to_owned(),
    ];
    matches!(err, SinkError::Rejected { code, .. } if missing.contains(code))
}
