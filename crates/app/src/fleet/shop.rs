//! One shop on the worker that holds its lease: its settings and secrets from the database,
//! its adapters (every request carrying `X-Stockbridge-Lease: <worker>;<epoch>`, TikTok
//! writes gated by the lease's trust), its state scoped to the lease's epoch (the database
//! refuses the writes of a stale one), and the engine of a one-shop server: a full
//! reconciliation on taking the shop, then real-time changes and the schedule.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stockbridge_adapters_postgres::{Lease, StoredShop};
use stockbridge_adapters_tiktok::TikTokSink;
use stockbridge_ports::{Secret, StateStore};
use tokio::sync::{mpsc, watch, SemaphorePermit};
use tokio::task::JoinHandle;

use super::trust::Trust;
use super::Context;
use crate::engine::{Change, FleetShare, HoldBook, Latest, Metrics, Pipeline, PipelineOptions};
use crate::settings::{ConfigError, FileConfig, Settings};
use crate::wiring::{
    config_error, connect, endpoints_from_settings, ConnectError, Connected, HttpClients,
};

/// The header every request for a shop carries.
pub const LEASE_HEADER: &str = "X-Stockbridge-Lease";

/// How long a shop whose configuration does not work waits before it is built again.
const RETRY_BROKEN: Duration = Duration::from_secs(60);

/// A shop this worker runs.
pub struct ShopRun {
    /// The lease it runs under.
    pub lease: Lease,
    /// The trust in that lease.
    pub trust: Arc<Trust>,
    /// Where its real-time changes go (replaced when its engine is built again).
    pub changes: Arc<Mutex<Option<mpsc::UnboundedSender<Change>>>>,
    /// Its hold book while its engine runs with `[orders]` on.
    holds: Arc<Mutex<Option<Arc<HoldBook>>>>,
    /// Its engine's numbers.
    pub metrics: Arc<Metrics>,
    /// Its domain, once read.
    pub domain: Arc<Mutex<Option<String>>>,
    /// True once a reconciliation succeeded under this lease.
    pub ready: watch::Receiver<bool>,
    task: JoinHandle<()>,
}

impl ShopRun {
    /// Starts the shop's engine under `lease`.
    pub fn start(context: Arc<Context>, lease: Lease, trust: Arc<Trust>) -> ShopRun {
        let changes = Arc::new(Mutex::new(None));
        let holds = Arc::new(Mutex::new(None));
        let metrics = Arc::new(Metrics::default());
        let domain = Arc::new(Mutex::new(None));
        let (ready_tx, ready) = watch::channel(false);
        let task = tokio::spawn(run(
            context,
            lease.clone(),
            trust.clone(),
            Handles {
                changes: changes.clone(),
                holds: holds.clone(),
                metrics: metrics.clone(),
                domain: domain.clone(),
                ready: ready_tx,
            },
        ));
        ShopRun {
            lease,
            trust,
            changes,
            holds,
            metrics,
            domain,
            ready,
            task,
        }
    }

    /// Hands a change to the shop's engine; `false` when it is not running.
    pub fn send(&self, change: Change) -> bool {
        let guard = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().is_some_and(|tx| tx.send(change).is_ok())
    }

