//! Builds the adapters behind the ports from the settings, or points them at in-process
//! emulators (`--sandbox`), and opens the state store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use stockbridge_adapters_shopify::{ReadMode, ShopifyConfig, ShopifyHttp, ShopifySource};
use stockbridge_adapters_tiktok::{TikTokConfig, TikTokSink};
use stockbridge_ports::{Secret, StateStore};
use stockbridge_sandbox::{
    Credentials, Fixture, FixtureError, RunningSandbox, Sandbox, SandboxError, SandboxOptions,
};

use crate::engine::{HoldBook, Stores};
use crate::error::CommandError;
use crate::settings::{ConfigError, Settings};

/// Options shared by `plan`, `sync` and `serve`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The configuration file (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Start the emulators in-process from this fixture and connect to them instead.
    #[arg(long, value_name = "FIXTURE")]
    pub sandbox: Option<PathBuf>,
    /// With --sandbox: write the emulators' state here when the command ends.
    #[arg(long, value_name = "FILE", requires = "sandbox")]
    pub sandbox_state_out: Option<PathBuf>,
}

/// Everything a command needs, wired.
pub struct Wired {
    /// The ports.
    pub stores: Stores,
    /// The Shopify adapter, for its health check.
    pub shopify: Arc<ShopifySource>,
    /// The TikTok adapter, for its health check.
    pub tiktok: Arc<TikTokSink>,
    /// The shop's domain (webhooks from another shop are refused).
    pub shop_domain: String,
    /// The webhook signing secret, when configured.
    pub webhook_secret: Option<Secret>,
    /// TikTok's app key and secret, which sign TikTok's webhooks.
    pub tiktok_app: (String, Secret),
    /// The emulators, when running with `--sandbox`.
    pub sandbox: Option<RunningSandbox>,
    /// Where the state lives, with any password masked.
    pub state_location: String,
    _temp_state: Option<tempfile::TempDir>,
}

/// Why wiring failed.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// A missing or invalid setting.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The sandbox fixture cannot be read or is not valid.
    #[error("sandbox: {0}")]
    Fixture(#[from] FixtureError),
    /// The emulators refused their options or could not start.
    #[error("sandbox: {0}")]
    Sandbox(#[from] SandboxError),
    /// No loopback port for the emulators, or no temporary directory for their state file.
    #[error("sandbox: {0}")]
    SandboxIo(#[source] std::io::Error),
    /// The state file is not private to this user (a link, another user's file): refused,
    /// since it holds tokens. A configuration error, unlike [`WireError::Store`].
    #[error("state store {location}: {source}")]
    StateNotPrivate {
        /// `[state] url`.
        location: String,
        /// Why.
        #[source]
        source: stockbridge_ports::StoreError,
    },
    /// The state store could not be opened.
    #[error("state store {location}: {source}")]
    Store {
        /// `[state] url`.
        location: String,
        /// Why.
        #[source]
        source: stockbridge_ports::StoreError,
    },
}

fn required(value: Option<String>, key: &str, env: &str) -> Result<String, ConfigError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ConfigError::Missing {
            key: key.into(),
            hint: format!("set it in the file or as {env}"),
        })
}

fn required_secret(
    value: Option<&crate::settings::SecretValue>,
    key: &str,
    env: &str,
) -> Result<Secret, ConfigError> {
    value
        .map(|s| s.0.clone())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ConfigError::Missing {
            key: key.into(),
            hint: format!("set it in the environment as {env} (preferred) or in the file"),
        })
}

pub(crate) fn read_mode(value: Option<&str>) -> Result<ReadMode, ConfigError> {
    match value {
        None | Some("auto") => Ok(ReadMode::Auto),
        Some("paged") => Ok(ReadMode::Paged),
        Some("bulk") => Ok(ReadMode::Bulk),
        Some(other) => Err(ConfigError::Value {
            key: "shopify.read_mode".into(),
            value: crate::settings::shown(other),
            allowed: "\"auto\", \"paged\" or \"bulk\"".into(),
        }),
    }
}

/// An adapter refused its section as a whole (the keys the settings check are already
/// valid); the adapter's message names the key.
pub(crate) fn config_error(section: &str, message: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        file: format!("section [{section}]"),
        message: message.to_string(),
    }
}

/// One shop's adapters over its state store, with its hold book when `[orders]` is on: what
/// [`wire`] and a fleet worker's shop both build.
pub(crate) struct Connected {
    pub(crate) shopify: Arc<ShopifySource>,
    pub(crate) tiktok: Arc<TikTokSink>,
    pub(crate) holds: Option<Arc<HoldBook>>,
}

/// Why [`connect`] failed.
pub(crate) enum ConnectError {
    /// An adapter refused its settings.
    Config(ConfigError),
    /// The TikTok orders in flight could not be read from the state store.
    Holds(stockbridge_ports::StoreError),
}

impl Connected {
    /// The ports over `store`.
    pub(crate) fn stores(&self, store: Arc<dyn StateStore>) -> Stores {
        Stores {
            source: self.shopify.clone(),
            sink: self.tiktok.clone(),
            store,
            holds: self.holds.clone(),
        }
    }
}

