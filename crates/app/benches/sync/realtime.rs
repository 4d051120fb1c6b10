//! Real time: stock changes at a steady rate through `serve` (in this process, on port 0)
//! while the sandbox adds 20 ms to every Shopify and TikTok answer. Each change sets a number
//! no earlier change of the item set (see [`Numbers`]), so TikTok holding this change's number
//! or a later change's number for the item means the change arrived; TikTok is polled through
//! the control API every 10 ms, which bounds the measurement's resolution.
//! `STOCKBRIDGE_BENCH_DECREASES=N` makes N percent of the changes lower the item's number
//! (0 by default: every change raises it), and the lags are reported for each kind.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use stockbridge_app::serve::{pipeline_options, Application};
use stockbridge_app::wiring::wire;
use stockbridge_app::Settings;
use tokio::net::TcpListener;

use crate::world::{self, SandboxProcess, Shape};

const POLL: Duration = Duration::from_millis(10);

/// What TikTok holds per seller SKU.
fn holdings(state: &Value) -> HashMap<String, i64> {
    let mut out = HashMap::new();
    for product in state["tiktok"]["products"].as_array().into_iter().flatten() {
        for sku in product["skus"].as_array().into_iter().flatten() {
            let quantity = sku["inventory"][0]["quantity"].as_i64().unwrap_or(-1);
            if let Some(name) = sku["seller_sku"].as_str() {
                out.insert(name.to_owned(), quantity);
            }
        }
    }
    out
}

/// A small deterministic generator (xorshift), so runs are comparable.
struct Draw(u64);

impl Draw {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// The numbers a stream of changes sets, each unique within its item: a rise sets
/// `100_000 + 100 k` for the k-th change (larger than anything before), a fall sets 1 to 5
/// below the item's number while that stays above the item's previous rise (or at least 0
/// before any rise); a fall that cannot is made a rise.
#[derive(Default)]
struct Numbers {
    /// Per item: its number and the floor its falls must stay above.
    items: HashMap<u64, (i64, i64)>,
}

impl Numbers {
    /// The number change `k` sets for `item`, and whether it lowers the item's number.
    fn next(&mut self, item: u64, k: u64, lower: bool, draw: &mut Draw) -> (i64, bool) {
        let (current, floor) = self
            .items
            .entry(item)
            .or_insert_with(|| (world::available(item, 1), -1));
        if lower {
            let fall = 1 + draw.next(5) as i64;
            if *current - fall > *floor {
                *current -= fall;
                return (*current, true);
            }
        }
        let rise = 100_000 + 100 * k as i64;
        (*current, *floor) = (rise, rise - 100);
        (rise, false)
    }
}

/// One change sent: its SKU, its number, when it was made and whether it lowered the number.
struct Sent {
    sku: String,
    number: i64,
    at: Instant,
    lowers: bool,
}

/// A positive number from the environment variable `name`, if it holds one.
fn env_number(name: &str) -> Option<u64> {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&n| n > 0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The Shopify plan the sandbox's cost bucket imitates.
#[derive(Debug, Clone, Copy)]
pub enum Plan {
    /// 100 points/s restored, a 2,000-point bucket (the sandbox's defaults).
    Standard,
    /// 1,000 points/s restored; the bucket size is not published, 10,000 assumed.
    Plus,
}

/// The stream of changes: over how many items, how many, how fast.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub items: u64,
    pub changes: u64,
    pub per_second: u64,
}

impl Load {
    /// 1,000 changes over 500 items, at 100 per second unless `STOCKBRIDGE_BENCH_RATE` says
    /// otherwise (a lower rate shows what a smaller Shopify plan sustains).
    pub fn standard() -> Load {
        let per_second = env_number("STOCKBRIDGE_BENCH_RATE").unwrap_or(100);
        Load {
            items: 500,
            changes: 1_000,
            per_second,
        }
    }

