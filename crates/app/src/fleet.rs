//! `stockbridge serve` with a `[fleet]` section: a fleet worker (fleet.md). It shares the fleet's
//! PostgreSQL database with the other workers; it answers webhooks for every shop (`ingress` for
//! Shopify's, `tiktok` for TikTok's orders), holds leases on its fair share of the shops
//! (`leases`), and runs the engine of each shop it holds (`shop`), writing to TikTok only while it
//! trusts its lease (`trust`). `GET /healthz` and `GET /metrics` (`metrics`) describe the worker.

mod ingress;
mod leases;
mod metrics;
mod shop;
mod tiktok;
mod trust;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use stockbridge_adapters_postgres::{Fleet, PostgresStore, SecretKey};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower_http::timeout::TimeoutLayer;

pub use metrics::{FleetMetrics, PER_SHOP_LIMIT};
pub use shop::{settings_with_secrets, LEASE_HEADER};
pub use trust::Trust;

use crate::error::CommandError;
use crate::serve::connections::{self, ConnectionLimits};
use crate::settings::{FleetSettings, Settings};
use shop::ShopRun;

/// How many shops a worker builds and reconciles at once when it takes many (at start, or
/// when another worker died). A small shop's reconciliation is mostly waiting: its TikTok
/// requests are paced at its own rate (about 105 ms apart at the default 10 per second), so
/// a few dozen at once keep a worker busy without flooding any one store.
pub const STARTUP_RECONCILES: usize = 32;

/// How many scheduled reconciliations of its shops a worker runs at once: shops taken
/// together would otherwise all reconcile together at every interval, each holding
/// connections to the stores and to the database while real-time changes wait for them.
pub const SCHEDULED_RECONCILES: usize = 8;

/// Connections of a worker's own pool for its lease loop and its taking of marked changes
/// (one each), beside the pool its shops' state and the webhooks use.
pub const CONTROL_CONNECTIONS: usize = 2;

/// How often, between heartbeats, a worker takes free or expired leases: a killed worker's
/// shops move about this long after their leases expire, not up to a heartbeat later.
pub const TAKE_EVERY: Duration = Duration::from_secs(1);

/// What every part of a worker shares.
pub struct Context {
    /// This worker's id.
    pub worker_id: String,
    /// The fleet's tables, for the webhooks and the shops.
    pub fleet: Fleet,
    /// The fleet's tables on a pool of their own, for the lease loop and the taking of
    /// marked changes: they never wait behind the shops' state writes.
    pub control: Fleet,
    /// The fleet's database (shops' state is written through scopes of it).
    pub store: PostgresStore,
    /// The key the shops' secrets are sealed with.
    pub key: SecretKey,
    /// How long a lease lasts unless renewed.
    pub lease_ttl: Duration,
    /// How often leases are renewed.
    pub heartbeat: Duration,
    /// How often free or expired leases are taken between heartbeats.
    pub take_every: Duration,
    /// How long before the database's expiry a lease stops being trusted.
    pub margin: Duration,
    /// How often marked changes are taken for the shops held.
    pub poll: Duration,
    /// Permits for start-up reconciliations.
    pub startup: Semaphore,
    /// Permits for scheduled reconciliations.
    pub scheduled: Arc<Semaphore>,
    /// How many shops wait for a start-up permit (scheduled reconciliations wait for them).
    pub starting: Arc<AtomicUsize>,
    /// The shops this worker runs, by id.
    pub shops: Mutex<HashMap<i64, ShopRun>>,
    /// The worker's numbers.
    pub metrics: FleetMetrics,
    /// When the last heartbeat was answered.
    pub last_beat: Mutex<Option<Instant>>,
    /// The HTTP clients every shop's adapters share, built with the first shop.
    http: tokio::sync::OnceCell<crate::wiring::HttpClients>,
}

impl Context {
    /// A worker's context from its settings.
    pub fn new(
        fleet: &FleetSettings,
        store: PostgresStore,
        key: SecretKey,
        poll: Duration,
    ) -> Context {
        Context {
            worker_id: fleet.worker_id.clone(),
            fleet: Fleet::new(&store),
            control: Fleet::new(&store),
            store,
            key,
            lease_ttl: fleet.lease_ttl,
            heartbeat: fleet.heartbeat,
            take_every: fleet.heartbeat.min(TAKE_EVERY),
            margin: margin(fleet.lease_ttl),
            poll,
            startup: Semaphore::new(STARTUP_RECONCILES),
            scheduled: Arc::new(Semaphore::new(SCHEDULED_RECONCILES)),
            starting: Arc::new(AtomicUsize::new(0)),
            shops: Mutex::new(HashMap::new()),
            metrics: FleetMetrics::default(),
            last_beat: Mutex::new(None),
            http: tokio::sync::OnceCell::new(),
        }
    }

    /// The same context with its lease loop and change taking on `control` (a pool of its
    /// own; without it they share the shops' pool).
    pub fn with_control(mut self, control: &PostgresStore) -> Context {
        self.control = Fleet::new(control);
        self
    }