    /// Its hold book, while its engine runs with `[orders]` on.
    pub fn holds(&self) -> Option<Arc<HoldBook>> {
        self.holds.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Stops the shop at once: its trust revoked first (no TikTok write starts from now
    /// on), then its engine ended. What it had taken and not written is covered by the next
    /// owner's start-up reconciliation.
    pub fn stop(self) {
        self.trust.revoke();
        self.task.abort();
    }
}

/// What a shop's task shares with its [`ShopRun`].
struct Handles {
    changes: Arc<Mutex<Option<mpsc::UnboundedSender<Change>>>>,
    holds: Arc<Mutex<Option<Arc<HoldBook>>>>,
    metrics: Arc<Metrics>,
    domain: Arc<Mutex<Option<String>>>,
    ready: watch::Sender<bool>,
}

/// Runs the shop until its task is aborted: builds its engine from the stored shop and runs
/// it; a shop whose configuration does not work is tried again after a while.
async fn run(context: Arc<Context>, lease: Lease, trust: Arc<Trust>, handles: Handles) {
    let Handles {
        changes,
        holds,
        metrics,
        domain,
        ready,
    } = handles;
    loop {
        let (tx, rx) = mpsc::unbounded_channel();
        // The permit is taken before the engine is built: a worker taking many shops at once
        // builds and reconciles a few at a time, instead of building them all first.
        let permit = {
            let _waiting = Waiting::count(&context.starting);
            context.startup.acquire().await.ok()
        };
        let pipeline = match build(&context, &lease, &trust, &metrics, &domain, &ready).await {
            Ok(pipeline) => pipeline,
            Err(problem) => {
                drop(permit);
                // An operator must act: the shop is leased here but syncs nothing.
                tracing::error!(shop_id = lease.shop_id, problem = %problem, "the shop's stored configuration does not work; trying again in a minute");
                metrics.set_configuration_problem(Some(problem));
                tokio::time::sleep(RETRY_BROKEN).await;
                continue;
            }
        };
        *changes.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        *holds.lock().unwrap_or_else(|e| e.into_inner()) = pipeline.stores.holds.clone();
        let stop = tokio_util::sync::CancellationToken::new();
        let ended = started(permit, pipeline.run(rx, stop), ready.subscribe()).await;
        *changes.lock().unwrap_or_else(|e| e.into_inner()) = None;
        *holds.lock().unwrap_or_else(|e| e.into_inner()) = None;
        match ended {
            Ok(()) => return,
            Err(e) => {
                tracing::error!(shop_id = lease.shop_id, error = %e, "the shop's configuration or credentials are wrong; trying again in a minute");
                metrics.set_configuration_problem(Some(e.to_string()));
                tokio::time::sleep(RETRY_BROKEN).await;
            }
        }
    }
}

/// One shop counted as waiting to start while this lives (its task may be aborted while it
/// waits: the count goes down all the same).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn count(waiting: &'a AtomicUsize) -> Waiting<'a> {
        waiting.fetch_add(1, Ordering::AcqRel);
        Waiting(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs `engine`, holding its start-up permit until its first reconciliation succeeded (or
/// it ended), so that a worker taking many shops at once reconciles a few at a time.
async fn started<T>(
    permit: Option<SemaphorePermit<'_>>,
    engine: impl std::future::Future<Output = T>,
    mut ready: watch::Receiver<bool>,
) -> T {
    tokio::pin!(engine);
    tokio::select! {
        ended = &mut engine => return ended,
        _ = ready.wait_for(|r| *r) => {}
    }
    drop(permit);
    engine.await
}

/// The shop's engine, from its stored configuration.
async fn build(
    context: &Context,
    lease: &Lease,
    trust: &Arc<Trust>,
    metrics: &Arc<Metrics>,
    domain: &Mutex<Option<String>>,
    ready: &watch::Sender<bool>,
) -> Result<Pipeline, String> {
    let stored = context
        .fleet
        .stored_shop(&context.key, lease.shop_id)
        .await
        .map_err(|e| format!("cannot read the shop: {e}"))?
        .ok_or_else(|| "the shop was removed".to_owned())?;
    *domain.lock().unwrap_or_else(|e| e.into_inner()) = Some(stored.shop_domain.clone());
    let settings = shop_settings(&stored).map_err(|e| e.to_string())?;
    let store: Arc<dyn StateStore> = Arc::new(context.store.scoped(lease.scope()));
    let connected = connect_shop(context, &settings, lease, trust, &store)
        .await
        .map_err(|e| e.to_string())?;
    if stored.tiktok_shop_id.is_none() {
        learn_tiktok_shop_id(context, lease.shop_id, &connected.tiktok).await;
    }
    Ok(Pipeline {
        stores: connected.stores(store),
        rules: settings.rules.clone(),
        options: PipelineOptions {
            fleet: Some(FleetShare {
                scheduled: context.scheduled.clone(),
                starting: context.starting.clone(),
            }),
            ..crate::serve::pipeline_options(&settings)
        },
        metrics: metrics.clone(),
        ready: ready.clone(),
        latest: Arc::new(Latest::default()),
    })
}

/// A stored shop's settings: its file as stored, with its secrets put back.
pub fn shop_settings(stored: &StoredShop) -> Result<Settings, ConfigError> {
    settings_with_secrets(&stored.settings, &stored.secrets)
}

/// Settings from a shop's stored file and its secrets (by `section.key`).
pub fn settings_with_secrets(
    text: &str,
    secrets: &BTreeMap<String, Secret>,
) -> Result<Settings, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        file: "the stored shop".into(),
        message,
    };
    let mut table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| invalid(e.message().to_owned()))?;
    for (key, secret) in secrets {
        let Some((section, name)) = key.split_once('.') else {
            continue;
        };
        let section = table
            .entry(section)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(section) = section {
            section.insert(
                name.to_owned(),
                toml::Value::String(secret.expose().to_owned()),
            );
        }
    }
    let file: FileConfig = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| {
            invalid(crate::settings::without_secret_values(e.message()))
        })?;
    Settings::from_file(file)
}