    /// 3,000 changes over 5,000 items at 300 per second.
    pub fn heavy() -> Load {
        Load {
            items: 5_000,
            changes: 3_000,
            per_second: 300,
        }
    }
}

pub async fn run(divisor: u64, tiktok_rps: u32, plan: Plan, load: Load) {
    // The shipped default unless STOCKBRIDGE_BENCH_COALESCE says otherwise (e.g. "150ms").
    let window = std::env::var("STOCKBRIDGE_BENCH_COALESCE").unwrap_or_else(|_| "300ms".into());
    let items = load.items / divisor;
    let changes = load.changes / divisor;
    let per_second = load.per_second;
    // The percentage of changes that lower the item's number (none unless
    // STOCKBRIDGE_BENCH_DECREASES says otherwise).
    let decreases = std::env::var("STOCKBRIDGE_BENCH_DECREASES")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(0, |n| n.min(100));
    let shape = Shape {
        variants: items,
        locations: 1,
        skus_per_product: 1,
        tiktok_in_step: true,
    };
    let dir = tempfile::tempdir().unwrap();
    let fixture = dir.path().join("fixture.json");
    std::fs::write(&fixture, world::fixture(&shape)).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hook = format!("http://{addr}/webhooks/shopify");
    let bucket: &[&str] = match plan {
        Plan::Standard => &[],
        Plan::Plus => &[
            "--shopify-restore-rate",
            "1000",
            "--shopify-bucket",
            "10000",
        ],
    };
    let sandbox = SandboxProcess::start(&fixture, tiktok_rps, Some(&hook), bucket);
    // The writer's concurrency: the shipped default (8 per 200 requests per second of
    // TikTok's limit) unless STOCKBRIDGE_BENCH_CONCURRENCY says otherwise.
    let concurrency = env_number("STOCKBRIDGE_BENCH_CONCURRENCY")
        .map(|n| format!("concurrency = {n}\n"))
        .unwrap_or_default();
    // The state file's directory (the bench's temporary directory unless
    // STOCKBRIDGE_BENCH_STATE_DIR names another, e.g. a memory file system to take the
    // disk's flushes out of the figures).
    let state_dir = std::env::var_os("STOCKBRIDGE_BENCH_STATE_DIR")
        .map(|d| tempfile::tempdir_in(d).expect("a directory for the state file"));
    let config = sandbox.config_with(
        dir.path(),
        state_dir.as_ref().map_or(dir.path(), |d| d.path()),
        &format!("requests_per_second = {tiktok_rps}\n{concurrency}"),
        // Only the start-up reconciliation reads everything; bulk keeps it short.
        "bulk",
        &format!("[server]\nreconcile_every = \"1h\"\ncoalesce_window = \"{window}\"\n"),
    );
    let settings = Settings::load_with_env(&config, Some(world::secrets())).unwrap();
    let wired = wire(&settings, None).await.unwrap();
    let options = pipeline_options(&settings);
    println!(
        "real time, Shopify {plan:?} plan: {changes} changes at {per_second}/s over {items} items ({decreases}% drawn to lower the number) through serve (in this process); 20 ms added to every Shopify and TikTok answer; coalescing window {:?}; writer concurrency (tiktok.concurrency) {}; TikTok {tiktok_rps} req/s; state file {}",
        options.coalesce_window,
        options.writer.concurrency,
        if state_dir.is_some() { "in STOCKBRIDGE_BENCH_STATE_DIR" } else { "in the bench's temporary directory" }
    );
    let app = Application::build(&settings, &wired, listener, options).unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stop_rx.await;
    }));
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "serve became healthy");
        tokio::time::sleep(POLL).await;
    }
    sandbox
        .control(
            "POST",
            "/_sandbox/faults",
            Some(json!({"shopify": {"latency_ms": 20}, "tiktok": {"latency_ms": 20}})),
        )
        .await;
    sandbox
        .control("POST", "/_sandbox/stats/reset", Some(json!({})))
        .await;

    let cpu_before = world::cpu_seconds();
    // Each change, sent from one task at a steady pace.
    let (sent_tx, mut sent_rx) = tokio::sync::mpsc::unbounded_channel::<Sent>();
    let base_url = sandbox.base_url.clone();
    let driver = tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut draw = Draw(0x9E37_79B9_7F4A_7C15);
        let mut numbers = Numbers::default();
        let start = tokio::time::Instant::now();
        for k in 0..changes {
            tokio::time::sleep_until(start + Duration::from_millis(k * 1000 / per_second)).await;
            let i = 1 + draw.next(items);
            let lower = decreases > 0 && draw.next(100) < decreases;
            let (number, lowers) = numbers.next(i, k, lower, &mut draw);
            let at = Instant::now();
            let resp = client
                .post(format!("{base_url}/_sandbox/shopify/inventory_levels"))
                .json(&json!({"inventory_item_id": 2_000_000 + i, "location_id": 1, "available": number}))
                .send()
                .await
                .expect("control API answers");
            assert!(resp.status().is_success());
            let _ = sent_tx.send(Sent {
                sku: format!("SKU-{i}"),
                number,
                at,
                lowers,
            });
        }
    });

    // The numbers sent per SKU, in order; a waiting change is its SKU and its position there.
    let mut sequences: HashMap<String, Vec<i64>> = HashMap::new();
    let mut waiting: Vec<(Sent, usize)> = Vec::new();
    // Lags of the changes that raised the number, and of those that lowered it.
    let (mut rises, mut falls): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut driver_done = false;
    let deadline = Instant::now() + Duration::from_secs(changes / per_second + 60);
    loop {
        while let Ok(change) = sent_rx.try_recv() {
            let sequence = sequences.entry(change.sku.clone()).or_default();
            sequence.push(change.number);
            waiting.push((change, sequence.len() - 1));
        }
        if !waiting.is_empty() {
            let state = sandbox.control("GET", "/_sandbox/state", None).await;
            let seen = Instant::now();
            let held = holdings(&state);
            waiting.retain(|(change, position)| {
                // Numbers are unique within an item: holding this one or a later one is
                // holding what this change set or what replaced it.
                let arrived = held
                    .get(&change.sku)
                    .is_some_and(|q| sequences[&change.sku][*position..].contains(q));
                if arrived {
                    let lag = seen.duration_since(change.at).as_secs_f64();
                    if change.lowers {
                        &mut falls
                    } else {
                        &mut rises
                    }
                    .push(lag);
                }
                !arrived
            });
        }
        driver_done = driver_done || driver.is_finished();
        if driver_done && waiting.is_empty() && sent_rx.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} changes never reached TikTok",
            waiting.len()
        );
        tokio::time::sleep(POLL).await;
    }
    let cpu = world::cpu_seconds() - cpu_before;
    let stats = sandbox.control("GET", "/_sandbox/stats", None).await;
    let metrics = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let _ = stop_tx.send(());
    let _ = server.await;

    let mut lags: Vec<f64> = rises.iter().chain(&falls).copied().collect();
    for l in [&mut lags, &mut rises, &mut falls] {
        l.sort_by(f64::total_cmp);
    }
    let writes = stats["inventory_updates"]["calls"].as_u64().unwrap_or(0);
    let throttled: u64 = stats["tiktok"]
        .as_object()
        .into_iter()
        .flat_map(|e| e.values())
        .filter_map(|k| k["rate_limited"].as_u64())
        .sum();
    println!(
        "    change -> TikTok holds it: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms over {} changes (resolution {} ms)",
        percentile(&lags, 50.0) * 1000.0,
        percentile(&lags, 90.0) * 1000.0,
        percentile(&lags, 99.0) * 1000.0,
        percentile(&lags, 100.0) * 1000.0,
        lags.len(),
        POLL.as_millis()
    );
    if decreases > 0 {
        for (kind, lags) in [("decreases", &falls), ("increases", &rises)] {
            println!(
                "      {kind}: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms over {} changes",
                percentile(lags, 50.0) * 1000.0,
                percentile(lags, 90.0) * 1000.0,
                percentile(lags, 99.0) * 1000.0,
                percentile(lags, 100.0) * 1000.0,
                lags.len()
            );
        }
    }
    println!(
        "    TikTok writes {writes} = {:.3} per change; TikTok throttled answers {throttled}; webhooks {}",
        writes as f64 / changes.max(1) as f64,
        stats["webhooks"]
    );
    let points = stats["shopify_cost_points"].as_u64().unwrap_or(0);
    let shopify = &stats["shopify"]["graphql"];
    println!(
        "    Shopify cost points spent {points} = {:.2} per change; GraphQL answers {shopify}",
        points as f64 / changes.max(1) as f64
    );
    let payload_lines: Vec<&str> = metrics
        .lines()
        .filter(|l| {
            l.starts_with("stockbridge_level_payloads_total")
                || l.starts_with("stockbridge_payload_mismatch_total")
        })
        .collect();
    if !payload_lines.is_empty() {
        println!("    serve's payload counts: {}", payload_lines.join("; "));
    }
    let lag_lines: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("stockbridge_sync_lag_seconds"))
        .collect();
    println!("    serve's own lag histogram: {}", lag_lines.join("; "));
    println!(
        "    CPU of this process during the stream {cpu:.2} s (serve, the change driver and the poller together)"
    );
}
