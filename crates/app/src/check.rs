//! `stockbridge check`: the configuration, both health checks, and the rules validated
//! against the live locations and warehouses.

use std::path::{Path, PathBuf};

use stockbridge_adapters_store::StoreAddress;
use stockbridge_sandbox::SandboxOptions;

use crate::error::CommandError;
use crate::settings::Settings;
use crate::state;
use crate::wiring::{start_sandbox, wire};

/// Runs `stockbridge check`: exit 0 when everything holds, 2 otherwise (cli.md), whatever
/// failed. It creates no state file: a missing one is replaced by a throwaway store for the
/// check, once its directory is known to be writable.
pub async fn run(config: &Path, sandbox: Option<&Path>) -> Result<(), CommandError> {
    let mut settings = Settings::load(config).map_err(CommandError::configuration)?;
    let state_line = match sandbox {
        Some(_) if settings.state_url.is_none() => None,
        _ => {
            let url = settings.state_location().to_owned();
            match check_state(&url) {
                Ok(StateCheck::Database) => Some(format!(
                    "state: ok: {} answers (PostgreSQL)",
                    state::redact(&url)
                )),
                Ok(StateCheck::Exists) => Some(format!("state: ok: {url} exists")),
                Ok(StateCheck::Creatable(dir)) => {
                    settings.state_url = Some("sqlite::memory:".to_owned());
                    Some(format!(
                        "state: ok: {url} does not exist yet; {} is writable, the first sync creates it",
                        dir.display()
                    ))
                }
                Err(problem) => {
                    return Err(CommandError::configuration(StateCheckError {
                        location: url,
                        problem,
                    }))
                }
            }
        }
    };
    let sandbox = match sandbox {
        Some(fixture) => Some(
            start_sandbox(fixture, SandboxOptions::default())
                .await
                .map_err(CommandError::configuration)?,
        ),
        None => None,
    };
    // Whatever failed, `check` exits 2, a state store that cannot be opened included.
    let wired = wire(&settings, sandbox)
        .await
        .map_err(CommandError::configuration)?;
    println!("configuration {}: valid", config.display());
    if let Some(line) = state_line {
        println!("{line}");
    }
    let mut ok = true;
    match wired.shopify.health_check().await {
        Ok(h) => {
            let scopes = match &h.scopes {
                stockbridge_adapters_shopify::Scopes::Granted(s) => {
                    format!("scopes {}", s.join(", "))
                }
                stockbridge_adapters_shopify::Scopes::Unknown => "scopes not reported".to_owned(),
            };
            println!(
                "shopify: ok: token valid, shop {:?} ({}) reachable, {scopes}",
                h.shop_name, h.myshopify_domain
            );
        }
        Err(e) => {
            ok = false;
            println!("shopify: FAILED: {e}");
        }
    }
    match wired.tiktok.health_check().await {
        Ok(h) => println!(
            "tiktok: ok: token valid, shop {:?} ({}) reachable, {} warehouse(s) of which {} enabled sales warehouse(s)",
            h.shop_name, h.shop_region, h.warehouses, h.target_warehouses
        ),
        Err(e) => {
            ok = false;
            println!("tiktok: FAILED: {e}");
        }
    }
    if ok && settings.orders.enabled {
        ok &= check_orders(&wired).await;
    }
    if ok {
        let (locations, warehouses) = tokio::join!(
            wired.stores.source.locations(),
            wired.stores.sink.warehouses()
        );
        match (locations, warehouses) {
            (Ok(l), Ok(w)) => match stockbridge_domain::resolve(&settings.rules, &l, &w) {
                Ok(resolved) => {
                    println!(
                        "rules: valid against {} location(s) and {} warehouse(s)",
                        l.len(),
                        w.len()
                    );
                    for (i, m) in resolved.mappings().iter().enumerate() {
                        let from = match m.listed() {
                            None => "all active locations".to_owned(),
                            Some(ids) => ids
                                .iter()
                                .map(|id| {
                                    l.iter()
                                        .find(|x| x.id == *id)
                                        .map_or(id.to_string(), |x| x.name.clone())
                                })
                                .collect::<Vec<_>>()
                                .join(", "),
                        };
                        println!(
                            "  mapping {i}: {from} -> {} ({})",
                            m.warehouse_name(),
                            m.warehouse()
                        );
                    }
                    for w in resolved.warnings() {
                        println!("  warning: {w}");
                    }
                }
                Err(errors) => {
                    ok = false;
                    println!("rules: INVALID");
                    for e in errors {
                        println!("  - {e}");
                    }
                }
            },
            (l, w) => {
                ok = false;
                if let Err(e) = l {
                    println!("shopify locations: FAILED: {e}");
                }
                if let Err(e) = w {
                    println!("tiktok warehouses: FAILED: {e}");
                }
            }
        }
    }
    if ok {
        Ok(())
    } else {
        Err(CommandError::configuration(anyhow::anyhow!(
            "the check failed: see the lines marked FAILED or INVALID above"
        )))
    }
}