/// How long one TikTok request of a fleet shop may take: the shop's own limit, but at most
/// half of what a lease is surely trusted for between two heartbeats, so that writes can
/// start whenever the heartbeat is healthy.
pub fn write_timeout(settings: &Settings, context: &Context) -> Duration {
    let trusted = context
        .lease_ttl
        .saturating_sub(context.margin)
        .saturating_sub(context.heartbeat);
    settings
        .request_timeout
        .min(trusted / 2)
        .max(Duration::from_millis(100))
}

/// Reads the shop's TikTok shop id (the `shop_id` of TikTok's webhooks) from TikTok and
/// records it, so that any worker finds the shop from TikTok's webhooks. Done before the
/// shop's start-up reconciliation, which reads the orders of any webhook refused before.
async fn learn_tiktok_shop_id(context: &Context, shop_id: i64, tiktok: &TikTokSink) {
    let learned = match tiktok.shop_id().await {
        Ok(id) => context
            .fleet
            .set_tiktok_shop_id(shop_id, &id)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = learned {
        tracing::warn!(shop_id, error = %e, "cannot learn the shop's TikTok shop id: its TikTok order webhooks are refused until its next start (its reconciliations still read its orders)");
    }
}

/// The shop's adapters, with the lease header and the write gate, over its state under the
/// lease's epoch.
async fn connect_shop(
    context: &Context,
    settings: &Settings,
    lease: &Lease,
    trust: &Arc<Trust>,
    store: &Arc<dyn StateStore>,
) -> Result<Connected, ConfigError> {
    let mut endpoints = endpoints_from_settings(settings)?;
    let header = (
        LEASE_HEADER.to_owned(),
        format!("{};{}", context.worker_id, lease.epoch),
    );
    endpoints.shopify.headers.push(header.clone());
    let timeout = write_timeout(settings, context);
    endpoints.tiktok.request_timeout = timeout;
    endpoints.tiktok.retry.call_timeout = settings.call_timeout.max(timeout);
    endpoints.tiktok.headers.push(header);
    endpoints.tiktok.send_gate = Some(trust.gate(timeout));
    let http = context
        .http
        .get_or_try_init(|| async { HttpClients::new(&endpoints) })
        .await?;
    connect(
        endpoints.shopify,
        endpoints.tiktok,
        Some(http),
        store,
        settings,
    )
    .await
    .map_err(|e| match e {
        ConnectError::Config(e) => e,
        ConnectError::Holds(e) => config_error("orders", e),
    })
}