/// HTTP clients that many shops' adapters share (a fleet worker's: one connection pool per
/// platform, not three per shop); each adapter adds its own headers and request timeout to
/// each request.
pub(crate) struct HttpClients {
    shopify: ShopifyHttp,
    tiktok: reqwest::Client,
}

impl HttpClients {
    /// Clients with the connect and download timeouts of these endpoints (the adapters'
    /// defaults: no shop setting changes them).
    pub(crate) fn new(endpoints: &Endpoints) -> Result<HttpClients, ConfigError> {
        Ok(HttpClients {
            shopify: ShopifyHttp::new(
                endpoints.shopify.connect_timeout,
                endpoints.shopify.download_read_timeout,
            )
            .map_err(|e| config_error("shopify", e))?,
            tiktok: stockbridge_adapters_tiktok::http_client(endpoints.tiktok.connect_timeout)
                .map_err(|e| config_error("tiktok", e))?,
        })
    }
}

/// Builds both adapters (TikTok's saving refreshed tokens in `store`), with the settings'
/// Shopify read mode and TikTok request rate, over `http` when given (clients of their own
/// otherwise), and loads the hold book when `[orders]` is on.
pub(crate) async fn connect(
    mut shopify: ShopifyConfig,
    mut tiktok: TikTokConfig,
    http: Option<&HttpClients>,
    store: &Arc<dyn StateStore>,
    settings: &Settings,
) -> Result<Connected, ConnectError> {
    shopify.read_mode =
        read_mode(settings.file.shopify.read_mode.as_deref()).map_err(ConnectError::Config)?;
    if let Some(rps) = settings.requests_per_second {
        tiktok.requests_per_second = rps;
    }
    let shopify = match http {
        Some(http) => shopify.build_with(&http.shopify),
        None => shopify.build(),
    };
    let shopify = Arc::new(shopify.map_err(|e| ConnectError::Config(config_error("shopify", e)))?);
    let tiktok = match http {
        Some(http) => tiktok.build_with(http.tiktok.clone()),
        None => tiktok.build(),
    };
    let tiktok = Arc::new(
        tiktok
            .map_err(|e| ConnectError::Config(config_error("tiktok", e)))?
            .with_token_store(store.clone()),
    );
    let holds = if settings.orders.enabled {
        let book = HoldBook::load(
            tiktok.clone(),
            shopify.clone(),
            store.clone(),
            settings.orders.match_fields.clone(),
            settings.orders.max_hold,
        )
        .await
        .map_err(ConnectError::Holds)?;
        Some(Arc::new(book))
    } else {
        None
    };
    Ok(Connected {
        shopify,
        tiktok,
        holds,
    })
}

/// Where the adapters connect, and with which credentials.
pub(crate) struct Endpoints {
    pub(crate) shopify: ShopifyConfig,
    pub(crate) tiktok: TikTokConfig,
    pub(crate) webhook_secret: Option<Secret>,
}

pub(crate) fn endpoints_from_settings(settings: &Settings) -> Result<Endpoints, ConfigError> {
    crate::settings::check_connections(&settings.file)?;
    let s = &settings.file.shopify;
    let t = &settings.file.tiktok;
    let domain = required(
        s.shop_domain.clone(),
        "shopify.shop_domain",
        "STOCKBRIDGE__SHOPIFY__SHOP_DOMAIN",
    )?;
    let token = required_secret(
        s.access_token.as_ref(),
        "shopify.access_token",
        "STOCKBRIDGE__SHOPIFY__ACCESS_TOKEN",
    )?;
    let mut shopify = ShopifyConfig::new(domain, token);
    shopify.base_url = s.base_url.clone();
    if let Some(version) = &s.api_version {
        shopify.api_version = version.clone();
    }
    let app_key = required(
        t.app_key.clone(),
        "tiktok.app_key",
        "STOCKBRIDGE__TIKTOK__APP_KEY",
    )?;
    let app_secret = required_secret(
        t.app_secret.as_ref(),
        "tiktok.app_secret",
        "STOCKBRIDGE__TIKTOK__APP_SECRET",
    )?;
    let access = required_secret(
        t.access_token.as_ref(),
        "tiktok.access_token",
        "STOCKBRIDGE__TIKTOK__ACCESS_TOKEN",
    )?;
    let mut tiktok = TikTokConfig::new(app_key, app_secret, access);
    tiktok.refresh_token = t.refresh_token.as_ref().map(|s| s.0.clone());
    tiktok.shop_cipher = t.shop_cipher.clone();
    if let Some(url) = &t.base_url {
        tiktok.base_url = url.clone();
    }
    if let Some(url) = &t.auth_base_url {
        tiktok.auth_base_url = url.clone();
    }
    Ok(Endpoints {
        shopify,
        tiktok,
        webhook_secret: s.webhook_secret.as_ref().map(|s| s.0.clone()),
    })
}

