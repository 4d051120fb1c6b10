//! `stockbridge serve`: an axum server that keeps TikTok within seconds of Shopify.
//! [`Application::build`] binds and wires; [`Application::run_until_stopped`] serves until
//! the shutdown future completes, then stops accepting, finishes in-flight writes and
//! returns. Tests start it on port 0 with their own shutdown future.

pub(crate) mod connections;
pub(crate) mod tiktok;
pub(crate) mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use stockbridge_sandbox::SandboxOptions;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tower_http::timeout::TimeoutLayer;

pub use connections::ConnectionLimits;

use crate::console::{ConsoleConfig, ConsoleParts};
use crate::engine::{
    Change, EngineError, Latest, Metrics, Pipeline, PipelineOptions, Stores, WriterOptions,
};
use crate::error::CommandError;
use crate::settings::{ConfigError, Settings};
use crate::wiring::{wire_settings, RunArgs, Wired};

/// What a server is made of.
pub struct ServeParts {
    /// The ports.
    pub stores: Stores,
    /// The merchant's rules.
    pub rules: stockbridge_domain::RuleSet,
    /// The configured shop; webhooks from another are refused.
    pub shop_domain: String,
    /// The webhook signing secret.
    pub webhook_secret: stockbridge_ports::Secret,
    /// Largest accepted webhook body.
    pub max_body_bytes: usize,
    /// TikTok's app key and secret, which sign its webhooks; `None` refuses them all.
    pub tiktok_app: Option<(String, stockbridge_ports::Secret)>,
    /// Most deliveries a minute remembered for deduplication.
    pub webhook_ids_per_minute: u32,
    /// How long a request may take from its head to its answer, its body included.
    pub body_timeout: Duration,
    /// How long and how many connections are kept.
    pub connections: ConnectionLimits,
}

/// Why a server stopped other than by its shutdown future.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// No reconciliation could succeed: the configuration or the credentials are wrong.
    #[error(transparent)]
    Configuration(EngineError),
    /// The pipeline task panicked.
    #[error("the sync pipeline failed: {0}")]
    PipelineFailed(#[source] tokio::task::JoinError),
    /// The pipeline task ended while the server was still accepting webhooks.
    #[error("the sync pipeline ended before the server was told to stop")]
    PipelineEnded,
}

impl ServeError {
    /// The exit code of cli.md: 2 when the configuration or the credentials are wrong, 1
    /// otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            ServeError::Configuration(_) => 2,
            _ => 1,
        }
    }
}

/// A server ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    connections: ConnectionLimits,
    pipeline: Pipeline,
    changes: mpsc::UnboundedReceiver<Change>,
    /// What [`Application::with_console`] gives the console; dropped when serving starts, so
    /// that the router holds the queue's only senders.
    console: Option<ConsoleParts>,
}

#[derive(Clone)]
struct HttpState {
    metrics: Arc<Metrics>,
    /// The ledger of TikTok orders in flight, for its figures; `None` when `[orders]` is off.
    holds: Option<Arc<crate::engine::HoldBook>>,
    ready: watch::Receiver<bool>,
    store: Arc<dyn stockbridge_ports::StateStore>,
}

/// Why the mass-drop breaker holds writes, if it still does: held writes let through
/// elsewhere (`stockbridge sync --accept-drops` on the same state file) clear it.
pub(crate) async fn breaker_problem(
    metrics: &Metrics,
    store: &dyn stockbridge_ports::StateStore,
) -> Option<String> {
    let reason = metrics.breaker()?;
    match store.held_writes().await {
        Ok(held) if held.is_empty() => {
            metrics.set_breaker(None);
            None
        }
        _ => Some(reason),
    }
}

/// `200 {"status":"ok"}` once a reconciliation has succeeded; `503 {"status":"starting"}`
/// before. When a later reconciliation finds the configuration no longer fits the stores (a
/// warehouse disabled in Seller Center, say), `200 {"status":"degraded","problem":…}`: the
/// server still takes webhooks (a 503 would have Shopify retry and in the end drop them) and
/// real-time updates go on with the last view that fitted, but an operator must act. The
/// same while the mass-drop breaker holds zeroing writes, with its reason.
async fn healthz(State(state): State<HttpState>) -> impl IntoResponse {
    if !*state.ready.borrow() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "{\"status\":\"starting\"}\n".to_owned(),
        );
    }
    let breaker = breaker_problem(&state.metrics, state.store.as_ref()).await;
    match state.metrics.configuration_problem().or(breaker) {
        None => (StatusCode::OK, "{\"status\":\"ok\"}\n".to_owned()),
        Some(problem) => (
            StatusCode::OK,
            format!(
                "{}\n",
                serde_json::json!({"status": "degraded", "problem": problem})
            ),
        ),
    }
}

