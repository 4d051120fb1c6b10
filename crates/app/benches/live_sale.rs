//! The LIVE-sale benchmark of BENCHMARKS.md (issue 12; a smaller version by default): `serve`
//! runs against a `stockbridge sandbox` process while buyers order on TikTok at 5 per second,
//! each order is copied into Shopify by a simulated order-sync app 20 to 90 seconds later
//! (scaled), and Shopify sells one unit per second on its own. Run once with `[orders]` on and
//! once off; report the units TikTok sold that Shopify could not fulfil (the sandbox's
//! `oversold`), the orders TikTok refused for want of stock, and the reads the hold costs per
//! reconciliation.
//!
//! Stock is scarce on purpose: each SKU starts with about half the units its orders and sales
//! ask for over the run, so every SKU sells out while orders are still waiting for their copy.
//! With the hold off, each reconciliation and each Shopify change gives those sold units back
//! to TikTok and TikTok sells them again; the bench asserts that the hold-off run oversells
//! (so the comparison can fail) and that the hold-on run does not.
//!
//! `cargo bench -p stockbridge-app --bench live_sale` plays the full size (orders for
//! 120 s). `STOCKBRIDGE_BENCH_LIVE_SECONDS` sets how long orders are placed,
//! `STOCKBRIDGE_BENCH_LIVE_COPY_SCALE` scales the copy delays (default 1.0: 20 to 90 s) and
//! `STOCKBRIDGE_BENCH_LIVE_STOCK` the units per SKU at the start (default: half of what the
//! run's orders and sales ask per SKU, rounded up).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const SKUS: u64 = 50;
const ORDERS_PER_SECOND: u64 = 5;
const SALES_PER_SECOND: u64 = 1;
const RECONCILE_EVERY: &str = "10s";
/// What the Shopify adapter reserves for one page of 100 orders (2 + 100 x 1 points).
const SHOPIFY_ORDERS_PAGE_POINTS: u64 = 102;

fn env_number<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator, so both runs see the same orders and sales.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

fn fixture(stock: i64) -> String {
    let variants: Vec<Value> = (1..=SKUS)
        .map(|i| {
            json!({"id": 1000 + i, "product_id": 100 + i, "sku": format!("SKU-{i}"),
                   "inventory_item_id": 5000 + i,
                   "levels": [{"location_id": 1, "available": stock}]})
        })
        .collect();
    let products: Vec<Value> = (1..=SKUS)
        .map(|i| {
            json!({"id": format!("{}", 90_000 + i), "skus": [{"id": format!("{}", 900_000 + i),
                   "seller_sku": format!("SKU-{i}"),
                   "inventory": [{"warehouse_id": "7001", "quantity": stock}]}]})
        })
        .collect();
    json!({"shopify": {"locations": [{"id": 1, "name": "Shop"}], "variants": variants},
           "tiktok": {"warehouses": [{"id": "7001", "name": "Main", "is_default": true}],
                      "products": products}})
    .to_string()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stockbridge"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Outcome {
    placed: u64,
    refused: u64,
    oversold: u64,
    reconciles: u64,
    /// TikTok order-search requests the sandbox answered.
    order_searches: u64,
    /// Shopify GraphQL requests the sandbox answered.
    shopify_requests: u64,
    /// What serve's `/metrics` counted at the end (0 when it shows nothing of the kind).
    metrics: Figures,
    /// The most units held at once, sampled from `/metrics` every second.
    peak_held_units: u64,
}

/// The hold's figures from serve's `/metrics`.
#[derive(Default, Clone, Copy)]
struct Figures {
    searches_refresh: u64,
    searches_webhook: u64,
    shopify_reads: u64,
    held_units: u64,
}

