//! The configuration file (cli.md) with `STOCKBRIDGE__SECTION__KEY` environment overrides,
//! read with the `config` crate into typed settings. Unknown keys are refused with their
//! full path; secrets are held in `Secret` and never print.

mod connection;
mod fleet;
mod orders;
mod ranges;
mod rules;
mod safety;
mod values;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use stockbridge_domain::{Breaker, RuleSet};
use stockbridge_ports::Secret;

pub use connection::{check_connections, check_state_url};
pub use fleet::{FleetSection, FleetSettings};
pub use orders::{order_settings, OrderSettings, OrdersSection, MAX_HOLD};
pub use ranges::{
    bounded_integer, default_concurrency, parse_bounded_duration, requests_per_second,
    DurationRange, BODY_TIMEOUT, CALL_TIMEOUT, COALESCE_WINDOW, CONCURRENCY, HEADER_TIMEOUT,
    IDLE_TIMEOUT, MAX_BODY_BYTES, MAX_CONNECTIONS, MAX_ITEMS_PER_FLUSH, RECONCILE_EVERY,
    REQUESTS_PER_SECOND, REQUEST_TIMEOUT, WEBHOOK_IDS_PER_MINUTE,
};
pub use rules::{rules_from_section, rules_from_toml};
pub use safety::{ConsoleSection, SafetySection};
pub use values::{shown, without_secret_values};

/// A configuration that cannot be used. Exit code 2; nothing is pushed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read or parsed, or a key is unknown or of the wrong type.
    #[error("configuration {file}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// A key holds a value outside what is allowed.
    #[error("configuration key {key} = {value}: {allowed}")]
    Value {
        /// The key's full path.
        key: String,
        /// The value as given.
        value: String,
        /// What is allowed.
        allowed: String,
    },
    /// A required key is missing.
    #[error("configuration key {key} is missing: {hint}")]
    Missing {
        /// The key's full path.
        key: String,
        /// How to set it.
        hint: String,
    },
    /// The rules do not fit the live stores (sync-rules.md §5).
    #[error("{}", crate::error::rules_do_not_fit(.0))]
    Rules(Vec<stockbridge_domain::RuleError>),
}

/// A secret read from the file or the environment.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretValue(pub Secret);

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| SecretValue(Secret::new(s)))
    }
}

/// `[shopify]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ShopifySection {
    /// `example.myshopify.com`.
    pub shop_domain: Option<String>,
    /// Admin API version, `2026-10` by default.
    pub api_version: Option<String>,
    /// Default `https://{shop_domain}`.
    pub base_url: Option<String>,
    /// Admin API access token (prefer the environment).
    pub access_token: Option<SecretValue>,
    /// Webhook signing secret (prefer the environment).
    pub webhook_secret: Option<SecretValue>,
    /// `auto` (default), `paged` or `bulk`: how a full read is made.
    pub read_mode: Option<String>,
}

/// `[tiktok]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TikTokSection {
    /// The app key.
    pub app_key: Option<String>,
    /// Default the TikTok Shop API host.
    pub base_url: Option<String>,
    /// Default the TikTok token host.
    pub auth_base_url: Option<String>,
    /// The app secret (prefer the environment).
    pub app_secret: Option<SecretValue>,
    /// The access token (prefer the environment).
    pub access_token: Option<SecretValue>,
    /// The refresh token, used when the access token expires.
    pub refresh_token: Option<SecretValue>,
    /// Looked up when absent.
    pub shop_cipher: Option<String>,
    /// Request-rate limit towards TikTok (requests per second).
    #[serde(default, deserialize_with = "values::number")]
    pub requests_per_second: Option<f64>,
    /// How many product writes may be in flight at once.
    #[serde(default, deserialize_with = "values::integer")]
    pub concurrency: Option<i64>,
    /// Longest one request may take, `30s` by default.
    pub request_timeout: Option<String>,
    /// Longest one call may take in all (attempts, timeouts, waits), `2m` by default.
    pub call_timeout: Option<String>,
}

/// `[state]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StateSection {
    /// [`crate::state::DEFAULT_STATE`] by default.
    pub url: Option<String>,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// `127.0.0.1:8080` by default.
    pub listen: Option<String>,
    /// `15m` by default.
    pub reconcile_every: Option<String>,
    /// Window in which webhook changes are coalesced, `300ms` by default.
    pub coalesce_window: Option<String>,
    /// Largest accepted webhook body in bytes, 1 MiB by default.
    #[serde(default, deserialize_with = "values::integer")]
    pub max_body_bytes: Option<i64>,
    /// Most items one real-time flush re-reads, 50 by default.
    #[serde(default, deserialize_with = "values::integer")]
    pub max_items_per_flush: Option<i64>,
    /// Time a client has to send a request head, `10s` by default.
    pub header_timeout: Option<String>,
    /// Time a request may take from its head to its answer, body included, `30s` by default.
    pub body_timeout: Option<String>,
    /// Time an open connection may stay without a request, `60s` by default.
    pub idle_timeout: Option<String>,
    /// Most connections open at once, 256 by default.
    #[serde(default, deserialize_with = "values::integer")]
    pub max_connections: Option<i64>,
    /// Most webhook deliveries a minute remembered for deduplication, 6000 by default.
    #[serde(default, deserialize_with = "values::integer")]
    pub webhook_ids_per_minute: Option<i64>,
}

