//! TikTok orders in flight (sync-rules.md §7) through the binary, against `stockbridge
//! sandbox` in another process: sold units are never given back to TikTok while Shopify does
//! not know the order, and are given back when TikTok cancels it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hmac::{Mac, SimpleHmac};
use serde_json::{json, Value};

use crate::binary::support::*;

/// One T-shirt at Location A (10 units), sold on TikTok in α.
const SHOP: &str = r#"{
  "shopify": {
    "locations": [{"id": 1, "name": "Location A"}],
    "variants": [{"id": 101, "product_id": 10, "sku": "TEE", "inventory_item_id": 1001,
                  "levels": [{"location_id": 1, "available": 10}]}]
  },
  "tiktok": {
    "warehouses": [{"id": "7001", "name": "α", "is_default": true}],
    "products": [{"id": "9001", "skus": [{"id": "90011", "seller_sku": "TEE",
                  "inventory": [{"warehouse_id": "7001", "quantity": 10}]}]}]
  }
}"#;

struct World {
    dir: tempfile::TempDir,
    sandbox: SandboxProcess,
    config: PathBuf,
    port: u16,
}

/// The sandbox delivers Shopify webhooks, and TikTok's order webhooks when `tiktok_hooks`,
/// to a serve listening on `port`.
fn world(tiktok_hooks: bool) -> World {
    let dir = tempfile::tempdir().unwrap();
    let port = unused_port();
    let fixture = write(dir.path(), "fixture.json", SHOP);
    let shopify = format!("http://127.0.0.1:{port}/webhooks/shopify");
    let tiktok = format!("http://127.0.0.1:{port}/webhooks/tiktok");
    let mut args = vec!["--webhook-url", shopify.as_str()];
    if tiktok_hooks {
        args.extend(["--tiktok-webhook-url", tiktok.as_str()]);
    }
    let sandbox = SandboxProcess::start(&fixture, &args);
    let server = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\nreconcile_every = \"1h\"\ncoalesce_window = \"100ms\"\n"
    );
    let config = sandbox.config(dir.path(), &server);
    World {
        dir,
        sandbox,
        config,
        port,
    }
}

impl World {
    fn tiktok(&self) -> Option<i64> {
        self.sandbox.tiktok_quantity("90011", "7001")
    }

    fn wait_for(&self, quantity: i64, what: &str) {
        let arrived = poll_until(Duration::from_secs(10), || self.tiktok() == Some(quantity));
        assert!(
            arrived,
            "{what}: TikTok holds {:?}, not {quantity}",
            self.tiktok()
        );
    }

    fn stats(&self) -> Value {
        self.sandbox.control("GET", "/_sandbox/stats", None)
    }

    fn order_searches(&self) -> u64 {
        self.stats()["tiktok"]["order_search"]["ok"]
            .as_u64()
            .unwrap_or(0)
    }

    /// A buyer orders `quantity` on TikTok; returns the order id once serve has read it.
    fn tiktok_order(&self, quantity: u64) -> String {
        let searches = self.order_searches();
        let placed = self.sandbox.control(
            "POST",
            "/_sandbox/tiktok/orders",
            Some(json!({"lines": [{"sku_id": "90011", "quantity": quantity}]})),
        );
        // The webhook makes serve search for the order's lines.
        let read = poll_until(Duration::from_secs(10), || self.order_searches() > searches);
        assert!(read, "serve read the order its webhook named");
        placed["order"]["id"].as_str().unwrap().to_owned()
    }

    fn shopify_sale(&self, available: i64) {
        self.sandbox.control(
            "POST",
            "/_sandbox/shopify/inventory_levels",
            Some(json!({"inventory_item_id": 1001, "location_id": 1, "available": available})),
        );
    }

