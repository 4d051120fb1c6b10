//! `stockbridge shops add|list|show|remove --config worker.toml`: the shops of a fleet, kept
//! in the fleet's PostgreSQL database (`[fleet] database_url`). A shop is what a one-shop file
//! describes; its secrets, read from that file's environment, are sealed with the fleet's key
//! (`STOCKBRIDGE__FLEET__SECRET_KEY`) and never printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::Subcommand;
use stockbridge_adapters_postgres::{Fleet, NewShop, PostgresStore, SecretKey, ShopRow};
use stockbridge_ports::Secret;

use crate::error::CommandError;
use crate::report::Format;
use crate::settings::{FleetSettings, Settings};

/// The keys of a one-shop file that hold secrets: sealed, never stored in the clear.
const SECRET_KEYS: [(&str, &str); 5] = [
    ("shopify", "access_token"),
    ("shopify", "webhook_secret"),
    ("tiktok", "app_secret"),
    ("tiktok", "access_token"),
    ("tiktok", "refresh_token"),
];

/// What `shops` does.
#[derive(Debug, Subcommand)]
pub enum ShopsCommand {
    /// Store (or replace) the shop a one-shop file describes, its secrets from the environment.
    Add {
        /// The worker's file (its `[fleet] database_url` names the fleet).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The shop's one-shop file.
        #[arg(value_name = "SHOP_FILE")]
        shop: PathBuf,
    },
    /// List the shops with their owner, lease epoch and last reconciliation.
    List {
        /// The worker's file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show a shop's settings (never its secrets: only which are stored) and lease.
    Show {
        /// The worker's file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The shop's Shopify domain.
        #[arg(value_name = "DOMAIN")]
        domain: String,
    },
    /// Remove the shops of a Shopify domain, with their leases and state.
    Remove {
        /// The worker's file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The shop's Shopify domain.
        #[arg(value_name = "DOMAIN")]
        domain: String,
    },
}

/// Runs `stockbridge shops ...`.
pub async fn run(command: ShopsCommand) -> Result<(), CommandError> {
    match command {
        ShopsCommand::Add { config, shop } => add(&config, &shop).await,
        ShopsCommand::List { config, format } => list(&config, format).await,
        ShopsCommand::Show { config, domain } => show(&config, &domain).await,
        ShopsCommand::Remove { config, domain } => remove(&config, &domain).await,
    }
}

/// The fleet named by the worker's file, and its settings.
async fn open(config: &Path) -> Result<(Fleet, FleetSettings), CommandError> {
    let settings = Settings::load(config).map_err(CommandError::configuration)?;
    let fleet = settings.fleet.ok_or_else(|| {
        CommandError::configuration(anyhow::anyhow!(
            "{}: no [fleet] database_url: the shops commands need a worker's file naming the \
             fleet's PostgreSQL database",
            config.display()
        ))
    })?;
    let store = connect(&fleet.database_url).await?;
    Ok((Fleet::new(&store), fleet))
}

fn failed(e: impl std::fmt::Display) -> CommandError {
    CommandError::failed(anyhow::anyhow!("fleet database: {e}"))
}

async fn add(config: &Path, shop_file: &Path) -> Result<(), CommandError> {
    let (fleet, settings) = open(config).await?;
    let key = settings.secret_key.as_ref().ok_or_else(|| {
        CommandError::configuration(anyhow::anyhow!(
            "STOCKBRIDGE__FLEET__SECRET_KEY is not set: shops add seals the shop's secrets \
             with it (32 random bytes as base64, e.g. `openssl rand -base64 32`)"
        ))
    })?;
    let key = SecretKey::parse(key.expose()).map_err(CommandError::configuration)?;
    let shop = Settings::load(shop_file).map_err(CommandError::configuration)?;
    let shop = new_shop(shop_file, &shop)?;
    let id = fleet.put_shop(&key, &shop).await.map_err(failed)?;
    println!(
        "shop {} ({}) stored as #{id} with {} sealed secret(s)",
        shop.shop_domain,
        shop.tiktok_shop_cipher,
        shop.secrets.len()
    );
    Ok(())
}

/// The shop a one-shop file describes: its domain and cipher (both required), its settings
/// without secrets, and its secrets (file and environment).
fn new_shop(path: &Path, shop: &Settings) -> Result<NewShop, CommandError> {
    let missing = |key: &str| {
        CommandError::configuration(anyhow::anyhow!(
            "{}: {key} is required for a fleet shop",
            path.display()
        ))
    };
    let shop_domain = shop
        .file
        .shopify
        .shop_domain
        .clone()
        .ok_or_else(|| missing("shopify.shop_domain"))?;
    let tiktok_shop_cipher = shop
        .file
        .tiktok
        .shop_cipher
        .clone()
        .ok_or_else(|| missing("tiktok.shop_cipher"))?;
    let (s, t) = (&shop.file.shopify, &shop.file.tiktok);
    let secrets: BTreeMap<String, Secret> = [
        ("shopify.access_token", &s.access_token),
        ("shopify.webhook_secret", &s.webhook_secret),
        ("tiktok.app_secret", &t.app_secret),
        ("tiktok.access_token", &t.access_token),
        ("tiktok.refresh_token", &t.refresh_token),
    ]
    .into_iter()
    .filter_map(|(name, value)| {
        let value = value.as_ref()?.0.clone();
        (!value.is_empty()).then(|| (name.to_owned(), value))
    })
    .collect();
    let text = std::fs::read_to_string(path).map_err(CommandError::configuration)?;
    let mut table: toml::Table = text.parse().map_err(CommandError::configuration)?;
    for (section, key) in SECRET_KEYS {
        if let Some(toml::Value::Table(section)) = table.get_mut(section) {
            section.remove(key);
        }
    }
    table.remove("state");
    table.remove("fleet");
    Ok(NewShop {
        shop_domain,
        tiktok_shop_cipher,
        settings: toml::to_string(&table).map_err(CommandError::configuration)?,
        secrets,
    })
}

/// A time as RFC 3339 in UTC with milliseconds.
fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

async fn list(config: &Path, format: Format) -> Result<(), CommandError> {
    let (fleet, _) = open(config).await?;
    let shops = fleet.shops().await.map_err(failed)?;
    match format {
        Format::Json => {
            let shops: Vec<serde_json::Value> = shops.iter().map(json_shop).collect();
            println!("{}", serde_json::json!({ "shops": shops }));
        }
        Format::Table => {
            for shop in &shops {
                println!(
                    "{} {} owner {} epoch {} last reconcile {} lag {} health {}",
                    shop.shop_domain,
                    shop.tiktok_shop_cipher,
                    shop.owner.as_deref().unwrap_or("-"),
                    shop.epoch,
                    shop.last_reconcile_at.map_or("never".to_owned(), rfc3339),
                    lag_seconds(shop).map_or("-".to_owned(), |s| format!("{s}s")),
                    health(shop),
                );
            }
            if shops.is_empty() {
                println!("no shops stored");
            }
        }
    }
    Ok(())
}

/// How long a change may wait for its owner before the shop counts as lagging.
pub const LAGGING_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Seconds the oldest change marked for the shop has waited for its owner to take it: 0
/// when an owner holds it and nothing waits, `None` when nobody holds it and nothing waits.
fn lag_seconds(shop: &ShopRow) -> Option<f64> {
    match (shop.waiting, &shop.owner) {
        (Some(waiting), _) => Some((waiting.as_secs_f64() * 1000.0).round() / 1000.0),
        (None, Some(_)) => Some(0.0),
        (None, None) => None,
    }
}

/// The shop's health: `unowned` (no worker holds a live lease), `starting` (held, never
/// reconciled yet), `failing` (its newest run was aborted), `lagging` (a change has waited
/// longer than a minute for its owner), or `ok`.
fn health(shop: &ShopRow) -> &'static str {
    if shop.owner.is_none() {
        "unowned"
    } else if shop.last_outcome.as_deref() == Some("aborted") {
        "failing"
    } else if shop.waiting.is_some_and(|w| w > LAGGING_AFTER) {
        "lagging"
    } else if shop.last_reconcile_at.is_none() {
        "starting"
    } else {
        "ok"
    }
}

