//! Starting and stopping the emulators: one axum listener serving both stores' real paths and
//! the control API.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::credentials::Credentials;
use crate::faults::{FaultState, Faults};
use crate::fixture::Fixture;
use crate::shopify::bulk::BulkOperations;
use crate::shopify::cost::Bucket;
use crate::stats::{Stats, StatsRecorder};
use crate::store::World;
use crate::tiktok::limiter::Limiter;
use crate::webhooks::Webhooks;
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

/// Everything the handlers share.
pub(crate) struct Shared {
    pub(crate) world: Mutex<World>,
    pub(crate) credentials: Credentials,
    pub(crate) options: SandboxOptions,
    pub(crate) stats: StatsRecorder,
    pub(crate) faults: FaultState,
    pub(crate) bucket: Mutex<Bucket>,
    pub(crate) limiter: Mutex<Limiter>,
    pub(crate) bulk: Mutex<BulkOperations>,
    pub(crate) schema: shopify::schema::ShopifySchema,
    pub(crate) webhooks: Webhooks,
    pub(crate) base_url: String,
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
        options.validate()?;
        let addr = listener.local_addr().map_err(SandboxError::Listener)?;
        let base_url = base_url_of(addr);
        let credentials = fixture.credentials.clone();
        let webhooks = Webhooks::new(
            &options.webhook_urls,
            &options.tiktok_webhook_urls,
            &credentials,
        )?;
        let now = clock::now_millis();
        let lifetime = i64::try_from(options.tiktok_token_lifetime.as_millis()).unwrap_or(i64::MAX);
        let shared = Arc::new(Shared {
            world: Mutex::new(World::new(fixture, now, lifetime)),
            credentials,
            bucket: Mutex::new(Bucket::new(
                options.shopify_bucket_size,
                options.shopify_restore_rate,
            )),
            limiter: Mutex::new(Limiter::default()),
            bulk: Mutex::new(BulkOperations::default()),
            schema: shopify::schema::build(),
            stats: StatsRecorder::default(),
            faults: FaultState::default(),
            webhooks,
            base_url,
            options,
        });
        let app = router(shared.clone());
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
        tracing::info!(%addr, "sandbox listening");
        Ok(RunningSandbox {
            shared,
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

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(shopify::routes())
        .merge(tiktok::routes())
        .merge(control::routes())
        .fallback(tiktok::unknown_path)
        .with_state(shared)
}

/// A started sandbox.
pub struct RunningSandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT`: the base URL of both emulators and of the control API.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The credentials the emulators accept.
    pub fn credentials(&self) -> &Credentials {
        &self.shared.credentials
    }

    /// The current state in the fixture format (as `GET /_sandbox/state`).
    pub fn state(&self) -> Fixture {
        self.shared.world().snapshot()
    }

    /// The request counts (as `GET /_sandbox/stats`).
    pub fn stats(&self) -> Stats {
        self.shared.stats.snapshot()
    }

    /// Replaces the faults in force (as `POST /_sandbox/faults`).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.faults.set(faults);
    }

    /// Stops accepting connections and waits for the requests in flight.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
