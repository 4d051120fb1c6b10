//! The chaos suite: a stream of stock changes flows through `stockbridge serve` while the
//! sandbox fails and throttles TikTok writes, throttles Shopify reads, jitters both, and
//! duplicates and reorders webhooks. After the storm one reconciliation must leave TikTok
//! exactly at the plan, every write TikTok answered must be in the audit log with its
//! outcome (applied, or failed once every retry failed), and nothing may have panicked,
//! neither serve nor the sandbox.
//!
//! Among the webhooks: pairs of changes to one item within one second (equal `updated_at`,
//! often reordered), old payloads delivered again (stale `updated_at`) and payloads with a
//! null `available`. Whatever order they arrive in, no number older than one already pushed
//! for an item may reach TikTok: each item's pushed numbers follow its Shopify history.
//!
//! Small by default (CI); `STOCKBRIDGE_CHAOS_SCALE=10` makes it ten times larger.

mod audit_log;
mod history;
mod served;
mod shutdown;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::binary::support::*;
use audit_log::{applied_writes_in_audit, count};
use history::History;
use served::Served;

fn scale() -> u64 {
    std::env::var("STOCKBRIDGE_CHAOS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1)
}

/// `items` variants stocked at two locations, and TikTok products of two SKUs each, stocked
/// (at 0) in two warehouses.
fn chaos_fixture(items: u64) -> String {
    let variants: Vec<Value> = (1..=items)
        .map(|i| {
            json!({"id": 100 + i, "product_id": 10 + i, "sku": format!("CH-{i}"),
                   "inventory_item_id": 5000 + i,
                   "levels": [{"location_id": 1, "available": i % 17}, {"location_id": 2, "available": 3}]})
        })
        .collect();
    let products: Vec<Value> = (1..=items.div_ceil(2))
        .map(|p| {
            let skus: Vec<Value> = [2 * p - 1, 2 * p]
                .into_iter()
                .filter(|&i| i <= items)
                .map(|i| {
                    json!({"id": format!("{}", 80_000 + i), "seller_sku": format!("CH-{i}"),
                           "inventory": [{"warehouse_id": "7001", "quantity": 0},
                                         {"warehouse_id": "7002", "quantity": 0}]})
                })
                .collect();
            json!({"id": format!("{}", 9_000 + p), "skus": skus})
        })
        .collect();
    json!({
        "shopify": {"locations": [{"id": 1, "name": "Location A"}, {"id": 2, "name": "Location B"}],
                    "variants": variants},
        "tiktok": {"warehouses": [{"id": "7001", "name": "α", "is_default": true},
                                  {"id": "7002", "name": "β"}],
                   "products": products},
    })
    .to_string()
}

#[test]
fn after_a_storm_of_faults_one_reconcile_leaves_tiktok_at_the_plan_with_every_write_audited() {
    let scale = scale();
    let items = 60 * scale;
    let changes = 200 * scale;
    let dir = tempfile::tempdir().unwrap();
    let port = unused_port();
    let listen = format!("127.0.0.1:{port}");
    let fixture = write(dir.path(), "fixture.json", &chaos_fixture(items));
    let hook = format!("http://{listen}/webhooks/shopify");
    let sandbox = SandboxProcess::start_logged(
        &fixture,
        &["--webhook-url", &hook, "--tiktok-rps", "100"],
        dir.path().join("sandbox.stderr"),
    );
    let server = format!(
        "[server]\nlisten = \"{listen}\"\nreconcile_every = \"1h\"\ncoalesce_window = \"50ms\"\n"
    );
    let config = sandbox.config(dir.path(), &server);
    if scale > 1 {
        // Paged reads are bound by Shopify's cost bucket (about 9 variants a second): a
        // larger run reads by bulk export, or each reconciliation takes minutes.
        let toml = std::fs::read_to_string(&config).unwrap();
        std::fs::write(
            &config,
            toml.replace("read_mode = \"paged\"", "read_mode = \"bulk\""),
        )
        .unwrap();
    }
    let state = dir.path().join("state.db");
    let mut serve = Served::start(&config, &listen, dir.path().join("serve.stderr"));

    sandbox.control(
        "POST",
        "/_sandbox/faults",
        Some(json!({
            "seed": 20_240_601,
            "shopify": {"latency_ms": 2, "jitter_ms": 25, "throttle_rate": 0.1},
            "tiktok": {"latency_ms": 2, "jitter_ms": 25, "error_rate": 0.2, "throttle_rate": 0.1,
                       "endpoints": ["inventory_update"]},
            "webhooks": {"duplicate_rate": 0.3, "reorder_rate": 0.3},
        })),
    );
    // The stream: 100 changes per second, at either location of an item.
    let mut history = History::new(items);
    let mut payloads: Vec<Value> = Vec::new();
    let started = Instant::now();
    for k in 0..changes {
        let due = started + Duration::from_millis(10 * k);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let item = 5001 + (k * 7919) % items;
        let location = 1 + k % 2;
        let available = ((k * 31) % 120) as i64 - 10;
        payloads.push(history.set(&sandbox, item, location, available));
        if k % 5 == 0 {
            // A second change within the same second: two payloads of equal `updated_at`.
            payloads.push(history.set(&sandbox, item, location, available + 7));
        }
        if k % 10 == 5 {
            // An old payload again (a stale `updated_at`), and one whose `available` is null,
            // each as a new delivery, signed as Shopify signs them.
            let old = &payloads[payloads.len().saturating_sub(40)];
            deliver(&serve, old, &format!("stale-{k}"));
            let mut null = payloads.last().cloned().unwrap_or(Value::Null);
            null["available"] = Value::Null;
            deliver(&serve, &null, &format!("null-{k}"));
        }
    }
    let delivered = poll_until(Duration::from_secs(60), || {
        let w = &sandbox.control("GET", "/_sandbox/stats", None)["webhooks"];
        let n = |k: &str| w[k].as_u64().unwrap_or(0);
        n("delivered") + n("failed") + n("dropped") >= n("events") + n("duplicates")
    });
    assert!(delivered, "every webhook delivery finished");

    // Let the storm's real-time backlog drain first, so the refused phase starts from a quiet
    // pipeline: no items queued and no write finishing for two seconds.
    let written = || {
        serve.metric("stockbridge_writes_total{outcome=\"updated\"}")
            + serve.metric("stockbridge_writes_total{outcome=\"failed\"}")
    };
    let quiet = poll_until(Duration::from_secs(120), || {
        let before = written();
        std::thread::sleep(Duration::from_secs(2));
        serve.metric("stockbridge_queue_depth") == 0 && written() == before
    });
    assert!(
        quiet,
        "the storm's backlog drained:\n{}",
        serve.stderr_text()
    );
    every_write_refused_for_a_while(&sandbox, &serve, &state, items, &mut history);

    // The storm is over: no more faults, one reconciliation.
    sandbox.control("POST", "/_sandbox/faults", Some(json!({})));
    let reconciled_before = serve.metric("stockbridge_reconciles_total{outcome=\"ok\"}");
    sandbox.control(
        "POST",
        "/_sandbox/shopify/locations/1",
        Some(json!({"active": true})),
    );
    let reconciled = poll_until(Duration::from_secs(120), || {
        serve.metric("stockbridge_reconciles_total{outcome=\"ok\"}") > reconciled_before
    });
    assert!(
        reconciled,
        "a reconciliation followed the location webhook:\n{}",
        serve.stderr_text()
    );

    let plan = run(
        &[
            "plan",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
        &SECRETS,
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let summary = &plan.json()["summary"];
    assert_eq!(summary["lines"], items, "one line per variant: {summary}");
    assert_eq!(
        summary["changed"], 0,
        "every TikTok SKU equals the plan: {summary}"
    );

    // Let the real-time backlog drain (re-reads are bucket-bound too) before stopping:
    // serve writes what it received before it exits.
    let drained = poll_until(Duration::from_secs(600), || {
        serve.metric("stockbridge_queue_depth") == 0
    });
    assert!(drained, "the real-time queue drained");
    let duplicates = serve.metric("stockbridge_webhooks_duplicate_total");
    assert_eq!(
        serve.stop(Duration::from_secs(60)),
        Some(0),
        "{}",
        serve.stderr_text()
    );

    // The storm really happened.
    let stats = sandbox.control("GET", "/_sandbox/stats", None);
    let kind = |api: &str, endpoint: &str, k: &str| stats[api][endpoint][k].as_u64().unwrap_or(0);
    // Each kind alone can come out at zero in a small run; together they cannot.
    let injected = kind("tiktok", "inventory_update", "error")
        + kind("tiktok", "inventory_update", "rate_limited")
        + kind("shopify", "graphql", "throttled");
    assert!(injected >= 3, "faults were injected: {stats}");
    assert!(
        stats["webhooks"]["duplicates"].as_u64().unwrap() > 0,
        "{stats}"
    );
    assert!(duplicates > 0, "serve skipped duplicated deliveries");

    eprintln!(
        "chaos: {items} items, {changes} changes; TikTok writes {}; Shopify {}; webhooks {}; audit rows {}",
        stats["tiktok"]["inventory_update"],
        stats["shopify"]["graphql"],
        stats["webhooks"],
        count(&state, "SELECT COUNT(*) FROM audit_log"),
    );

    // No number older than one already pushed for an item ever reached TikTok.
    history.check_pushed_in_order(&state);

    // Every write TikTok applied is in the audit log with outcome `applied`, once.
    let at_tiktok: BTreeMap<String, u64> =
        serde_json::from_value(stats["inventory_updates"]["per_sku"].clone()).unwrap();
    let in_audit = applied_writes_in_audit(&state);
    assert!(!at_tiktok.is_empty());
    assert_eq!(
        in_audit, at_tiktok,
        "applied writes per SKU: audit log (left) against TikTok (right)"
    );
    let skus: BTreeSet<&String> = at_tiktok.keys().collect();
    assert!(skus.len() as u64 <= items);
    assert_eq!(
        count(
            &state,
            "SELECT COUNT(*) FROM runs WHERE outcome = 'running'"
        ),
        0,
        "every run was finished"
    );

    // Every product write TikTok answered `ok` is in the audit log once; every one that
    // failed every retry has its `failed` rows, and each such write met a fault.
    let writes = |outcomes: &str| {
        count(
            &state,
            &format!("SELECT COUNT(DISTINCT product_id || '@' || at) FROM audit_log WHERE outcome IN ({outcomes})"),
        ) as u64
    };
    let answered = |k: &str| kind("tiktok", "inventory_update", k);
    assert_eq!(
        writes("'applied', 'rejected'"),
        answered("ok"),
        "product writes answered `ok`: audit log (left) against TikTok (right): {stats}"
    );
    let failed = writes("'failed'");
    assert!(failed >= 3, "the refused writes are audited as failed");
    assert!(
        failed <= answered("error") + answered("rate_limited"),
        "{failed} writes audited as failed, more than TikTok's fault answers: {stats}"
    );
    assert_eq!(
        count(
            &state,
            "SELECT COUNT(*) FROM audit_log WHERE outcome = 'rejected'"
        ) == 0,
        stats["inventory_updates"]["sku_failures"] == 0,
        "SKUs TikTok refused inside an `ok` answer are audited as rejected: {stats}"
    );

    let stderr = serve.stderr_text();
    assert!(!stderr.contains("panicked"), "serve panicked:\n{stderr}");
    let stderr = sandbox.stderr_text();
    assert!(
        !stderr.contains("panicked"),
        "the sandbox panicked:\n{stderr}"
    );
}

/// Delivers `payload` to serve as an `inventory_levels/update` of the sandbox's shop, signed
/// with the sandbox's secret, under a webhook id of its own (so it is not a duplicate).
fn deliver(serve: &Served, payload: &Value, webhook_id: &str) {
    let body = payload.to_string();
    let answer = reqwest::blocking::Client::new()
        .post(format!("{}/webhooks/shopify", serve.url))
        .header("X-Shopify-Topic", "inventory_levels/update")
        .header("X-Shopify-Hmac-Sha256", sandbox_webhook_signature(&body))
        .header("X-Shopify-Shop-Domain", "stockbridge-demo.myshopify.com")
        .header("X-Shopify-Webhook-Id", webhook_id)
        .body(body)
        .send()
        .expect("serve answers");
    assert_eq!(answer.status().as_u16(), 200, "{webhook_id}");
}

/// Milliseconds since the epoch, as the audit log stores times.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// TikTok refuses every write while three items change: each of their writes fails every
/// retry, and each must reach the audit log as `failed`.
/// (The real-time queue may still hold the storm's backlog: the wait is long.)
fn every_write_refused_for_a_while(
    sandbox: &SandboxProcess,
    serve: &Served,
    state: &Path,
    items: u64,
    history: &mut History,
) {
    sandbox.control(
        "POST",
        "/_sandbox/faults",
        Some(json!({"tiktok": {"error_rate": 1.0, "endpoints": ["inventory_update"]}})),
    );
    let since = now_ms();
    let changed: Vec<u64> = (1..=3).map(|i| i * items / 3).collect();
    for (n, &i) in changed.iter().enumerate() {
        history.set(sandbox, 5000 + i, 1, 500 + n as i64);
    }
    let failed_skus = || {
        count(
            state,
            &format!(
                "SELECT COUNT(DISTINCT sku_id) FROM audit_log WHERE outcome = 'failed' AND at >= {since} \
                 AND sku_id IN ({})",
                changed
                    .iter()
                    .map(|i| format!("'{}'", 80_000 + i))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    };
    // A refused write is retried by the adapter and by the writer before it is recorded as
    // failed: about a minute per flush on a loaded machine.
    let audited = poll_until(Duration::from_secs(300), || failed_skus() == 3);
    if !audited {
        let log = serve.stderr_text();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        panic!(
            "each change's write failed every retry and is audited as failed ({} of 3); serve's last lines, newest first:\n{}",
            failed_skus(),
            tail.join("\n")
        );
    }
}