    fn audit_numbers(&self) -> Vec<i64> {
        let audit = run(
            &[
                "audit",
                "--config",
                self.config.to_str().unwrap(),
                "--sku",
                "90011",
                "--format",
                "json",
            ],
            &SECRETS,
        );
        assert_eq!(audit.code, 0, "{}", audit.stderr);
        let mut numbers: Vec<i64> = audit.json()["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["new"].as_i64().unwrap())
            .collect();
        numbers.reverse();
        numbers
    }
}

fn tiktok_signature(body: &str) -> String {
    let mut mac = <SimpleHmac<sha2::Sha256>>::new_from_slice(b"sandbox_app_secret").unwrap();
    mac.update(b"sandbox_app_key");
    mac.update(body.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_shopify_sale_before_the_copy_arrives_does_not_give_sold_units_back_and_the_copy_ends_the_hold()
{
    let w = world(true);
    let _serve = ServeLogged::spawn_healthy(&w.config, w.port, &[]);
    assert_eq!(w.tiktok(), Some(10), "start-up reconcile");

    let order = w.tiktok_order(3);
    assert_eq!(w.tiktok(), Some(7), "TikTok took the 3 units at once");
    w.shopify_sale(9);
    w.wait_for(6, "Shopify 9 - held 3");
    assert_eq!(w.stats()["oversold"], 0);

    // The order-sync app copies the order: Shopify 9 -> 6, and the hold ends.
    w.sandbox.control(
        "POST",
        "/_sandbox/shopify/orders",
        Some(json!({"tiktok_order_id": order, "marker": "tag",
                    "lines": [{"variant_id": 101, "quantity": 3, "location_id": 1}]})),
    );
    w.shopify_sale(5);
    w.wait_for(5, "Shopify 5 with nothing held");
    // One more TikTok order of everything TikTok offers is fully covered by Shopify.
    w.tiktok_order(5);
    assert_eq!(w.stats()["oversold"], 0, "nothing sold twice");
    let numbers = w.audit_numbers();
    assert_eq!(numbers.last(), Some(&5));
    assert!(
        numbers.iter().all(|&n| n <= 7),
        "after the order no number offered its 3 units again: {numbers:?}"
    );
}

/// How long serve's first webhook naming an unknown order waits for others (the engine's
/// `WEBHOOK_BATCH_WINDOW`).
const BATCH_WINDOW: Duration = Duration::from_millis(250);

#[test]
fn a_burst_of_order_webhooks_is_read_by_a_bounded_number_of_searches_and_metrics_show_the_holds() {
    let w = world(true);
    let serve = ServeLogged::spawn_healthy(&w.config, w.port, &[]);
    let metric = |series: &str| -> Option<u64> {
        serve
            .metrics()
            .lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    };
    assert_eq!(metric("stockbridge_held_orders"), Some(0));
    let before = w.order_searches();

    // Ten buyers order one T-shirt each at the same moment: ten webhooks in a burst.
    let started = Instant::now();
    let ids: Vec<String> = std::thread::scope(|s| {
        let buyers: Vec<_> = (0..10)
            .map(|_| {
                s.spawn(|| {
                    w.sandbox.control(
                        "POST",
                        "/_sandbox/tiktok/orders",
                        Some(json!({"lines": [{"sku_id": "90011", "quantity": 1}]})),
                    )["order"]["id"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
            })
            .collect();
        buyers.into_iter().map(|b| b.join().unwrap()).collect()
    });
    let placing = started.elapsed();
    let all_held = poll_until(Duration::from_secs(10), || {
        metric("stockbridge_held_orders") == Some(10)
    });
    assert!(all_held, "serve read every order: {}", serve.metrics());
    assert_eq!(metric("stockbridge_held_units"), Some(10));

    // One search per window the burst spans (and one more for a window cut in two), not one
    // per webhook.
    let searches = w.order_searches() - before;
    let windows = u64::try_from(placing.as_millis() / BATCH_WINDOW.as_millis()).unwrap() + 2;
    assert!(
        searches >= 1 && searches <= windows,
        "10 webhooks placed within {placing:?} made {searches} order searches; at most {windows} allowed"
    );
    assert_eq!(
        metric("stockbridge_hold_tiktok_order_searches_total{cause=\"webhook\"}"),
        Some(searches)
    );
    assert_eq!(w.stats()["oversold"], 0);

    // The copy of one order ends its hold; the gauges follow.
    w.sandbox.control(
        "POST",
        "/_sandbox/shopify/orders",
        Some(json!({"tiktok_order_id": ids[0], "marker": "tag",
                    "lines": [{"variant_id": 101, "quantity": 1, "location_id": 1}]})),
    );
    let ended = poll_until(Duration::from_secs(10), || {
        metric("stockbridge_held_orders") == Some(9)
    });
    assert!(ended, "the copy ended one hold: {}", serve.metrics());
    assert_eq!(metric("stockbridge_held_units"), Some(9));
}

#[test]
fn a_cancelled_order_gives_its_units_back_and_a_forged_tiktok_webhook_is_refused() {
    let w = world(true);
    let _serve = ServeLogged::spawn_healthy(&w.config, w.port, &[]);
    let order = w.tiktok_order(4);
    w.shopify_sale(9);
    w.wait_for(5, "Shopify 9 - held 4");

    let body = json!({"type": 1, "tts_notification_id": "7000000000000000001", "shop_id": "1",
        "timestamp": 1, "data": {"order_id": order, "order_status": "CANCELLED", "update_time": 4_000_000_000i64}})
    .to_string();
    let client = reqwest::blocking::Client::new();
    let post = |signature: &str, body: &str| {
        let answer = client
            .post(format!("http://127.0.0.1:{}/webhooks/tiktok", w.port))
            .header("Authorization", signature)
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .unwrap();
        (answer.status().as_u16(), answer.text().unwrap())
    };
    assert_eq!(post(&"0".repeat(64), &body).0, 401, "a forged signature");
    assert_eq!(post("", &body).0, 401, "no signature");
    let mut tampered = tiktok_signature(&body);
    let first = if tampered.starts_with('0') { "1" } else { "0" };
    tampered.replace_range(0..1, first);
    assert_eq!(post(&tampered, &body).0, 401, "a tampered signature");
    // A genuine notification of another type is taken once; its redelivery is a duplicate.
    let deauthorized =
        json!({"type": 6, "tts_notification_id": "7000000000000000002", "shop_id": "1", "timestamp": 1, "data": {}})
            .to_string();
    let signed = tiktok_signature(&deauthorized);
    assert_eq!(post(&signed, &deauthorized), (200, "ignored\n".to_owned()));
    assert_eq!(
        post(&signed, &deauthorized),
        (200, "duplicate\n".to_owned())
    );
    w.shopify_sale(8);
    w.wait_for(
        4,
        "the forged cancellation changed nothing: Shopify 8 - held 4",
    );

    w.sandbox.control(
        "POST",
        &format!("/_sandbox/tiktok/orders/{order}/status"),
        Some(json!({"status": "CANCELLED"})),
    );
    w.wait_for(8, "TikTok gave the 4 units back");
    w.shopify_sale(7);
    w.wait_for(7, "nothing held any more: Shopify 7");
    assert_eq!(w.stats()["oversold"], 0);
}

#[test]
fn a_lost_order_webhook_is_caught_by_the_next_reconciliation_and_the_plan_names_the_order() {
    let w = world(false);
    let placed = w.sandbox.control(
        "POST",
        "/_sandbox/tiktok/orders",
        Some(json!({"lines": [{"sku_id": "90011", "quantity": 3}]})),
    );
    let order = placed["order"]["id"].as_str().unwrap();
    w.shopify_sale(9);

    let config = w.config.to_str().unwrap();
    let plan = run(&["plan", "--config", config, "--format", "json"], &SECRETS);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let line = plan.json()["lines"][0].clone();
    assert_eq!(line["quantity"], 6);
    assert_eq!(line["held"], 3);
    assert_eq!(line["held_orders"], json!([order]));
    assert_eq!(
        line["explanation"],
        format!("Location A 9 - held 3 (TikTok order {order}) = 6")
    );
    let table = run(&["plan", "--config", config], &SECRETS);
    assert!(
        table
            .stdout
            .contains(&format!("TEE in α: 3 held by TikTok orders {order}")),
        "{}",
        table.stdout
    );

    let sync = run(&["sync", "--config", config, "--format", "json"], &SECRETS);
    assert_eq!(sync.code, 0, "{}", sync.stderr);
    assert_eq!(w.tiktok(), Some(6));
    assert_eq!(w.stats()["oversold"], 0);
    let _ = &w.dir;
}

#[test]
fn a_token_without_read_orders_is_a_configuration_error_unless_orders_are_off() {
    let dir = tempfile::tempdir().unwrap();
    let mut fixture: Value = serde_json::from_str(SHOP).unwrap();
    fixture["credentials"] =
        json!({"scopes": ["read_products", "read_inventory", "read_locations"]});
    let fixture = write(dir.path(), "fixture.json", &fixture.to_string());
    let fixture = fixture.to_str().unwrap();
    let on = write(dir.path(), "on.toml", "[rules]\n");
    let sync = run(
        &[
            "sync",
            "--config",
            on.to_str().unwrap(),
            "--sandbox",
            fixture,
        ],
        &[],
    );
    assert_eq!(sync.code, 2, "{}", sync.stderr);
    assert!(sync.stderr.contains("read_orders"), "{}", sync.stderr);
    assert!(
        sync.stderr.contains("[orders] enabled = false"),
        "{}",
        sync.stderr
    );

    let check = run(
        &[
            "check",
            "--config",
            on.to_str().unwrap(),
            "--sandbox",
            fixture,
        ],
        &[],
    );
    assert_eq!(check.code, 2, "{}", check.stdout);
    assert!(
        check.stdout.contains("orders: FAILED") && check.stdout.contains("read_orders"),
        "{}",
        check.stdout
    );

    let off = write(dir.path(), "off.toml", "[orders]\nenabled = false\n");
    let sync = run(
        &[
            "sync",
            "--config",
            off.to_str().unwrap(),
            "--sandbox",
            fixture,
        ],
        &[],
    );
    assert_eq!(sync.code, 0, "{}", sync.stderr);
}

#[test]
fn bad_orders_settings_name_the_key_and_what_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    for (toml, key, allowed) in [
        (
            "[orders]\nmatch_fields = [\"email\"]\n",
            "orders.match_fields",
            "source_identifier, tag, custom_attribute, note",
        ),
        (
            "[orders]\nmatch_fields = []\n",
            "orders.match_fields",
            "a non-empty list",
        ),
        (
            "[orders]\nmax_hold = \"10s\"\n",
            "orders.max_hold",
            "from 1m to 30d",
        ),
        ("[orders]\nhold = true\n", "hold", "unknown"),
    ] {
        let config = write(dir.path(), "bad.toml", toml);
        let plan = run(
            &[
                "plan",
                "--config",
                config.to_str().unwrap(),
                "--sandbox",
                "/nonexistent",
            ],
            &[],
        );
        assert_eq!(plan.code, 2, "{toml}: {}", plan.stderr);
        assert!(
            plan.stderr.contains(key) && plan.stderr.contains(allowed),
            "{toml}: {}",
            plan.stderr
        );
    }
}
