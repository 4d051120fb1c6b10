//! The merchant console, served by `serve` at `/`: the overview (health, the last
//! reconciliation, writes over the last day, failures, the breaker's held writes with an
//! Approve button), the plan, a page per SKU, a what-if preview of `[rules]`, the runs and
//! the audit log. Server-rendered HTML from templates (`templates/`), one small stylesheet,
//! no JavaScript, charts drawn as SVG here. `/healthz`, `/metrics` and the webhooks stay
//! outside its login (`access`).

mod access;
mod chart;
mod overview;
mod pages;
mod render;
mod whatif;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use stockbridge_ports::Secret;
use tokio::sync::{mpsc, watch};

pub use access::Access;

use crate::engine::{Change, Latest, Metrics, Stores};

/// What the console reads and where it sends an approval: the server's own parts.
#[derive(Clone)]
pub struct ConsoleParts {
    /// The ports.
    pub stores: Stores,
    /// The running server's numbers and problems.
    pub metrics: Arc<Metrics>,
    /// The last full reconciliation's plan.
    pub latest: Arc<Latest>,
    /// The pipeline's queue (an approval is a change).
    pub changes: mpsc::UnboundedSender<Change>,
    /// True once a reconciliation has succeeded.
    pub ready: watch::Receiver<bool>,
}

/// How the console is configured.
pub struct ConsoleConfig {
    /// `[console] token`: without it the console answers only on a loopback listen address.
    pub token: Option<Secret>,
    /// Whether `serve` listens on a loopback address only.
    pub loopback: bool,
    /// The `[rules]` section as the file writes it (the what-if editor starts from it).
    pub rules_toml: String,
}

/// The console's shared state.
#[derive(Clone)]
pub(crate) struct Console(Arc<Inner>);

pub(crate) struct Inner {
    parts: ConsoleParts,
    rules_toml: String,
    access: Access,
    templates: render::Templates,
}

impl std::ops::Deref for Console {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The `[rules]` section of a configuration file's text, as TOML for the what-if editor
/// (`[rules]` alone when the file has none or cannot be read).
pub fn rules_section(config_text: &str) -> String {
    let rules = config_text
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("rules"));
    let mut table = toml::Table::new();
    table.insert(
        "rules".into(),
        rules.unwrap_or_else(|| toml::Value::Table(toml::Table::new())),
    );
    toml::to_string(&table).unwrap_or_else(|_| "[rules]\n".into())
}

/// The console's routes, to merge into the server's router.
pub fn router(parts: ConsoleParts, config: ConsoleConfig) -> Router {
    let console = Console(Arc::new(Inner {
        parts,
        rules_toml: config.rules_toml,
        access: Access::new(config.token, config.loopback),
        templates: render::Templates::new(),
    }));
    let guarded = Router::new()
        .route("/", get(overview::overview))
        .route("/plan", get(pages::plan))
        .route("/skus", get(pages::find_sku))
        .route("/skus/{sku}", get(pages::sku))
        .route("/runs", get(pages::runs))
        .route("/audit", get(pages::audit))
        .route("/what-if", get(whatif::form).post(whatif::preview))
        .route("/approve", post(overview::approve))
        .route("/logout", post(access::logout))
        .layer(axum::middleware::from_fn_with_state(
            console.clone(),
            access::guard,
        ));
    Router::new()
        .merge(guarded)
        .route("/login", get(access::login_form).post(access::login))
        .route("/console.css", get(render::stylesheet))
        .with_state(console)
}
