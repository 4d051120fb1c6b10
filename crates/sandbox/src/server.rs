//! Starting and stopping the emulators: one axum listener serving both stores' real paths and
//! the control API.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::response::IntoResponse;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::credentials::Credentials;
use crate::faults::{FaultState, Faults};
use crate::fixture::Fixture;
use crate::shopify::bulk::BulkOperations;
use crate::shopify::cost::Bucket;
use crate::shops::{Keys, Registry, Shops, UnknownShop};
use crate::stats::{Stats, StatsRecorder};
use crate::store::writes::TikTokWrite;
use crate::store::World;
use crate::tiktok::limiter::Limiter;
use crate::webhooks::{self, Webhooks};
use crate::{clock, control, shopify, tiktok};

/// How the emulators behave beyond the fixture.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Every Shopify webhook goes to each of these URLs.
    pub webhook_urls: Vec<String>,
    /// Every TikTok `ORDER_STATUS_CHANGE` webhook goes to each of these URLs.
    pub tiktok_webhook_urls: Vec<String>,
    /// GraphQL cost bucket size (`throttleStatus.maximumAvailable`); default 2000. A finite
    /// number above 0; a query that costs more than it is refused with `MAX_COST_EXCEEDED`.
    pub shopify_bucket_size: f64,
    /// GraphQL cost points restored per second; default 100 (Standard plan). A finite number
    /// above 0.
    pub shopify_restore_rate: f64,
    /// TikTok requests allowed per second before 36009002 / HTTP 429; default `Some(50)`,
    /// `None` for no limit.
    pub tiktok_requests_per_second: Option<u32>,
    /// Lifetime of the TikTok access tokens (the fixture's and those issued); default 7 days.
    /// `Duration::ZERO` makes every token expired at once.
    pub tiktok_token_lifetime: Duration,
    /// How long a bulk operation stays RUNNING; default 200 ms.
    pub bulk_delay: Duration,
    /// How many results of one filter product search serves before it answers 12052180;
    /// default [`crate::tiktok::SEARCH_RESULT_CAP`] (TikTok's 10,000). Tests lower it to read
    /// a "too big" catalog quickly.
    pub tiktok_search_result_cap: usize,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            webhook_urls: Vec::new(),
            tiktok_webhook_urls: Vec::new(),
            shopify_bucket_size: 2000.0,
            shopify_restore_rate: 100.0,
            tiktok_requests_per_second: Some(50),
            tiktok_token_lifetime: Duration::from_secs(7 * 24 * 3600),
            bulk_delay: Duration::from_millis(200),
            tiktok_search_result_cap: tiktok::SEARCH_RESULT_CAP,
        }
    }
}