async fn serve_metrics(State(state): State<HttpState>) -> impl IntoResponse {
    breaker_problem(&state.metrics, state.store.as_ref()).await;
    if let Some(holds) = &state.holds {
        state.metrics.set_holds(&holds.figures());
    }
    (
        [("content-type", crate::engine::METRICS_CONTENT_TYPE)],
        state.metrics.render(),
    )
}

impl Application {
    /// Wires the server from the command's wiring, on an already bound listener.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Missing`] when `shopify.webhook_secret` is not set or blank: serve
    /// refuses to take webhooks it cannot verify.
    pub fn build(
        settings: &Settings,
        wired: &Wired,
        listener: TcpListener,
        options: PipelineOptions,
    ) -> Result<Application, ConfigError> {
        // A blank secret (a space, say) would let anyone sign webhooks.
        let secret = wired
            .webhook_secret
            .clone()
            .filter(|s| !s.expose().trim().is_empty())
            .ok_or_else(|| ConfigError::Missing {
                key: "shopify.webhook_secret".into(),
                hint: "it is blank or not set, and serve verifies every webhook; set STOCKBRIDGE__SHOPIFY__WEBHOOK_SECRET to the app's client secret".into(),
            })?;
        let parts = ServeParts {
            stores: wired.stores.clone(),
            rules: settings.rules.clone(),
            shop_domain: wired.shop_domain.clone(),
            webhook_secret: secret,
            max_body_bytes: settings.server.max_body_bytes,
            tiktok_app: Some(wired.tiktok_app.clone()),
            webhook_ids_per_minute: settings.server.webhook_ids_per_minute,
            body_timeout: settings.server.body_timeout,
            connections: ConnectionLimits {
                header_timeout: settings.server.header_timeout,
                idle_timeout: settings.server.idle_timeout,
                max_connections: connections::fit_to_open_file_limit(
                    settings.server.max_connections,
                ),
            },
        };
        Ok(Self::from_parts(parts, listener, options))
    }