/// `[rules]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RulesSection {
    /// 0 to 100, at most 2 decimals.
    #[serde(default, deserialize_with = "values::number")]
    pub quantity_percent: Option<f64>,
    /// 0..=999999.
    #[serde(default, deserialize_with = "values::integer")]
    pub unlimited_quantity: Option<i64>,
    /// 0..=999999.
    #[serde(default, deserialize_with = "values::integer")]
    pub max_quantity: Option<i64>,
    /// >= 0.
    #[serde(default, deserialize_with = "values::integer")]
    pub reserve_units: Option<i64>,
    /// >= 0.
    #[serde(default, deserialize_with = "values::integer")]
    pub zero_below: Option<i64>,
    /// `subtract` or `ignore`.
    pub negative_available: Option<String>,
    /// The mappings.
    pub location_mapping: Option<Vec<MappingSection>>,
    /// The overrides.
    #[serde(rename = "override")]
    pub overrides: Option<Vec<OverrideSection>>,
}

/// A location given by name or numeric id.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum LocationValue {
    /// A numeric id.
    Id(i64),
    /// A name (or an id written as text).
    Name(String),
}

/// `"all"` or a list of locations.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum LocationsValue {
    /// `"all"` (any other text is refused later, naming the key).
    Word(String),
    /// A list.
    List(Vec<LocationValue>),
}

/// `[[rules.location_mapping]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingSection {
    /// `"all"` or a list of names or ids.
    pub shopify_locations: LocationsValue,
    /// A name or id; the default warehouse when left out.
    pub tiktok_warehouse: Option<LocationValue>,
}

/// `[[rules.override]]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OverrideSection {
    /// SKU patterns.
    pub skus: Option<Vec<String>>,
    /// Replaces the shop-wide percentage.
    #[serde(default, deserialize_with = "values::number")]
    pub quantity_percent: Option<f64>,
    /// Replaces the shop-wide reserve.
    #[serde(default, deserialize_with = "values::integer")]
    pub reserve_units: Option<i64>,
    /// Replaces the shop-wide threshold.
    #[serde(default, deserialize_with = "values::integer")]
    pub zero_below: Option<i64>,
    /// Replaces the shop-wide cap.
    #[serde(default, deserialize_with = "values::integer")]
    pub max_quantity: Option<i64>,
    /// Push exactly this.
    #[serde(default, deserialize_with = "values::integer")]
    pub fixed_quantity: Option<i64>,
    /// Never touch these SKUs.
    pub exclude: Option<bool>,
}

/// The whole file, as written.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `[shopify]`.
    #[serde(default)]
    pub shopify: ShopifySection,
    /// `[tiktok]`.
    #[serde(default)]
    pub tiktok: TikTokSection,
    /// `[state]`.
    #[serde(default)]
    pub state: StateSection,
    /// `[server]`.
    #[serde(default)]
    pub server: ServerSection,
    /// `[rules]`.
    #[serde(default)]
    pub rules: RulesSection,
    /// `[orders]`.
    #[serde(default)]
    pub orders: OrdersSection,
    /// `[safety]`.
    #[serde(default)]
    pub safety: SafetySection,
    /// `[console]`.
    #[serde(default)]
    pub console: ConsoleSection,
    /// `[fleet]`: a fleet worker's file.
    #[serde(default)]
    pub fleet: FleetSection,
}

/// The settings the commands use: the file, checked, with the rules built.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The file as read (connection sections are checked when the adapters are built).
    pub file: FileConfig,
    /// The rule set.
    pub rules: RuleSet,
    /// `[state] url`, when given.
    pub state_url: Option<String>,
    /// `[server]`, checked.
    pub server: ServerSettings,
    /// `[tiktok] requests_per_second` when set, checked.
    pub requests_per_second: Option<f64>,
    /// `[tiktok] concurrency`, checked: product writes in flight at once (default 8 per 200
    /// requests per second of `requests_per_second`, from 8 to 64).
    pub concurrency: usize,
    /// `[orders]`, checked.
    pub orders: OrderSettings,
    /// `[tiktok] request_timeout`, checked: the longest one request may take (default 30 s).
    pub request_timeout: Duration,
    /// `[tiktok] call_timeout`, checked: the longest one call may take in all, its attempts,
    /// their timeouts and the waits between them (default 2 minutes).
    pub call_timeout: Duration,
    /// `[safety]`, checked: when a full sync holds its zeroing writes.
    pub breaker: Breaker,
    /// `[fleet]`, checked, when the file names a fleet database.
    pub fleet: Option<FleetSettings>,
}