impl SandboxOptions {
    /// Checks the options the emulators cannot work with: a Shopify bucket size or restore
    /// rate that is not a finite number above 0 would throttle every query for ever (or never).
    /// [`Sandbox::start`] runs it; a CLI runs it too, to name its own flag.
    pub fn validate(&self) -> Result<(), SandboxError> {
        for (option, value) in [
            ("shopify_bucket_size", self.shopify_bucket_size),
            ("shopify_restore_rate", self.shopify_restore_rate),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(SandboxError::InvalidOption {
                    option,
                    value: value.to_string(),
                    allowed: "a finite number above 0",
                });
            }
        }
        Ok(())
    }
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A [`SandboxOptions`] field holds a value the emulators cannot work with.
    #[error("{option} is {value}; allowed: {allowed}")]
    InvalidOption {
        /// The field of [`SandboxOptions`], e.g. `shopify_bucket_size`.
        option: &'static str,
        /// The value as given.
        value: String,
        /// What is allowed.
        allowed: &'static str,
    },
    /// The listener's address could not be read.
    #[error("sandbox listener: {0}")]
    Listener(#[source] std::io::Error),
    /// A webhook URL is not an http(s) URL.
    #[error("webhook URL `{url}`: {message}")]
    WebhookUrl {
        /// The URL as given.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// The HTTP client for webhooks could not be built.
    #[error("webhook client: {0}")]
    WebhookClient(#[source] reqwest::Error),
}

/// What every shop's emulators share: options, the GraphQL schema, the webhook client.
pub(crate) struct Common {
    pub(crate) options: Arc<SandboxOptions>,
    pub(crate) schema: shopify::schema::ShopifySchema,
    pub(crate) client: reqwest::Client,
    pub(crate) webhook_urls: Arc<[String]>,
    pub(crate) tiktok_webhook_urls: Arc<[String]>,
    pub(crate) base_url: String,
}

/// Everything the handlers share: the shops, each built on its first request.
pub(crate) struct Hub {
    pub(crate) common: Common,
    pub(crate) shops: Registry<Arc<Shared>>,
}

impl Hub {
    /// Shop `index` (0-based), built now if it was not yet.
    pub(crate) fn shop(&self, index: usize) -> &Arc<Shared> {
        self.shops
            .get(index, |_, fixture| Arc::new(self.build(fixture)))
    }

    fn build(&self, fixture: Fixture) -> Shared {
        let common = &self.common;
        let options = common.options.clone();
        let credentials = fixture.credentials.clone();
        let webhooks = Webhooks::for_shop(
            common.client.clone(),
            &common.webhook_urls,
            &common.tiktok_webhook_urls,
            &credentials,
        );
        let now = clock::now_millis();
        let lifetime = i64::try_from(options.tiktok_token_lifetime.as_millis()).unwrap_or(i64::MAX);
        let shop_query = if self.shops.is_single() {
            String::new()
        } else {
            format!("?shop={}", credentials.shop_domain)
        };
        Shared {
            world: Mutex::new(World::new(fixture, now, lifetime)),
            credentials,
            bucket: Mutex::new(Bucket::new(
                options.shopify_bucket_size,
                options.shopify_restore_rate,
            )),
            limiter: Mutex::new(Limiter::default()),
            bulk: Mutex::new(BulkOperations::default()),
            schema: common.schema.clone(),
            stats: StatsRecorder::default(),
            faults: FaultState::default(),
            webhooks,
            base_url: common.base_url.clone(),
            shop_query,
            options,
        }
    }
}

/// One shop's emulators: its store, credentials, cost bucket, rate limit, stats and faults.
pub(crate) struct Shared {
    pub(crate) world: Mutex<World>,
    pub(crate) credentials: Credentials,
    pub(crate) options: Arc<SandboxOptions>,
    pub(crate) stats: StatsRecorder,
    pub(crate) faults: FaultState,
    pub(crate) bucket: Mutex<Bucket>,
    pub(crate) limiter: Mutex<Limiter>,
    pub(crate) bulk: Mutex<BulkOperations>,
    pub(crate) schema: shopify::schema::ShopifySchema,
    pub(crate) webhooks: Webhooks,
    pub(crate) base_url: String,
    /// `?shop=DOMAIN` in a sandbox of several shops, empty in a one-shop sandbox: appended
    /// to the control URLs the emulators hand out (bulk results).
    pub(crate) shop_query: String,
}

impl Shared {
    pub(crate) fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().expect("world lock")
    }
}

/// The emulators of both stores.
pub struct Sandbox;

impl Sandbox {
    /// Serves both emulators and the control API on `listener` until [`RunningSandbox::shutdown`].
    pub async fn start(
        fixture: Fixture,
        listener: TcpListener,
        options: SandboxOptions,
    ) -> Result<RunningSandbox, SandboxError> {
        Sandbox::start_shops(Shops::one(fixture), listener, options).await
    }

    /// Serves many shops (see [`Shops`]) on `listener` until [`RunningSandbox::shutdown`].
    pub async fn start_shops(
        shops: Shops,
        listener: TcpListener,
        options: SandboxOptions,
    ) -> Result<RunningSandbox, SandboxError> {
        options.validate()?;
        webhooks::check_urls(&options.webhook_urls, &options.tiktok_webhook_urls)?;
        let addr = listener.local_addr().map_err(SandboxError::Listener)?;
        let base_url = base_url_of(addr);
        let client = webhooks::client()?;
        let hub = Arc::new(Hub {
            common: Common {
                webhook_urls: options.webhook_urls.clone().into(),
                tiktok_webhook_urls: options.tiktok_webhook_urls.clone().into(),
                options: Arc::new(options),
                schema: shopify::schema::build(),
                client,
                base_url,
            },
            shops: Registry::new(shops),
        });
        // Shop 1 is built at once: a one-shop sandbox starts as it always did.
        hub.shop(0);
        let app = router(hub.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stop = async {
                let _ = stop_rx.await;
            };
            if let Err(err) = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
            {
                tracing::warn!(error = %err, "sandbox server stopped with an error");
            }
        });
        tracing::info!(%addr, shops = hub.shops.len(), "sandbox listening");
        Ok(RunningSandbox {
            hub,
            addr,
            stop: stop_tx,
            task,
        })
    }
}

fn base_url_of(addr: SocketAddr) -> String {
    let port = addr.port();
    match addr {
        SocketAddr::V4(v4) if v4.ip().is_unspecified() => format!("http://127.0.0.1:{port}"),
        SocketAddr::V4(v4) => format!("http://{}:{port}", v4.ip()),
        SocketAddr::V6(v6) if v6.ip().is_unspecified() => format!("http://[::1]:{port}"),
        SocketAddr::V6(v6) => format!("http://[{}]:{port}", v6.ip()),
    }
}

