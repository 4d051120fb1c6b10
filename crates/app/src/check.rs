//! `stockbridge check`: the configuration, both health checks, and the rules validated
//! against the live locations and warehouses.

use std::path::Path;
use std::process::ExitCode;

use stockbridge_sandbox::SandboxOptions;

use crate::cli::{load_and_wire, RunArgs};

/// Runs `stockbridge check`: exit 0 when everything holds, 2 otherwise.
pub async fn run(config: &Path, sandbox: Option<&Path>) -> ExitCode {
    let run = RunArgs {
        config: config.to_owned(),
        sandbox: sandbox.map(Path::to_owned),
        sandbox_state_out: None,
    };
    let (settings, wired) = match load_and_wire(&run, SandboxOptions::default()).await {
        Ok(w) => w,
        Err(code) => return code,
    };
    println!("configuration {}: valid", config.display());
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
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