    /// Wires the server from its parts (tests pass in-memory ports).
    pub fn from_parts(
        parts: ServeParts,
        listener: TcpListener,
        options: PipelineOptions,
    ) -> Application {
        let metrics = Arc::new(Metrics::default());
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = watch::channel(false);
        let latest = Arc::new(Latest::default());
        let console = ConsoleParts {
            stores: parts.stores.clone(),
            metrics: metrics.clone(),
            latest: latest.clone(),
            changes: tx.clone(),
            ready: ready_rx.clone(),
        };
        let webhook_state = Arc::new(webhook::WebhookState {
            secret: parts.webhook_secret,
            shop_domain: parts.shop_domain,
            store: parts.stores.store.clone(),
            changes: tx,
            metrics: metrics.clone(),
            remember: webhook::RememberBudget::per_minute(parts.webhook_ids_per_minute),
            holds: parts.stores.holds.clone(),
        });
        let tiktok_state = Arc::new(tiktok::TikTokWebhookState {
            app: parts.tiktok_app,
            holds: parts.stores.holds.clone(),
            store: parts.stores.store.clone(),
            metrics: metrics.clone(),
        });
        let too_large = metrics.clone();
        let router = Router::new()
            .route(
                "/webhooks/shopify",
                post(webhook::receive).with_state(webhook_state),
            )
            .route(
                "/webhooks/tiktok",
                post(tiktok::receive).with_state(tiktok_state),
            )
            .layer(DefaultBodyLimit::max(parts.max_body_bytes))
            .layer(axum::middleware::map_response(
                move |response: axum::response::Response| {
                    let too_large = too_large.clone();
                    async move {
                        if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
                            Metrics::inc(&too_large.rejected_too_large);
                        }
                        response
                    }
                },
            ))
            .route("/healthz", get(healthz))
            .route("/metrics", get(serve_metrics))
            .with_state(HttpState {
                metrics: metrics.clone(),
                holds: parts.stores.holds.clone(),
                ready: ready_rx,
                store: parts.stores.store.clone(),
            })
            // A body sent a byte at a time ends here; the answer is 408.
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                parts.body_timeout,
            ));
        let pipeline = Pipeline {
            stores: parts.stores,
            rules: parts.rules,
            options,
            metrics,
            ready: ready_tx,
            latest,
        };
        Application {
            listener,
            router,
            connections: parts.connections,
            pipeline,
            changes: rx,
            console: Some(console),
        }
    }

    /// Serves the console at `/` too.
    pub fn with_console(mut self, config: ConsoleConfig) -> Application {
        if let Some(parts) = self.console.take() {
            self.router = self.router.merge(crate::console::router(parts, config));
        }
        self
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes; then stops accepting, lets the pipeline write what
    /// the server acknowledged, and returns. Returns an error, stopping the server, as soon
    /// as the pipeline ends on its own: a server that syncs nothing must not answer 200.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        drop(self.console);
        let stop = CancellationToken::new();
        let mut worker = tokio::spawn(self.pipeline.run(self.changes, stop.clone()));
        let server_stop = stop.clone();
        // The router holds the queue's only sender: when the server has finished, the
        // pipeline's queue closes and its final flush starts.
        let server = connections::serve(self.listener, self.router, self.connections, async move {
            tokio::select! {
                () = shutdown => {}
                () = server_stop.cancelled() => {}
            }
            server_stop.cancel();
        });
        tokio::pin!(server);
        let (served, ended, early) = tokio::select! {
            served = &mut server => {
                stop.cancel();
                (served, (&mut worker).await, false)
            }
            ended = &mut worker => {
                let early = !stop.is_cancelled();
                stop.cancel();
                (server.await, ended, early)
            }
        };
        let () = served;
        match ended {
            Err(e) => Err(ServeError::PipelineFailed(e)),
            Ok(Err(e)) => Err(ServeError::Configuration(e)),
            Ok(Ok(())) if early => Err(ServeError::PipelineEnded),
            Ok(Ok(())) => Ok(()),
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// The pipeline options from the settings.
pub fn pipeline_options(settings: &Settings) -> PipelineOptions {
    PipelineOptions {
        coalesce_window: settings.server.coalesce_window,
        max_items_per_flush: settings.server.max_items_per_flush,
        reconcile_every: settings.server.reconcile_every,
        writer: WriterOptions {
            concurrency: settings.concurrency,
            ..WriterOptions::default()
        },
        retry_after: Duration::from_secs(5),
        max_attempts: 5,
        final_flush_limit: Duration::from_secs(20),
        breaker: settings.breaker,
        fleet: None,
    }
}

/// `stockbridge serve`.
pub async fn command(run: &RunArgs) -> Result<(), CommandError> {
    let settings = Settings::load(&run.config).map_err(CommandError::configuration)?;
    if settings.fleet.is_some() {
        if run.sandbox.is_some() {
            return Err(CommandError::configuration(anyhow::anyhow!(
                "--sandbox does not go with a [fleet] worker's file: each shop's stored \
                 configuration says where its stores are"
            )));
        }
        return crate::fleet::command(&settings).await;
    }
    let listener = listen(&settings).await?;
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let sandbox_options = SandboxOptions {
        webhook_urls: vec![format!("http://{addr}/webhooks/shopify")],
        tiktok_webhook_urls: vec![format!("http://{addr}/webhooks/tiktok")],
        ..SandboxOptions::default()
    };
    let wired = wire_settings(run, &settings, sandbox_options).await?;
    let loopback = listener.local_addr().is_ok_and(|a| a.ip().is_loopback());
    let console = ConsoleConfig {
        token: settings.file.console.token.clone().map(|t| t.0),
        loopback,
        rules_toml: crate::console::rules_section(
            &std::fs::read_to_string(&run.config).unwrap_or_default(),
        ),
    };
    let app = Application::build(&settings, &wired, listener, pipeline_options(&settings))
        .map_err(CommandError::configuration)?
        .with_console(console);
    tracing::info!(listen = %addr, state = %wired.state_location, "serving: the console at /, POST /webhooks/shopify, POST /webhooks/tiktok, GET /healthz, GET /metrics");
    app.run_until_stopped(shutdown_signal())
        .await
        .map_err(|e| match e.exit_code() {
            2 => CommandError::configuration(e),
            _ => CommandError::failed(e),
        })?;
    wired.write_sandbox_state_out(run)?;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Binds `server.listen`; a configuration error naming the key when that fails.
pub(crate) async fn listen(settings: &Settings) -> Result<TcpListener, CommandError> {
    TcpListener::bind(&settings.server.listen)
        .await
        .map_err(|e| {
            CommandError::configuration(anyhow::anyhow!(
                "configuration key server.listen = {:?}: cannot listen there: {e}",
                settings.server.listen
            ))
        })
}