fn router(hub: Arc<Hub>) -> Router {
    Router::new()
        .merge(shopify::routes())
        .merge(tiktok::routes())
        .merge(control::routes())
        .fallback(tiktok::unknown_path)
        .with_state(hub)
}

/// A started sandbox.
pub struct RunningSandbox {
    hub: Arc<Hub>,
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT`: the base URL of both emulators and of the control API.
    pub fn base_url(&self) -> String {
        self.hub.common.base_url.clone()
    }

    /// The Shopify `base_url` that addresses the shop with this domain:
    /// `http://127.0.0.1:PORT/shops/{domain}`.
    pub fn shopify_base_url(&self, shop_domain: &str) -> String {
        format!("{}/shops/{shop_domain}", self.hub.common.base_url)
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many shops the sandbox serves.
    pub fn shop_count(&self) -> usize {
        self.hub.shops.len()
    }

    /// How many shops have been built so far (a shop is built on its first request).
    pub fn built_shops(&self) -> usize {
        self.hub.shops.built()
    }

    /// The credentials shop 1's emulators accept.
    pub fn credentials(&self) -> &Credentials {
        &self.hub.shop(0).credentials
    }

    /// The credentials of the shop with this domain, `None` when no shop has it.
    pub fn shop_credentials(&self, shop_domain: &str) -> Option<Credentials> {
        let index = self.hub.shops.by_domain(shop_domain)?;
        Some(self.hub.shop(index).credentials.clone())
    }

    /// Shop 1's current state in the fixture format (as `GET /_sandbox/state`).
    pub fn state(&self) -> Fixture {
        self.hub.shop(0).world().snapshot()
    }

    /// The state of the shop with this domain (as `GET /_sandbox/state?shop=DOMAIN`).
    pub fn shop_state(&self, shop_domain: &str) -> Option<Fixture> {
        let index = self.hub.shops.by_domain(shop_domain)?;
        Some(self.hub.shop(index).world().snapshot())
    }

    /// Shop 1's request counts (as `GET /_sandbox/stats`).
    pub fn stats(&self) -> Stats {
        self.hub.shop(0).stats.snapshot()
    }

    /// The request counts of the shop with this domain (as `GET /_sandbox/stats?shop=DOMAIN`).
    pub fn shop_stats(&self, shop_domain: &str) -> Option<Stats> {
        let index = self.hub.shops.by_domain(shop_domain)?;
        Some(self.hub.shop(index).stats.snapshot())
    }

    /// The TikTok writes of the shop with this domain, in arrival order (as
    /// `GET /_sandbox/writes?shop=DOMAIN`).
    pub fn shop_writes(&self, shop_domain: &str) -> Option<Vec<TikTokWrite>> {
        let index = self.hub.shops.by_domain(shop_domain)?;
        Some(self.hub.shop(index).world().writes.clone())
    }

    /// Replaces the faults in force for shop 1 (as `POST /_sandbox/faults`).
    pub fn set_faults(&self, faults: Faults) {
        self.hub.shop(0).faults.set(faults);
    }

    /// Stops accepting connections and waits for the requests in flight.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// The shop a request is for (see [`crate::shops`] for how it is found), as a handler
/// argument in place of the router's state.
pub(crate) struct ShopOf(pub(crate) Arc<Shared>);

impl axum::extract::FromRequestParts<Arc<Hub>> for ShopOf {
    type Rejection = axum::response::Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        hub: &Arc<Hub>,
    ) -> Result<Self, Self::Rejection> {
        let index = route(hub, &parts.uri, &parts.headers).map_err(|unknown| {
            let message = format!(
                "unknown shop {}; this sandbox serves {}",
                unknown.0,
                hub.shops.range()
            );
            (
                axum::http::StatusCode::NOT_FOUND,
                axum::Json(serde_json::json!({"error": message})),
            )
                .into_response()
        })?;
        Ok(ShopOf(hub.shop(index).clone()))
    }
}

/// The index of the shop a request is for.
pub(crate) fn route(
    hub: &Hub,
    uri: &axum::http::Uri,
    headers: &axum::http::HeaderMap,
) -> Result<usize, UnknownShop> {
    let query = tiktok::query_pairs(uri);
    let param = |key: &str| {
        query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let keys = Keys {
        path_domain: uri
            .path()
            .strip_prefix("/shops/")
            .map(|rest| rest.split('/').next().unwrap_or(rest)),
        shop: param("shop"),
        shop_cipher: param("shop_cipher"),
        app_key: param("app_key"),
        access_token: header("x-tts-access-token"),
        refresh_token: param("refresh_token"),
        domain_header: header("x-shopify-shop-domain"),
        host: header("host"),
    };
    hub.shops.route(&keys, |index| {
        let world = hub.shop(index).world();
        (
            world.tokens.access_token.clone(),
            world.tokens.refresh_token.clone(),
        )
    })
}