/// `[server]`, checked.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Where `serve` listens.
    pub listen: String,
    /// Full reconciliation interval.
    pub reconcile_every: Duration,
    /// Coalescing window for webhook changes.
    pub coalesce_window: Duration,
    /// Largest accepted webhook body.
    pub max_body_bytes: usize,
    /// Most items one real-time flush re-reads from Shopify.
    pub max_items_per_flush: usize,
    /// Time a client has to send a request head.
    pub header_timeout: Duration,
    /// Time a request may take from its head to its answer.
    pub body_timeout: Duration,
    /// Time a connection may stay open without a request.
    pub idle_timeout: Duration,
    /// Most connections open at once (lowered to fit the open-file limit when serving).
    pub max_connections: usize,
    /// Most webhook deliveries a minute remembered for deduplication.
    pub webhook_ids_per_minute: u32,
}

impl Settings {
    /// Where the state lives: `[state] url`, or [`crate::state::DEFAULT_STATE`] when it is
    /// not set.
    pub fn state_location(&self) -> &str {
        self.state_url
            .as_deref()
            .unwrap_or(crate::state::DEFAULT_STATE)
    }

    /// Reads the file and the process environment.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        Self::load_with_env(path, None)
    }

    /// Reads the file with the given environment (the process's when `None`).
    pub fn load_with_env(
        path: &Path,
        env: Option<HashMap<String, String>>,
    ) -> Result<Settings, ConfigError> {
        let file_label = path.display().to_string();
        if !path.is_file() {
            return Err(ConfigError::Invalid {
                file: file_label,
                message: "the file does not exist or is not a file (allowed: a TOML file as described in the configuration reference)".into(),
            });
        }
        let env_source = config::Environment::with_prefix("STOCKBRIDGE")
            .prefix_separator("__")
            .separator("__")
            // Values stay text: a secret `0123` must not become 123. Numeric keys read
            // numeric text themselves (values.rs).
            .try_parsing(false)
            .source(env);
        let built = config::Config::builder()
            .add_source(config::File::from(path).format(config::FileFormat::Toml))
            .add_source(env_source)
            .build()
            .and_then(|c| c.try_deserialize::<FileConfig>())
            .map_err(|e| ConfigError::Invalid {
                file: file_label.clone(),
                message: describe_config_error(&e),
            })?;
        Self::from_file(built)
    }

    /// Checks a parsed file.
    pub fn from_file(file: FileConfig) -> Result<Settings, ConfigError> {
        let rules = rules_from_section(&file.rules)?;
        let server = ranges::server_settings(&file.server)?;
        let requests_per_second = requests_per_second(&file.tiktok)?;
        let concurrency = bounded_integer(
            "tiktok.concurrency",
            file.tiktok.concurrency,
            CONCURRENCY,
            default_concurrency(requests_per_second),
        )? as usize;
        let request_timeout = parse_bounded_duration(
            "tiktok.request_timeout",
            file.tiktok.request_timeout.as_deref().unwrap_or("30s"),
            REQUEST_TIMEOUT,
        )?;
        let call_timeout = parse_bounded_duration(
            "tiktok.call_timeout",
            file.tiktok.call_timeout.as_deref().unwrap_or("2m"),
            CALL_TIMEOUT,
        )?;
        check_state_url(file.state.url.as_deref())?;
        let orders = order_settings(&file.orders)?;
        let breaker = safety::breaker(&file.safety)?;
        let fleet = fleet::fleet_settings(&file.fleet)?;
        Ok(Settings {
            orders,
            fleet,
            breaker,
            state_url: file.state.url.clone(),
            rules,
            server,
            requests_per_second,
            concurrency,
            request_timeout,
            call_timeout,
            file,
        })
    }
}

/// The `config` crate's message, which names the key, made to read as ours. A file that is
/// not valid TOML is described by position and expectation only: the parser's message
/// quotes the offending line, which may hold a secret.
pub(super) fn describe_config_error(e: &config::ConfigError) -> String {
    if let config::ConfigError::FileParse { cause, .. } = e {
        return describe_parse_error(&cause.to_string());
    }
    let text = values::without_secret_values(&e.to_string());
    if text.contains("unknown field") {
        format!("{text} (unknown keys are not allowed; see the configuration reference)")
    } else {
        text
    }
}

/// A TOML parser message without its quoted source lines: `TOML parse error at line 3,
/// column 33` then what was expected. Every quoted line carries a `|` gutter.
fn describe_parse_error(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let position = lines.next().unwrap_or("the file is not valid TOML");
    let expected: Vec<&str> = lines
        .filter(|l| {
            !l.starts_with('|')
                && !l
                    .split_once('|')
                    .is_some_and(|(n, _)| n.trim().chars().all(|c| c.is_ascii_digit()))
        })
        .collect();
    if expected.is_empty() {
        format!("{position} (the file is not valid TOML)")
    } else {
        format!(
            "{position}: {} (the file is not valid TOML)",
            expected.join("; ")
        )
    }
}

#[cfg(test)]
mod tests;
