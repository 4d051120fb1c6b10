//! The console's plan page on a plan of 100,000 lines (BENCHMARKS.md): the time of
//! `GET /plan` unfiltered (first and last page), filtered to changed and zeroed lines, and by
//! SKU, over loopback HTTP to the console served in-process on in-memory ports.
//!
//! `cargo bench -p stockbridge-app --bench console`; `STOCKBRIDGE_BENCH_LINES` sets the
//! number of lines (default 100,000).

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use stockbridge_app::console::{router, ConsoleConfig, ConsoleParts};
use stockbridge_app::engine::{Latest, LatestPlan, Metrics, Stores};
use stockbridge_domain::{
    InventoryItemId, Plan, PlanLine, PlanSummary, ProductId, Quantity, SkuId, VariantId,
    WarehouseId,
};
use stockbridge_ports::fakes::{InMemorySink, InMemorySource, InMemoryStore};
use stockbridge_ports::RunId;

/// Requests per measured page.
const ROUNDS: usize = 20;

fn plan(lines: usize) -> Plan {
    let lines: Vec<PlanLine> = (0..lines)
        .map(|n| {
            let current = (n % 50) as i64;
            // A third go up, a tenth go to 0, the rest stay.
            let quantity = match n % 30 {
                0..=9 => current + 5,
                10..=12 => 0,
                _ => current,
            };
            PlanLine {
                sku: format!("SKU-{n:06}"),
                variant_id: VariantId::new(n as u64 + 1).unwrap(),
                inventory_item_id: InventoryItemId::new(n as u64 + 1).unwrap(),
                product_id: ProductId::new(format!("{}", 1_000_000 + n / 2)).unwrap(),
                sku_id: SkuId::new(format!("{}", 5_000_000 + n)).unwrap(),
                warehouse: WarehouseId::new("7001").unwrap(),
                warehouse_name: "Main".into(),
                quantity: Quantity::new(quantity).unwrap(),
                current: Some(Quantity::new(current).unwrap()),
                explanation: format!("Main {quantity} = {quantity}"),
                held: 0,
                held_orders: Vec::new(),
                bundle: false,
            }
        })
        .collect();
    let mut summary = PlanSummary {
        lines: lines.len(),
        changed: lines.iter().filter(|l| l.changed()).count(),
        ..PlanSummary::default()
    };
    summary.count_movements(&lines);
    Plan {
        lines,
        warnings: Vec::new(),
        summary,
    }
}

fn main() {
    let lines: usize = std::env::var("STOCKBRIDGE_BENCH_LINES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let latest = Arc::new(Latest::default());
    latest.set(LatestPlan {
        plan: plan(lines),
        at: SystemTime::now(),
        run_id: RunId(1),
    });
    let (changes, _queue) = tokio::sync::mpsc::unbounded_channel();
    let (_ready, ready) = tokio::sync::watch::channel(true);
    let parts = ConsoleParts {
        stores: Stores {
            source: Arc::new(InMemorySource::new(Vec::new(), Vec::new())),
            sink: Arc::new(InMemorySink::new(Vec::new(), Vec::new())),
            store: Arc::new(InMemoryStore::new()),
        },
        metrics: Arc::new(Metrics::default()),
        latest,
        changes,
        ready,
    };
    let config = ConsoleConfig {
        token: None,
        loopback: true,
        rules_toml: "[rules]\n".into(),
    };
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, router(parts, config)).await });
    let client = reqwest::blocking::Client::new();
    println!(
        "console plan page, {lines} lines, {ROUNDS} requests each (load average at start: {})",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    let last_page = lines.div_ceil(100) - 1;
    for query in [
        "".to_owned(),
        format!("?page={last_page}"),
        "?filter=changed".into(),
        "?filter=zero&page=10".into(),
        "?sku=SKU-09999".into(),
    ] {
        let url = format!("{base}/plan{query}");
        let body = client.get(&url).send().unwrap().text().unwrap();
        assert!(body.contains("id=\"matching\""), "{url}: {body}");
        let mut times: Vec<f64> = (0..ROUNDS)
            .map(|_| {
                let started = Instant::now();
                let answer = client.get(&url).send().unwrap();
                assert!(answer.status().is_success());
                answer.bytes().unwrap();
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "GET /plan{query:<22} median {:6.1} ms, slowest {:6.1} ms, {} bytes",
            times[ROUNDS / 2],
            times[ROUNDS - 1],
            body.len()
        );
    }
}
