//! How to reach one shop and how hard to push it: [`ShopifyConfig`] builds the source.

use std::time::Duration;

use stockbridge_ports::{RetryPolicy, Secret};

use crate::client::GraphqlClient;
use crate::error::ShopifyError;
use crate::source::ShopifySource;

/// The most a single GraphQL query may request (`MAX_COST_EXCEEDED` above it).
pub const MAX_QUERY_COST: u64 = 1000;

/// How [`ShopifySource`] reads the whole catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadMode {
    /// Bulk export when the shop has more than `bulk_threshold` variants, pages otherwise.
    #[default]
    Auto,
    /// Always page through `productVariants`.
    Paged,
    /// Always run a bulk export.
    Bulk,
}

/// The HTTP clients a source sends with: one for queries, one for bulk export downloads
/// (bounded by silence, not by a total time). Cheap to clone; many sources may share them.
#[derive(Debug, Clone)]
pub struct ShopifyHttp {
    queries: reqwest::Client,
    downloads: reqwest::Client,
}

impl ShopifyHttp {
    /// Clients with these timeouts to connect and of silence in a download.
    pub fn new(
        connect_timeout: Duration,
        download_read_timeout: Duration,
    ) -> Result<ShopifyHttp, ShopifyError> {
        let build = |builder: reqwest::ClientBuilder| {
            builder
                .connect_timeout(connect_timeout)
                .build()
                .map_err(ShopifyError::HttpClient)
        };
        Ok(ShopifyHttp {
            queries: build(reqwest::Client::builder())?,
            downloads: build(reqwest::Client::builder().read_timeout(download_read_timeout))?,
        })
    }
}

/// Settings of the Shopify source. `Debug` never shows the token.
#[derive(Debug, Clone)]
pub struct ShopifyConfig {
    /// The shop's `*.myshopify.com` domain.
    pub shop_domain: String,
    /// Admin API version, `YYYY-MM`.
    pub api_version: String,
    /// Where the Admin API lives; `https://{shop_domain}` when `None` (the sandbox's URL in
    /// tests and demos).
    pub base_url: Option<String>,
    /// The Admin API access token (`X-Shopify-Access-Token`).
    pub access_token: Secret,
    /// Limit on opening a connection.
    pub connect_timeout: Duration,
    /// Limit on one whole GraphQL request, answer included.
    pub request_timeout: Duration,
    /// Longest silence while downloading a bulk export file. The download as a whole has no
    /// limit (an export of hundreds of megabytes takes minutes); `request_timeout` does not
    /// apply to it.
    pub download_read_timeout: Duration,
    /// Pages, bulk export, or chosen by catalog size.
    pub read_mode: ReadMode,
    /// In `Auto` mode, more variants than this (counted with `productVariantsCount`) are read
    /// by bulk export.
    pub bulk_threshold: usize,
    /// Variants per page (1..=250).
    pub page_size: usize,
    /// Inventory levels read with each variant (1..=250); an item stocked at more locations
    /// gets its remaining levels in follow-up queries. `page_size` × `levels_page_size` sets
    /// the query cost, which must stay under [`MAX_QUERY_COST`].
    pub levels_page_size: usize,
    /// The most inventory item ids per read by id (1..=250); fewer when the query would cost
    /// more than Shopify's single-query limit or than the cost bucket holds at the time.
    pub items_batch_size: usize,
    /// Retries of failed calls, throttled ones included, and the time limit of one query
    /// (8 attempts, backoff from 250 ms to 30 s, 100 throttled answers in a row each waited
    /// out as long as Shopify asks, 10 minutes per query in all).
    pub retry: RetryPolicy,
    /// Time between two looks at a running bulk export.
    pub bulk_poll_interval: Duration,
    /// Longest a bulk read may take in all: waiting for a free export slot, every run of the
    /// export, and the polling.
    pub bulk_timeout: Duration,
    /// Headers sent with every request (a fleet worker's `X-Stockbridge-Lease`).
    pub headers: Vec<(String, String)>,
}

impl ShopifyConfig {
    /// Defaults for a shop: API 2026-10, 5 s to connect, 30 s per request, 60 s of silence at
    /// most in an export download, 25 variants × 10 levels per page (requested cost 877), bulk
    /// above 250 variants: a page of 25 variants costs about 280 points, so on a Standard plan
    /// (100 points/s) paging reads about 9 variants a second, while a bulk export is not
    /// charged to the bucket and takes seconds.
    pub fn new(shop_domain: impl Into<String>, access_token: Secret) -> Self {
        ShopifyConfig {
            shop_domain: shop_domain.into(),
            api_version: "2026-10".to_owned(),
            base_url: None,
            access_token,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            download_read_timeout: Duration::from_secs(60),
            read_mode: ReadMode::Auto,
            bulk_threshold: 250,
            page_size: 25,
            levels_page_size: 10,
            items_batch_size: 250,
            retry: RetryPolicy {
                max_attempts: 8,
                base_delay: Duration::from_millis(250),
                max_retry_after: Duration::from_secs(600),
                call_timeout: Duration::from_secs(600),
                ..RetryPolicy::default()
            },
            bulk_poll_interval: Duration::from_secs(2),
            bulk_timeout: Duration::from_secs(6 * 3600),
            headers: Vec::new(),
        }
    }