/// One shop of `shops list --format json` (fleet.md's contract, plus the TikTok cipher).
fn json_shop(shop: &ShopRow) -> serde_json::Value {
    serde_json::json!({
        "shop_domain": shop.shop_domain,
        "tiktok_shop_cipher": shop.tiktok_shop_cipher,
        "owner": shop.owner,
        "epoch": shop.epoch,
        "last_reconcile_at": shop.last_reconcile_at.map(rfc3339),
        "lag_seconds": lag_seconds(shop),
        "health": health(shop),
    })
}

async fn show(config: &Path, domain: &str) -> Result<(), CommandError> {
    let (fleet, settings) = open(config).await?;
    let shops: Vec<ShopRow> = fleet
        .shops()
        .await
        .map_err(failed)?
        .into_iter()
        .filter(|s| s.shop_domain == domain)
        .collect();
    if shops.is_empty() {
        return Err(CommandError::failed(anyhow::anyhow!(
            "no shop with the domain {domain:?} is stored"
        )));
    }
    let key = settings
        .secret_key
        .as_ref()
        .and_then(|k| SecretKey::parse(k.expose()).ok());
    for shop in shops {
        println!(
            "shop {} ({}) #{}: owner {}, epoch {}, last reconcile {}",
            shop.shop_domain,
            shop.tiktok_shop_cipher,
            shop.id,
            shop.owner.as_deref().unwrap_or("-"),
            shop.epoch,
            shop.last_reconcile_at.map_or("never".to_owned(), rfc3339),
        );
        let secrets = match &key {
            Some(key) => match fleet.shop_secrets(key, shop.id).await {
                Ok(Some(secrets)) => secrets.keys().cloned().collect::<Vec<_>>().join(", "),
                Ok(None) => String::new(),
                Err(e) => format!("UNREADABLE: {e}"),
            },
            None => "(set STOCKBRIDGE__FLEET__SECRET_KEY to check them)".to_owned(),
        };
        println!("sealed secrets: {secrets}");
        print!("{}", shop.settings);
    }
    Ok(())
}

async fn remove(config: &Path, domain: &str) -> Result<(), CommandError> {
    let (fleet, _) = open(config).await?;
    let removed = fleet.remove_shops(domain, None).await.map_err(failed)?;
    if removed.is_empty() {
        return Err(CommandError::failed(anyhow::anyhow!(
            "no shop with the domain {domain:?} is stored"
        )));
    }
    println!(
        "removed {} shop(s) of {domain} with their leases and state",
        removed.len()
    );
    Ok(())
}

/// Connects to the fleet's database; a failure names it with any password masked.
pub(crate) async fn connect(database_url: &str) -> Result<PostgresStore, CommandError> {
    connect_with_pool(database_url, None).await
}

/// [`connect`] with a pool of at most `connections` (the store's default when `None`).
pub(crate) async fn connect_with_pool(
    database_url: &str,
    connections: Option<usize>,
) -> Result<PostgresStore, CommandError> {
    let store = match connections {
        Some(n) => PostgresStore::connect_with_pool(database_url, n).await,
        None => PostgresStore::connect(database_url).await,
    };
    store.map_err(|e| {
        CommandError::failed(anyhow::anyhow!(
            "fleet database {}: {e}",
            crate::state::redact(database_url)
        ))
    })
}