/// What `check` found where the state lives.
enum StateCheck {
    /// The file (or memory) is there to open.
    Exists,
    /// A PostgreSQL database; wiring connects to it (and brings its schema up to date).
    Database,
    /// No file yet; this existing directory, where it would be created, is writable.
    Creatable(PathBuf),
}

/// The state file cannot be used, or created where `[state] url` says.
#[derive(Debug, thiserror::Error)]
#[error("state store {location}: {problem}")]
struct StateCheckError {
    /// `[state] url`.
    location: String,
    /// What is wrong.
    problem: StateProblem,
}

/// What is wrong with the state file's place.
#[derive(Debug, thiserror::Error)]
enum StateProblem {
    /// Not an SQLite address.
    #[error(transparent)]
    Address(#[from] stockbridge_adapters_store::SqliteError),
    /// The nearest existing entry on the file's path is not a directory.
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// The directory refuses a new file.
    #[error("cannot create a file in {}: {source}", dir.display())]
    NotWritable {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Looks at the state file without creating it: a missing file is fine when the nearest
/// existing directory on its path accepts a new file (a probe file, removed at once).
fn check_state(url: &str) -> Result<StateCheck, StateProblem> {
    if state::is_postgres(url) {
        return Ok(StateCheck::Database);
    }
    let address = StoreAddress::parse(url)?;
    let Some(path) = address.path() else {
        return Ok(StateCheck::Exists);
    };
    if path.exists() {
        return Ok(StateCheck::Exists);
    }
    let mut dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    while !dir.as_os_str().is_empty() && !dir.exists() {
        dir = dir.parent().unwrap_or(Path::new("")).to_path_buf();
    }
    if dir.as_os_str().is_empty() {
        dir = PathBuf::from(".");
    }
    if !dir.is_dir() {
        return Err(StateProblem::NotADirectory(dir));
    }
    match tempfile::NamedTempFile::new_in(&dir) {
        Ok(_) => Ok(StateCheck::Creatable(dir)),
        Err(source) => Err(StateProblem::NotWritable { dir, source }),
    }
}

/// With `[orders]` on: TikTok's order search and Shopify's orders (`read_orders`) answer.
async fn check_orders(wired: &crate::wiring::Wired) -> bool {
    use stockbridge_ports::{ShopifyOrders, TikTokOrders};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (tiktok, shopify) = tokio::join!(
        wired.tiktok.orders_updated(now - 60, None),
        wired.shopify.orders_created_since(now - 60)
    );
    match (tiktok, shopify) {
        (Ok(_), Ok(_)) => {
            println!("orders: ok: TikTok order search and Shopify orders (read_orders) readable; units of TikTok orders in flight are held");
            true
        }
        (t, s) => {
            for e in t
                .err()
                .map(|e| format!("TikTok order search: {e}"))
                .into_iter()
                .chain(
                    s.err()
                        .map(|e| format!("Shopify orders (the read_orders scope): {e}")),
                )
            {
                println!("orders: FAILED: {e} (grant the scope, or set [orders] enabled = false)");
            }
            false
        }
    }
}