    /// The GraphQL endpoint: `{base}/admin/api/{version}/graphql.json`.
    pub fn endpoint(&self) -> String {
        let base = match &self.base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("https://{}", self.shop_domain),
        };
        format!("{base}/admin/api/{}/graphql.json", self.api_version)
    }

    /// Checks the settings and builds the source over HTTP clients of its own. Makes no
    /// request.
    pub fn build(&self) -> Result<ShopifySource, ShopifyError> {
        self.build_with(&ShopifyHttp::new(
            self.connect_timeout,
            self.download_read_timeout,
        )?)
    }

    /// Checks the settings and builds the source over `http`, which many sources may share
    /// (a fleet worker's shops: one connection pool, not one per shop). The source's
    /// `headers` and `request_timeout` go with each of its queries; the connect and download
    /// timeouts are the clients'. Makes no request.
    pub fn build_with(&self, http: &ShopifyHttp) -> Result<ShopifySource, ShopifyError> {
        self.validate()?;
        let client = GraphqlClient::new(
            crate::client::Sender {
                client: http.queries.clone(),
                headers: self.header_map()?,
                timeout: self.request_timeout,
            },
            http.downloads.clone(),
            self.endpoint(),
            self.access_token.clone(),
            self.retry.clone(),
        );
        Ok(ShopifySource::new(client, self.clone()))
    }

    /// The extra headers; a name or value that is not a valid header is refused.
    fn header_map(&self) -> Result<reqwest::header::HeaderMap, ShopifyError> {
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in &self.headers {
            let invalid = |problem: String| ShopifyError::InvalidConfig {
                field: "headers",
                problem,
            };
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(format!("header name {name:?} is not valid")))?;
            let value = reqwest::header::HeaderValue::from_str(value)
                .map_err(|_| invalid(format!("the value of header {name} is not valid")))?;
            map.insert(name, value);
        }
        Ok(map)
    }

    fn validate(&self) -> Result<(), ShopifyError> {
        let invalid = |field, problem: &str| {
            Err(ShopifyError::InvalidConfig {
                field,
                problem: problem.to_owned(),
            })
        };
        if self.shop_domain.trim().is_empty() {
            return invalid("shop_domain", "empty; expected e.g. my-shop.myshopify.com");
        }
        if self.api_version.trim().is_empty() || self.api_version.contains('/') {
            return invalid("api_version", "expected YYYY-MM, e.g. 2026-10");
        }
        if self.access_token.is_empty() {
            return invalid("access_token", "empty");
        }
        if let Some(url) = &self.base_url {
            match reqwest::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                _ => return invalid("base_url", "expected an http(s) URL"),
            }
        }
        for (field, value) in [
            ("page_size", self.page_size),
            ("levels_page_size", self.levels_page_size),
            ("items_batch_size", self.items_batch_size),
        ] {
            if !(1..=250).contains(&value) {
                return invalid(field, &format!("{value} is outside 1..=250"));
            }
        }
        let cost = crate::catalog::page_cost(self.page_size, self.levels_page_size);
        if cost > MAX_QUERY_COST {
            return invalid(
                "page_size",
                &format!(
                    "{} variants × {} levels per page request {cost} points; Shopify allows {MAX_QUERY_COST}",
                    self.page_size, self.levels_page_size
                ),
            );
        }
        if let Err(why) = self.retry.check() {
            return invalid("retry", why);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ShopifyConfig {
        ShopifyConfig::new("demo.myshopify.com", Secret::new("shpat_x"))
    }

    #[test]
    fn endpoint_defaults_to_the_shop_domain_over_https() {
        assert_eq!(
            config().endpoint(),
            "https://demo.myshopify.com/admin/api/2026-10/graphql.json"
        );
        let mut c = config();
        c.base_url = Some("http://127.0.0.1:9/".into());
        assert_eq!(
            c.endpoint(),
            "http://127.0.0.1:9/admin/api/2026-10/graphql.json"
        );
    }

    #[test]
    fn default_page_stays_under_the_query_cost_limit() {
        let c = config();
        assert!(crate::catalog::page_cost(c.page_size, c.levels_page_size) <= MAX_QUERY_COST);
        assert!(c.build().is_ok());
    }

    #[test]
    fn refuses_a_page_that_would_exceed_the_query_cost_limit() {
        let mut c = config();
        c.page_size = 250;
        c.levels_page_size = 50;
        let err = c.build().expect_err("too costly");
        assert!(
            matches!(
                err,
                ShopifyError::InvalidConfig {
                    field: "page_size",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn refuses_an_empty_token_without_printing_any_token() {
        let mut c = config();
        c.access_token = Secret::new("");
        assert!(matches!(
            c.build().err(),
            Some(ShopifyError::InvalidConfig {
                field: "access_token",
                ..
            })
        ));
        assert!(!format!("{:?}", config()).contains("shpat_x"));
    }
}
