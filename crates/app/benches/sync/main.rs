//! The sync benchmarks of BENCHMARKS.md, against a `stockbridge sandbox` process over
//! loopback HTTP:
//!
//! - `full`: a full sync of 20,000 variants x 5 locations into 10,000 TikTok products of 2
//!   SKUs (TikTok limited to 200 requests/s, Shopify at the Standard plan's bucket), against
//!   the lower bound the two limits set; then the same sync again with nothing changed.
//! - `full-100k`: the same with 100,000 variants x 3 locations into 50,000 products, for the
//!   peak memory at five times the size (a fleet worker holds many shops).
//! - `realtime`: 1,000 stock changes at 100 per second over 500 items through `serve`, with
//!   20 ms of API latency: the time from each change to TikTok holding the new number;
//!   `realtime-plus`: the same with the Shopify Plus plan's cost bucket; `realtime-300`: 3,000
//!   changes at 300 per second over 5,000 items on the Standard plan, TikTok's limit raised
//!   to 600 requests per second to match.
//!
//! `cargo bench -p stockbridge-app --bench sync [-- full|full-100k|realtime|realtime-plus|realtime-300]`;
//! `STOCKBRIDGE_BENCH_SCALE` divides the sizes (e.g. 10 for a quick look),
//! `STOCKBRIDGE_BENCH_ADAPTER_RPS` sets `tiktok.requests_per_second` (default 200) and
//! `STOCKBRIDGE_BENCH_COALESCE` the real-time runs' `server.coalesce_window` and
//! `STOCKBRIDGE_BENCH_RATE` their changes per second (default 100),
//! `STOCKBRIDGE_BENCH_CONCURRENCY` their `tiktok.concurrency` (default: the shipped default,
//! 8 per 200 req/s of TikTok's limit) and `STOCKBRIDGE_BENCH_STATE_DIR` where their state file goes (default
//! the bench's temporary directory);
//! `STOCKBRIDGE_BENCH_BIN` names another `stockbridge` binary to run (an earlier commit's
//! build, to compare before and after in one session).

mod realtime;
mod world;

use std::path::Path;
use std::time::{Duration, Instant};

use world::{SandboxProcess, Shape};

/// TikTok's limit in both benchmarks, requests per second.
const TIKTOK_RPS: u32 = 200;
/// TikTok's limit raised to match 300 changes per second (a write per change, paced at 95%).
const HEAVY_TIKTOK_RPS: u32 = 600;
/// Products per TikTok product search page.
const SEARCH_PAGE: u64 = 100;