    fn shops(&self) -> std::sync::MutexGuard<'_, HashMap<i64, ShopRun>> {
        self.shops.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How long before the database's expiry a lease stops being trusted: a tenth of its time
/// to live, at least a second (clock rates differ; a write needs time to arrive).
pub fn margin(lease_ttl: Duration) -> Duration {
    (lease_ttl / 10).max(Duration::from_secs(1))
}

/// A fleet worker ready to run.
pub struct FleetWorker {
    context: Arc<Context>,
    listener: TcpListener,
    router: Router,
    connections: ConnectionLimits,
}

impl FleetWorker {
    /// Wires a worker on an already bound listener.
    pub fn build(context: Context, settings: &Settings, listener: TcpListener) -> FleetWorker {
        let context = Arc::new(context);
        let router = Router::new()
            .route("/webhooks/shopify", post(ingress::shopify))
            .route("/webhooks/tiktok", post(tiktok::receive))
            .layer(DefaultBodyLimit::max(settings.server.max_body_bytes))
            .route("/healthz", get(healthz))
            .route("/metrics", get(serve_metrics))
            .with_state(context.clone())
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                settings.server.body_timeout,
            ));
        FleetWorker {
            context,
            listener,
            router,
            connections: ConnectionLimits {
                header_timeout: settings.server.header_timeout,
                idle_timeout: settings.server.idle_timeout,
                max_connections: connections::fit_to_open_file_limit(
                    settings.server.max_connections,
                ),
            },
        }
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves and runs the shops until `shutdown` completes; then stops every shop and gives
    /// its leases back, so that the other workers take them at once.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let stop = CancellationToken::new();
        let lease_loop = tokio::spawn(leases::run(self.context.clone(), stop.clone()));
        let dirty_loop = tokio::spawn(leases::take_changes(self.context.clone(), stop.clone()));
        connections::serve(self.listener, self.router, self.connections, shutdown).await;
        stop.cancel();
        let _ = lease_loop.await;
        let _ = dirty_loop.await;
        leases::give_back_all(&self.context).await;
    }
}

/// `200 {"status":"ok","worker":…,"shops":N}` while the database answers the heartbeats;
/// `503 {"status":"unavailable",…}` when no heartbeat was answered within a lease's time to
/// live (the worker then holds no lease it trusts and writes nothing).
async fn healthz(State(context): State<Arc<Context>>) -> impl IntoResponse {
    let beat = *context.last_beat.lock().unwrap_or_else(|e| e.into_inner());
    let held = context.shops().len();
    let body = |status: &str| {
        format!(
            "{}\n",
            serde_json::json!({"status": status, "worker": context.worker_id, "shops": held})
        )
    };
    match beat {
        Some(at) if at.elapsed() < context.lease_ttl => (StatusCode::OK, body("ok")),
        Some(_) => (StatusCode::SERVICE_UNAVAILABLE, body("unavailable")),
        None => (StatusCode::SERVICE_UNAVAILABLE, body("starting")),
    }
}

async fn serve_metrics(State(context): State<Arc<Context>>) -> impl IntoResponse {
    let m = &context.metrics;
    {
        let shops = context.shops();
        let count = |f: &dyn Fn(&ShopRun) -> bool| shops.values().filter(|s| f(s)).count() as i64;
        m.shops_held.set(shops.len() as i64);
        m.shops_ready.set(count(&|s| *s.ready.borrow()));
        m.shops_failing
            .set(count(&|s| s.metrics.configuration_problem().is_some()));
        let queues: Vec<(String, usize)> = shops
            .values()
            .map(|s| {
                let domain = s.domain.lock().unwrap_or_else(|e| e.into_inner()).clone();
                (
                    domain.unwrap_or_else(|| format!("#{}", s.lease.shop_id)),
                    usize::try_from(s.metrics.queue_depth.get()).unwrap_or(0),
                )
            })
            .collect();
        m.queue_depth
            .set(queues.iter().map(|(_, d)| *d as i64).sum());
        m.set_shop_queues(&queues);
    }
    (
        [("content-type", crate::engine::METRICS_CONTENT_TYPE)],
        m.render(),
    )
}

/// `stockbridge serve` with `[fleet]`.
pub async fn command(settings: &Settings) -> Result<(), CommandError> {
    let Some(fleet) = &settings.fleet else {
        return Err(CommandError::configuration(anyhow::anyhow!(
            "no [fleet] database_url: not a worker's file"
        )));
    };
    let key = fleet.secret_key.as_ref().ok_or_else(|| {
        CommandError::configuration(anyhow::anyhow!(
            "STOCKBRIDGE__FLEET__SECRET_KEY is not set: a fleet worker opens the shops' sealed \
             secrets with it (the key `shops add` sealed them with)"
        ))
    })?;
    let key = SecretKey::parse(key.expose()).map_err(CommandError::configuration)?;
    let listener = crate::serve::listen(settings).await?;
    let store = crate::shops::connect(&fleet.database_url).await?;
    let control =
        crate::shops::connect_with_pool(&fleet.database_url, Some(CONTROL_CONNECTIONS)).await?;
    let context =
        Context::new(fleet, store, key, settings.server.coalesce_window).with_control(&control);
    let worker = FleetWorker::build(context, settings, listener);
    let addr = worker
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(
        listen = %addr,
        worker = %fleet.worker_id,
        lease_ttl_ms = fleet.lease_ttl.as_millis() as u64,
        heartbeat_ms = fleet.heartbeat.as_millis() as u64,
        "fleet worker serving: POST /webhooks/shopify, POST /webhooks/tiktok, GET /healthz, GET /metrics"
    );
    worker
        .run_until_stopped(crate::serve::shutdown_signal())
        .await;
    tracing::info!("stopped cleanly; leases given back");
    Ok(())
}