fn endpoints_for_sandbox(sandbox: &RunningSandbox) -> Endpoints {
    let c: &Credentials = sandbox.credentials();
    let base = sandbox.base_url();
    let mut shopify = ShopifyConfig::new(
        c.shop_domain.clone(),
        Secret::new(c.shopify_access_token.clone()),
    );
    shopify.base_url = Some(base.clone());
    let mut tiktok = TikTokConfig::new(
        c.tiktok_app_key.clone(),
        Secret::new(c.tiktok_app_secret.clone()),
        Secret::new(c.tiktok_access_token.clone()),
    );
    tiktok.refresh_token = Some(Secret::new(c.tiktok_refresh_token.clone()));
    tiktok.base_url = base.clone();
    tiktok.auth_base_url = base;
    Endpoints {
        shopify,
        tiktok,
        webhook_secret: Some(Secret::new(c.shopify_webhook_secret.clone())),
    }
}

/// Starts the emulators from a fixture file on a free loopback port.
pub async fn start_sandbox(
    fixture: &Path,
    options: SandboxOptions,
) -> Result<RunningSandbox, WireError> {
    start_sandbox_with(Fixture::load(fixture)?, options).await
}

/// Starts the emulators from a fixture on a free loopback port.
pub async fn start_sandbox_with(
    fixture: Fixture,
    options: SandboxOptions,
) -> Result<RunningSandbox, WireError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(WireError::SandboxIo)?;
    Ok(Sandbox::start(fixture, listener, options).await?)
}

/// Wires the adapters: to the real stores from the settings, or to `sandbox` when given
/// (then `[shopify]` and `[tiktok]` are ignored and the state is a fresh temporary file
/// unless `[state] url` is set).
pub async fn wire(
    settings: &Settings,
    sandbox: Option<RunningSandbox>,
) -> Result<Wired, WireError> {
    let mut endpoints = match &sandbox {
        Some(sb) => endpoints_for_sandbox(sb),
        None => endpoints_from_settings(settings)?,
    };
    endpoints.tiktok.request_timeout = settings.request_timeout;
    endpoints.tiktok.retry.call_timeout = settings.call_timeout;

    let (state_location, temp_state) = match (&settings.state_url, &sandbox) {
        (None, Some(_)) => {
            let dir = tempfile::tempdir().map_err(WireError::SandboxIo)?;
            let path: PathBuf = dir.path().join("sandbox-state.db");
            (path.display().to_string(), Some(dir))
        }
        _ => (settings.state_location().to_owned(), None),
    };
    let store: Arc<dyn StateStore> = crate::state::open(&state_location).await?;

    let shop_domain = endpoints.shopify.shop_domain.clone();
    let tiktok_app = (
        endpoints.tiktok.app_key.clone(),
        endpoints.tiktok.app_secret.clone(),
    );
    let connected = connect(endpoints.shopify, endpoints.tiktok, None, &store, settings)
        .await
        .map_err(|e| match e {
            ConnectError::Config(e) => WireError::Config(e),
            ConnectError::Holds(source) => WireError::Store {
                location: state_location.clone(),
                source,
            },
        })?;
    Ok(Wired {
        stores: connected.stores(store),
        tiktok_app,
        shopify: connected.shopify,
        tiktok: connected.tiktok,
        shop_domain,
        webhook_secret: endpoints.webhook_secret,
        sandbox,
        state_location: crate::state::redact(&state_location),
        _temp_state: temp_state,
    })
}

impl Wired {
    /// Writes the emulators' state in the fixture format (for `--sandbox-state-out`).
    pub fn write_sandbox_state(&self, path: &Path) -> Result<(), std::io::Error> {
        if let Some(sandbox) = &self.sandbox {
            std::fs::write(path, sandbox.state().to_json_pretty())?;
        }
        Ok(())
    }

    /// Writes the emulators' state where `--sandbox-state-out` says, when it is given.
    pub fn write_sandbox_state_out(&self, run: &RunArgs) -> Result<(), CommandError> {
        match &run.sandbox_state_out {
            Some(out) => self.write_sandbox_state(out).map_err(|e| {
                CommandError::failed(anyhow::anyhow!(
                    "cannot write --sandbox-state-out {}: {e}",
                    out.display()
                ))
            }),
            None => Ok(()),
        }
    }
}

/// Loads the settings and wires the adapters (to the sandbox when asked).
pub async fn load_and_wire(
    run: &RunArgs,
    options: SandboxOptions,
) -> Result<(Settings, Wired), CommandError> {
    let settings = Settings::load(&run.config).map_err(CommandError::configuration)?;
    let wired = wire_settings(run, &settings, options).await?;
    Ok((settings, wired))
}

/// Wires the adapters for loaded settings (to the sandbox when the command line asks).
pub async fn wire_settings(
    run: &RunArgs,
    settings: &Settings,
    options: SandboxOptions,
) -> Result<Wired, CommandError> {
    let sandbox = match &run.sandbox {
        Some(fixture) => Some(
            start_sandbox(fixture, options)
                .await
                .map_err(CommandError::configuration)?,
        ),
        None => None,
    };
    Ok(wire(settings, sandbox).await?)
}