fn metric(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

fn figures(client: &reqwest::blocking::Client, port: u16) -> Figures {
    let text = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .and_then(|r| r.text())
        .unwrap_or_default();
    Figures {
        searches_refresh: metric(
            &text,
            "stockbridge_hold_tiktok_order_searches_total{cause=\"refresh\"}",
        ),
        searches_webhook: metric(
            &text,
            "stockbridge_hold_tiktok_order_searches_total{cause=\"webhook\"}",
        ),
        shopify_reads: metric(&text, "stockbridge_hold_shopify_order_reads_total"),
        held_units: metric(&text, "stockbridge_held_units"),
    }
}

fn control(client: &reqwest::blocking::Client, base: &str, path: &str, body: Value) -> u16 {
    client
        .post(format!("{base}/_sandbox/{path}"))
        .json(&body)
        .send()
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

fn run(hold: bool, seconds: u64, copy_scale: f64, stock: i64) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let fixture_path = dir.path().join("fixture.json");
    std::fs::write(&fixture_path, fixture(stock)).unwrap();
    let port = free_port();
    let mut sandbox = bin()
        .args([
            "sandbox",
            "--fixture",
            fixture_path.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args([
            "--webhook-url",
            &format!("http://127.0.0.1:{port}/webhooks/shopify"),
        ])
        .args([
            "--tiktok-webhook-url",
            &format!("http://127.0.0.1:{port}/webhooks/tiktok"),
        ])
        .args(["--tiktok-rps", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(sandbox.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("the sandbox prints its URL").unwrap();
        if let Some(url) = line.strip_prefix("TikTok Shop API:") {
            break url.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let _sandbox = Killed(sandbox);
    let config = dir.path().join("stockbridge.toml");
    std::fs::write(
        &config,
        format!(
            "[shopify]\nshop_domain = \"stockbridge-demo.myshopify.com\"\nbase_url = \"{base}\"\nread_mode = \"paged\"\n\
             [tiktok]\napp_key = \"sandbox_app_key\"\nbase_url = \"{base}\"\nauth_base_url = \"{base}\"\nshop_cipher = \"SANDBOX_SHOP_CIPHER\"\nrequests_per_second = 100\n\
             [state]\nurl = \"sqlite://{}\"\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\nreconcile_every = \"{RECONCILE_EVERY}\"\ncoalesce_window = \"300ms\"\n\
             [orders]\nenabled = {hold}\n",
            dir.path().join("state.db").display()
        ),
    )
    .unwrap();
    let secrets = [
        (
            "STOCKBRIDGE__SHOPIFY__ACCESS_TOKEN",
            "shpat_sandbox_demo_token",
        ),
        (
            "STOCKBRIDGE__SHOPIFY__WEBHOOK_SECRET",
            "sandbox_webhook_secret",
        ),
        ("STOCKBRIDGE__TIKTOK__APP_SECRET", "sandbox_app_secret"),
        ("STOCKBRIDGE__TIKTOK__ACCESS_TOKEN", "sandbox_access_token"),
    ];
    let serve = Killed(
        bin()
            .args(["serve", "--config", config.to_str().unwrap()])
            .envs(secrets)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = reqwest::blocking::Client::new();
    let healthy = |deadline: Instant| loop {
        if client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        assert!(Instant::now() < deadline, "serve became healthy");
        std::thread::sleep(Duration::from_millis(50));
    };
    healthy(Instant::now() + Duration::from_secs(30));
    let _ = control(&client, &base, "stats/reset", json!(null));

    let mut rng = Lcg(42);
    let mut shopify: BTreeMap<u64, i64> = (1..=SKUS).map(|i| (i, stock)).collect();
    // (due, order id, SKU index)
    let mut copies: Vec<(Instant, String, u64)> = Vec::new();
    let (mut placed, mut refused) = (0, 0);
    let start = Instant::now();
    let order_every = Duration::from_millis(1000 / ORDERS_PER_SECOND);
    let mut next_order = start;
    let mut next_sale = start;
    let mut next_sample = start;
    let mut peak_held_units = 0;
    let stop_orders = start + Duration::from_secs(seconds);
    loop {
        let now = Instant::now();
        if now >= stop_orders && copies.is_empty() {
            break;
        }
        if now >= next_order && now < stop_orders {
            next_order += order_every;
            let i = 1 + rng.next(SKUS);
            let answer = client
                .post(format!("{base}/_sandbox/tiktok/orders"))
                .json(&json!({"lines": [{"sku_id": format!("{}", 900_000 + i), "quantity": 1}]}))
                .send()
                .unwrap();
            if answer.status().is_success() {
                placed += 1;
                let body: Value = answer.json().unwrap();
                let delay = (20.0 + rng.next(71) as f64) * copy_scale;
                copies.push((
                    now + Duration::from_secs_f64(delay),
                    body["order"]["id"].as_str().unwrap().to_owned(),
                    i,
                ));
            } else {
                refused += 1;
            }
        }
        if now >= next_sample {
            next_sample += Duration::from_secs(1);
            peak_held_units = peak_held_units.max(figures(&client, port).held_units);
        }
        if now >= next_sale && now < stop_orders {
            next_sale += Duration::from_millis(1000 / SALES_PER_SECOND);
            let i = 1 + rng.next(SKUS);
            let level = shopify.get_mut(&i).unwrap();
            if *level > 0 {
                *level -= 1;
                control(
                    &client,
                    &base,
                    "shopify/inventory_levels",
                    json!({"inventory_item_id": 5000 + i, "location_id": 1, "available": *level}),
                );
            }
        }
        copies.sort_by_key(|c| c.0);
        while copies.first().is_some_and(|c| c.0 <= now) {
            let (_, id, i) = copies.remove(0);
            *shopify.get_mut(&i).unwrap() -= 1;
            control(
                &client,
                &base,
                "shopify/orders",
                json!({"tiktok_order_id": id, "lines": [{"variant_id": 1000 + i, "quantity": 1, "location_id": 1}]}),
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let stats: Value = client
        .get(format!("{base}/_sandbox/stats"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let metrics = figures(&client, port);
    drop(serve);
    let runs = bin()
        .args([
            "runs",
            "--config",
            config.to_str().unwrap(),
            "--limit",
            "100000",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap_or(json!({"runs": []}));
    let reconciles = runs["runs"].as_array().map_or(0, |r| {
        r.iter().filter(|r| r["kind"] == "reconcile").count() as u64
    });
    let count = |emulator: &str, endpoint: &str| -> u64 {
        stats[emulator][endpoint]
            .as_object()
            .map_or(0, |kinds| kinds.values().filter_map(Value::as_u64).sum())
    };
    Outcome {
        placed,
        refused,
        oversold: stats["oversold"].as_u64().unwrap_or(0),
        reconciles,
        order_searches: count("tiktok", "order_search"),
        shopify_requests: count("shopify", "graphql"),
        metrics,
        peak_held_units,
    }
}

/// The machine and the moment, for the report: cores, load average, date and commit.
fn provenance() -> String {
    let run = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|| "unknown".to_owned())
    };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{} cores; load average at start {}; {} UTC, commit {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        run("date", &["-u", "+%Y-%m-%d %H:%M"]),
        run("git", &["describe", "--always", "--dirty", "--abbrev=12"])
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("live_sale: bench");
        return;
    }
    let seconds = env_number("STOCKBRIDGE_BENCH_LIVE_SECONDS", 120u64);
    let copy_scale = env_number("STOCKBRIDGE_BENCH_LIVE_COPY_SCALE", 1.0f64);
    // What one SKU is asked for over the run, orders and Shopify sales; half of it in stock.
    let asked = (ORDERS_PER_SECOND + SALES_PER_SECOND) * seconds;
    let stock = env_number(
        "STOCKBRIDGE_BENCH_LIVE_STOCK",
        i64::try_from(asked.div_ceil(2 * SKUS))
            .unwrap_or(i64::MAX)
            .max(1),
    );
    println!("run: {}", provenance());
    println!(
        "LIVE sale: {SKUS} SKUs of {stock} units, {ORDERS_PER_SECOND} TikTok orders/s and {SALES_PER_SECOND} Shopify sale/s for {seconds} s ({:.1} units asked per SKU), copies {:.0}-{:.0} s later, reconcile every {RECONCILE_EVERY}",
        asked as f64 / SKUS as f64,
        20.0 * copy_scale,
        90.0 * copy_scale
    );
    let mut rows = Vec::new();
    for hold in [true, false] {
        let o = run(hold, seconds, copy_scale, stock);
        println!(
            "hold {:3}: {} orders placed, {} refused (out of stock on TikTok), oversold {} units; {} reconciliations; sandbox: {} TikTok order-search requests, {} Shopify GraphQL requests",
            if hold { "on" } else { "off" },
            o.placed, o.refused, o.oversold, o.reconciles, o.order_searches, o.shopify_requests
        );
        rows.push(o);
    }
    let (on, off) = (&rows[0], &rows[1]);
    let m = on.metrics;
    println!(
        "hold on, serve's /metrics: {} TikTok order-search requests at reconciliations and start-up, {} for order webhooks, {} Shopify orders requests; at most {} units held at once",
        m.searches_refresh, m.searches_webhook, m.shopify_reads, on.peak_held_units
    );
    if on.reconciles > 0 {
        let per = |n: u64| n as f64 / on.reconciles as f64;
        println!(
            "the hold's extra reads per reconciliation: {:.2} TikTok order searches + {:.2} for webhooks (1 request each of TikTok's per-second budget), {:.2} Shopify orders reads (each reserves {} points of Shopify's cost bucket before the refund to the actual cost); Shopify GraphQL requests on minus off: {:+.2} per reconciliation",
            per(m.searches_refresh),
            per(m.searches_webhook),
            per(m.shopify_reads),
            SHOPIFY_ORDERS_PAGE_POINTS,
            (on.shopify_requests as f64 - off.shopify_requests as f64) / on.reconciles as f64
        );
    }
    assert_eq!(
        on.oversold, 0,
        "with the hold on, TikTok sold {} units Shopify could not fulfil",
        on.oversold
    );
    assert!(
        off.oversold > 0,
        "with the hold off nothing was oversold: the scenario is not scarce enough to show what the hold prevents"
    );
}