/// The adapter's `requests_per_second`: TikTok's limit unless `STOCKBRIDGE_BENCH_ADAPTER_RPS`
/// says otherwise.
fn adapter_rps() -> u32 {
    std::env::var("STOCKBRIDGE_BENCH_ADAPTER_RPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(TIKTOK_RPS)
}

fn divisor() -> u64 {
    std::env::var("STOCKBRIDGE_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1)
}

/// What one sync did, as the sandbox and /proc saw it.
struct Measured {
    wall: f64,
    cpu: f64,
    peak_mb: f64,
    updated: u64,
    failed: u64,
    tiktok_requests: u64,
    tiktok_throttled: u64,
    writes: u64,
    shopify_requests: u64,
    shopify_throttled: u64,
}

/// Runs `stockbridge sync --config FILE --format json` as a merchant would, in its own
/// process: wall time, CPU time (reaped children's user + system), peak memory (its `VmHWM`,
/// polled every 10 ms), and what the sandbox saw.
async fn one_sync(sandbox: &SandboxProcess, config: &Path) -> Measured {
    sandbox
        .control("POST", "/_sandbox/stats/reset", Some(serde_json::json!({})))
        .await;
    let cpu_before = world::children_cpu_seconds();
    let started = Instant::now();
    let mut child = std::process::Command::new(world::binary())
        .args([
            "sync",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ])
        .envs(world::secrets())
        .env("STOCKBRIDGE_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("stockbridge sync starts");
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let mut peak_mb: f64 = 0.0;
    let status = loop {
        peak_mb = peak_mb.max(world::status_mb_of(pid, "VmHWM"));
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let wall = started.elapsed().as_secs_f64();
    let cpu = world::children_cpu_seconds() - cpu_before;
    let out = reader.join().unwrap();
    let report: serde_json::Value = serde_json::from_str(&out).expect("sync prints JSON");
    assert!(status.success(), "sync exited with {status}");
    let stats = sandbox.control("GET", "/_sandbox/stats", None).await;
    let sum = |api: &str, kind: Option<&str>| -> u64 {
        stats[api]
            .as_object()
            .into_iter()
            .flat_map(|endpoints| endpoints.values())
            .flat_map(|kinds| kinds.as_object().into_iter().flatten())
            .filter(|(k, _)| kind.is_none_or(|want| k.as_str() == want))
            .filter_map(|(_, n)| n.as_u64())
            .sum()
    };
    let summary = &report["summary"];
    Measured {
        wall,
        cpu,
        peak_mb,
        updated: summary["updated"].as_u64().unwrap_or(0),
        failed: summary["failed"].as_u64().unwrap_or(0),
        tiktok_requests: sum("tiktok", None),
        tiktok_throttled: sum("tiktok", Some("rate_limited")),
        writes: stats["inventory_updates"]["calls"].as_u64().unwrap_or(0),
        shopify_requests: sum("shopify", None),
        shopify_throttled: sum("shopify", Some("throttled")),
    }
}

/// The peak memory of a full sync's two runs (everything changed, nothing changed), in MB.
struct Peaks {
    variants: u64,
    changed: f64,
    unchanged: f64,
}

async fn full(variants: u64, locations: u64) -> Peaks {
    let shape = Shape {
        variants: variants / divisor(),
        locations,
        skus_per_product: 2,
        tiktok_in_step: false,
    };
    let products = shape.variants.div_ceil(shape.skus_per_product);
    let dir = tempfile::tempdir().unwrap();
    let fixture = dir.path().join("fixture.json");
    std::fs::write(&fixture, world::fixture(&shape)).unwrap();
    let sandbox = SandboxProcess::start(&fixture, TIKTOK_RPS, None, &[]);
    // What a merchant gets: `auto` exports in bulk above the adapter's threshold (250 variants).
    let read_mode = "auto";
    let config = sandbox.config(dir.path(), adapter_rps(), read_mode, "");
    println!(
        "full sync: {} variants x {} locations -> {products} TikTok products of {} SKUs; TikTok limit {TIKTOK_RPS} req/s, tiktok.requests_per_second = {} (the adapter paces at {:.0}% of it), Shopify bucket 2000 points restoring 100/s; read mode {read_mode} (bulk above 250 variants)",
        shape.variants,
        shape.locations,
        shape.skus_per_product,
        adapter_rps(),
        stockbridge_adapters_tiktok::PACING_SHARE * 100.0
    );
    let first = one_sync(&sandbox, &config).await;
    // The bound: every TikTok call the sync needs (shop lookup skipped: the cipher is set;
    // warehouses, catalog pages, one write per changed product) at the limit. Shopify's
    // bulk export is not bucket-limited and runs while TikTok's catalog is read.
    let needed = 1 + products.div_ceil(SEARCH_PAGE) + first.writes;
    let bound = needed as f64 / f64::from(TIKTOK_RPS);
    println!("  first sync (everything changes):");
    report(&first);
    println!(
        "    lower bound {bound:.2} s ({needed} TikTok calls at {TIKTOK_RPS}/s: 1 warehouses + {} catalog pages + {} writes); wall / bound = {:.3} (target <= 1.15)",
        products.div_ceil(SEARCH_PAGE),
        first.writes,
        first.wall / bound
    );
    assert_eq!(first.failed, 0, "no write failed");
    assert_eq!(first.writes, products, "one write per product");

    let second = one_sync(&sandbox, &config).await;
    println!("  second sync (nothing changed):");
    report(&second);
    assert_eq!(second.writes, 0, "nothing changed, nothing written");
    assert_eq!(second.updated, 0);
    Peaks {
        variants: shape.variants,
        changed: first.peak_mb,
        unchanged: second.peak_mb,
    }
}

fn report(m: &Measured) {
    let share = |part: u64, all: u64| 100.0 * part as f64 / all.max(1) as f64;
    println!(
        "    wall {:.2} s; lines updated {}, failed {}; TikTok requests {} of which throttled {} ({:.2}%, target < 1%); writes {}",
        m.wall,
        m.updated,
        m.failed,
        m.tiktok_requests,
        m.tiktok_throttled,
        share(m.tiktok_throttled, m.tiktok_requests),
        m.writes
    );
    println!(
        "    Shopify requests {} of which throttled {}; CPU {:.2} s (user+system of the sync process); its peak memory (VmHWM) {:.1} MB",
        m.shopify_requests, m.shopify_throttled, m.cpu, m.peak_mb
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wants = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!("machine: {}", world::machine());
    println!("run: {}", world::provenance());
    let mut peaks = Vec::new();
    if wants("full") {
        peaks.push(runtime.block_on(full(20_000, 5)));
    }
    if wants("full-100k") {
        peaks.push(runtime.block_on(full(100_000, 3)));
    }
    if !peaks.is_empty() {
        println!("peak memory of the sync process (VmHWM), side by side:");
        for p in &peaks {
            println!(
                "  {:>7} variants: {:6.1} MB everything changed, {:6.1} MB nothing changed ({:.2} KB per variant)",
                p.variants,
                p.changed,
                p.unchanged,
                p.changed * 1024.0 / p.variants.max(1) as f64
            );
        }
    }
    if wants("realtime") {
        runtime.block_on(realtime::run(
            divisor(),
            TIKTOK_RPS,
            realtime::Plan::Standard,
            realtime::Load::standard(),
        ));
    }
    if wants("realtime-plus") {
        runtime.block_on(realtime::run(
            divisor(),
            TIKTOK_RPS,
            realtime::Plan::Plus,
            realtime::Load::standard(),
        ));
    }
    if wants("realtime-300") {
        runtime.block_on(realtime::run(
            divisor(),
            HEAVY_TIKTOK_RPS,
            realtime::Plan::Standard,
            realtime::Load::heavy(),
        ));
    }
}
