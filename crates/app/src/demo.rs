//! `stockbridge demo`: one command for a newcomer. Starts the emulators in-process with the
//! seed's example store, then shows plan and sync through the real adapters, over real HTTP.

use stockbridge_domain::{LocationMapping, LocationRef, LocationSelector, Percent, RuleSet};
use stockbridge_ports::RunKind;
use stockbridge_sandbox::{Fixture, SandboxOptions};
use tokio_util::sync::CancellationToken;

use crate::engine::{read_and_plan, reconcile, WriterOptions};
use crate::error::CommandError;
use crate::report;
use crate::settings::{FileConfig, Settings};
use crate::wiring::{start_sandbox_with, wire};

/// The example store: Location A 100 and Location B 200 of a T-shirt, 985 mugs, an untracked
/// e-book and a candle that keeps selling when out of stock; TikTok warehouses α (default)
/// and β.
pub const FIXTURE: &str = include_str!("demo/fixture.json");

fn heading(text: &str) {
    println!("\n=== {text} ===\n");
}

/// Runs the demo.
pub async fn run() -> Result<(), CommandError> {
    demo().await.map_err(CommandError::failed)
}

async fn demo() -> anyhow::Result<()> {
    let fixture = Fixture::from_json(FIXTURE)?;
    let sandbox = start_sandbox_with(fixture, SandboxOptions::default()).await?;
    println!(
        "Stockbridge demo: Shopify and TikTok Shop emulators running at {}",
        sandbox.base_url()
    );
    println!("Shopify: Location A and Location B. TikTok Shop: warehouses α (default) and β.");
    let settings = Settings::from_file(FileConfig::default())?;
    let wired = wire(&settings, Some(sandbox)).await?;
    let cancel = CancellationToken::new();
    let options = WriterOptions::default();

    let eighty = RuleSet {
        quantity_percent: Percent::from_f64(80.0)?,
        ..RuleSet::default()
    };
    heading("1. plan: 80% of all active locations into the default warehouse α");
    let snapshot = read_and_plan(&wired.stores, &eighty).await?;
    print!("{}", report::table(&snapshot.plan, None));

    heading("2. sync: push what differs");
    let synced = reconcile(&wired.stores, &eighty, RunKind::Sync, &options, &cancel).await?;
    print!("{}", report::table(&synced.plan, Some(&synced.statuses)));

    heading("3. sync again: nothing changed, nothing is written");
    let again = reconcile(&wired.stores, &eighty, RunKind::Sync, &options, &cancel).await?;
    print!("{}", report::table(&again.plan, Some(&again.statuses)));

    let a_to_beta = RuleSet {
        quantity_percent: Percent::from_f64(80.0)?,
        location_mappings: vec![LocationMapping {
            locations: LocationSelector::Listed(vec![LocationRef::Name("Location A".into())]),
            warehouse: Some("β".into()),
        }],
        ..RuleSet::default()
    };
    heading("4. other rules: 80% of Location A into β (α is left as it is)");
    let other = reconcile(&wired.stores, &a_to_beta, RunKind::Sync, &options, &cancel).await?;
    print!("{}", report::table(&other.plan, Some(&other.statuses)));

    if let Some(sandbox) = &wired.sandbox {
        heading("TikTok Shop now holds");
        let state = sandbox.state();
        for product in &state.tiktok.products {
            for sku in &product.skus {
                let stock: Vec<String> = sku
                    .inventory
                    .iter()
                    .map(|i| {
                        let name = state
                            .tiktok
                            .warehouses
                            .iter()
                            .find(|w| w.id == i.warehouse_id)
                            .map_or(i.warehouse_id.as_str(), |w| w.name.as_str());
                        format!("{name} = {}", i.quantity)
                    })
                    .collect();
                println!("  {:<16} {}", sku.seller_sku, stock.join(", "));
            }
        }
    }
    println!("\nEvery write above is in the audit log of the state store, with its explanation.");
    println!("Next: write a config file (see README.md) and run `stockbridge plan --config FILE --sandbox FIXTURE`.");
    Ok(())
}
