//! `stockbridge serve` as an operator runs it, against `stockbridge sandbox` in another
//! process: webhooks delivered over HTTP, TikTok read back through the control API.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

/// A `stockbridge serve` process, killed when dropped.
struct ServeProcess {
    child: Child,
    url: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl ServeProcess {
    fn start(config: &Path) -> ServeProcess {
        let child = bin()
            .args(["serve", "--config", config.to_str().unwrap()])
            .envs(SECRETS)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let toml = std::fs::read_to_string(config).unwrap();
        let listen = toml
            .lines()
            .find_map(|l| l.strip_prefix("listen = "))
            .unwrap()
            .trim_matches('"')
            .to_owned();
        let server = ServeProcess {
            child,
            url: format!("http://{listen}"),
        };
        let ready = wait_for(Duration::from_secs(30), || {
            reqwest::blocking::get(format!("{}/healthz", server.url))
                .is_ok_and(|r| r.status().is_success())
        });
        assert!(ready, "serve became healthy (start-up reconcile done)");
        server
    }

    fn metrics(&self) -> String {
        reqwest::blocking::get(format!("{}/metrics", self.url))
            .unwrap()
            .text()
            .unwrap()
    }

    fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

struct World {
    _dir: tempfile::TempDir,
    sandbox: SandboxProcess,
    config: std::path::PathBuf,
}

fn world(rules: &str) -> World {
    world_with_window("150ms", rules)
}

/// A world whose serve coalesces changes for `window`.
fn world_with_window(window: &str, rules: &str) -> World {
    world_from(SEED, window, rules)
}

/// A world whose sandbox starts from `fixture`.
fn world_from(fixture: &str, window: &str, rules: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let fix = write(dir.path(), "fixture.json", fixture);
    let hook = format!("http://127.0.0.1:{port}/webhooks/shopify");
    let sandbox = SandboxProcess::start(&fix, &["--webhook-url", &hook]);
    let server = format!("[server]\nlisten = \"127.0.0.1:{port}\"\nreconcile_every = \"1h\"\ncoalesce_window = \"{window}\"\n{rules}");
    let config = sandbox.config(dir.path(), &server);
    World {
        _dir: dir,
        sandbox,
        config,
    }
}

fn set_level(sandbox: &SandboxProcess, item: u64, location: u64, available: i64) {
    sandbox.control(
        "POST",
        "/_sandbox/shopify/inventory_levels",
        Some(json!({"inventory_item_id": item, "location_id": location, "available": available})),
    );
}

fn inventory_update_calls(sandbox: &SandboxProcess) -> u64 {
    sandbox.control("GET", "/_sandbox/stats", None)["inventory_updates"]["calls"]
        .as_u64()
        .unwrap()
}

#[test]
fn start_up_reconcile_then_a_stock_change_reaches_tiktok_within_2_seconds() {
    let w = world("[rules]\nquantity_percent = 80\n");
    let _serve = ServeProcess::start(&w.config);
    assert_eq!(
        w.sandbox.tiktok_quantity("90011", "7001"),
        Some(240),
        "start-up reconcile"
    );
    set_level(&w.sandbox, 1001, 1, 50);
    let arrived = wait_for(Duration::from_secs(2), || {
        w.sandbox.tiktok_quantity("90011", "7001") == Some(200)
    });
    assert!(
        arrived,
        "(50 + 200) at 80% = 200 reached TikTok; it holds {:?}",
        w.sandbox.tiktok_quantity("90011", "7001")
    );
}

#[test]
fn fifty_rapid_changes_end_at_the_last_value_with_far_fewer_writes() {
    let w = world("");
    let _serve = ServeProcess::start(&w.config);
    let before = inventory_update_calls(&w.sandbox);
    for available in 1..=50 {
        set_level(&w.sandbox, 1002, 1, available);
    }
    let arrived = wait_for(Duration::from_secs(10), || {
        w.sandbox.tiktok_quantity("90021", "7001") == Some(50)
    });
    assert!(
        arrived,
        "ends at the last value; holds {:?}",
        w.sandbox.tiktok_quantity("90021", "7001")
    );
    // Let any late webhook land, then count.
    std::thread::sleep(Duration::from_millis(500));
    let writes = inventory_update_calls(&w.sandbox) - before;
    assert!(writes <= 10, "{writes} writes for 50 changes");
    assert_eq!(
        w.sandbox.tiktok_quantity("90021", "7001"),
        Some(50),
        "no stale number after the last write"
    );
}

#[test]
fn forged_webhook_is_refused_and_changes_nothing() {
    let w = world("");
    let serve = ServeProcess::start(&w.config);
    let body = r#"{"inventory_item_id":1001,"location_id":1,"available":0}"#;
    let resp = reqwest::blocking::Client::new()
        .post(format!("{}/webhooks/shopify", serve.url))
        .header("X-Shopify-Topic", "inventory_levels/update")
        .header("X-Shopify-Hmac-Sha256", "bm90IGEgcmVhbCBzaWduYXR1cmU=")
        .header("X-Shopify-Shop-Domain", "stockbridge-demo.myshopify.com")
        .header("X-Shopify-Webhook-Id", "forged-1")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(serve
        .metrics()
        .contains("stockbridge_webhooks_rejected_total{reason=\"signature\"} 1"));
    assert_eq!(w.sandbox.tiktok_quantity("90011", "7001"), Some(300));
    let audit_calls = inventory_update_calls(&w.sandbox);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        inventory_update_calls(&w.sandbox),
        audit_calls,
        "no write followed"
    );
}

#[test]
fn deactivating_a_location_and_switching_tracking_off_both_update_tiktok() {
    let w = world("");
    let _serve = ServeProcess::start(&w.config);
    assert_eq!(w.sandbox.tiktok_quantity("90011", "7001"), Some(300));
    w.sandbox.control(
        "POST",
        "/_sandbox/shopify/locations/2",
        Some(json!({"active": false})),
    );
    assert!(
        wait_for(Duration::from_secs(10), || w
            .sandbox
            .tiktok_quantity("90011", "7001")
            == Some(100)),
        "Location B's 200 no longer counts; holds {:?}",
        w.sandbox.tiktok_quantity("90011", "7001")
    );
    w.sandbox.control(
        "POST",
        "/_sandbox/shopify/inventory_items/1002",
        Some(json!({"tracked": false})),
    );
    assert!(
        wait_for(Duration::from_secs(10), || w
            .sandbox
            .tiktok_quantity("90021", "7001")
            == Some(999_999)),
        "untracked pushes 999999; holds {:?}",
        w.sandbox.tiktok_quantity("90021", "7001")
    );
}

#[test]
fn after_kill_9_a_change_made_while_down_is_caught_up_at_restart() {
    let w = world("");
    let mut serve = ServeProcess::start(&w.config);
    assert_eq!(w.sandbox.tiktok_quantity("90011", "7001"), Some(300));
    serve.kill_hard();
    set_level(&w.sandbox, 1001, 2, 20);
    let _restarted = ServeProcess::start(&w.config);
    assert!(
        wait_for(Duration::from_secs(10), || w
            .sandbox
            .tiktok_quantity("90011", "7001")
            == Some(120)),
        "100 + 20 after restart; holds {:?}",
        w.sandbox.tiktok_quantity("90011", "7001")
    );
}

/// Sends `signal` (`TERM`, `INT`) to serve and waits up to 20 s for its exit code.
#[cfg(unix)]
fn stop_with(serve: &mut ServeProcess, signal: &str) -> Option<i32> {
    let pid = serve.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = serve.child.try_wait().unwrap() {
            return status.code();
        }
        assert!(
            Instant::now() < deadline,
            "serve did not stop after SIG{signal}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[test]
fn sigterm_stops_cleanly_with_exit_0() {
    let w = world("");
    let mut serve = ServeProcess::start(&w.config);
    assert_eq!(stop_with(&mut serve, "TERM"), Some(0));
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_cleanly_with_exit_0_after_writing_a_change_received_just_before() {
    // A long coalescing window: the change is still waiting in it when SIGINT arrives.
    let w = world_with_window("2s", "");
    let mut serve = ServeProcess::start(&w.config);
    assert_eq!(w.sandbox.tiktok_quantity("90011", "7001"), Some(300));
    let writes_before = inventory_update_calls(&w.sandbox);
    set_level(&w.sandbox, 1001, 1, 40);
    let received = wait_for(Duration::from_secs(10), || {
        serve
            .metrics()
            .contains("stockbridge_webhooks_received_total 1\n")
    });
    assert!(received, "serve received the webhook");
    assert_eq!(
        inventory_update_calls(&w.sandbox),
        writes_before,
        "nothing written yet: the change waits in the window"
    );
    assert_eq!(stop_with(&mut serve, "INT"), Some(0));
    assert_eq!(
        w.sandbox.tiktok_quantity("90011", "7001"),
        Some(240),
        "40 + 200 was written before serve exited"
    );
}

#[test]
fn metrics_count_writes_by_outcome_and_time_the_reconciliation() {
    // TikTok refuses every write to the frozen MUG-BLUE product (9002).
    let mut fixture: serde_json::Value = serde_json::from_str(SEED).unwrap();
    let products = fixture["tiktok"]["products"].as_array_mut().unwrap();
    let mug = products.iter_mut().find(|p| p["id"] == "9002").unwrap();
    mug["status"] = json!("FREEZE");
    let w = world_from(&fixture.to_string(), "150ms", "");
    // Every Shopify answer takes 100 ms: the start-up reconciliation takes at least that.
    w.sandbox.control(
        "POST",
        "/_sandbox/faults",
        Some(json!({"shopify": {"latency_ms": 100}})),
    );
    let serve = ServeProcess::start(&w.config);
    let metrics = serve.metrics();
    let sample = |name: &str| metric(&metrics, name);
    assert_eq!(
        sample("stockbridge_writes_total{outcome=\"updated\"}"),
        3.0,
        "TEE-RED-S, EBOOK-GUIDE and CANDLE-PREORDER were updated at start-up:\n{metrics}"
    );
    assert_eq!(
        sample("stockbridge_writes_total{outcome=\"failed\"}"),
        1.0,
        "the frozen MUG-BLUE's write was refused:\n{metrics}"
    );
    assert_eq!(w.sandbox.tiktok_quantity("90011", "7001"), Some(300));
    assert_eq!(w.sandbox.tiktok_quantity("90021", "7001"), Some(12));
    let seconds = sample("stockbridge_reconcile_duration_seconds");
    assert!(
        (0.1..60.0).contains(&seconds),
        "the reconciliation's duration, {seconds} s, covers the slow reads:\n{metrics}"
    );
    assert_eq!(sample("stockbridge_reconciles_total{outcome=\"ok\"}"), 1.0);
}

/// The value of the sample `name` (with its labels) in Prometheus text.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
}

fn signed(body: &str) -> String {
    use base64::Engine as _;
    use hmac::{Mac, SimpleHmac};
    let mut mac = <SimpleHmac<sha2::Sha256>>::new_from_slice(b"sandbox_webhook_secret").unwrap();
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn deliver(serve: &ServeProcess, body: &str, hmac: &str, shop: &str, id: &str) -> u16 {
    reqwest::blocking::Client::new()
        .post(format!("{}/webhooks/shopify", serve.url))
        .header("X-Shopify-Topic", "inventory_levels/update")
        .header("X-Shopify-Hmac-Sha256", hmac)
        .header("X-Shopify-Shop-Domain", shop)
        .header("X-Shopify-Webhook-Id", id)
        .header("X-Shopify-Event-Id", format!("event-{id}"))
        .body(body.to_owned())
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn webhook_endpoint_refuses_other_shops_oversized_and_unreadable_bodies_and_skips_duplicates() {
    let w = world("");
    let serve = ServeProcess::start(&w.config);
    let shop = "stockbridge-demo.myshopify.com";
    let body = r#"{"inventory_item_id":1001,"location_id":1,"available":7}"#;
    assert_eq!(
        deliver(&serve, body, &signed(body), "other-shop.myshopify.com", "a"),
        403
    );
    let huge = "x".repeat(2 * 1024 * 1024);
    assert_eq!(deliver(&serve, &huge, &signed(&huge), shop, "b"), 413);
    let garbage = "{not json";
    assert_eq!(deliver(&serve, garbage, &signed(garbage), shop, "c"), 400);
    assert_eq!(deliver(&serve, body, &signed(body), shop, "d"), 200);
    assert_eq!(
        deliver(&serve, body, &signed(body), shop, "d"),
        200,
        "a duplicate is acknowledged"
    );
    let metrics = serve.metrics();
    for expected in [
        "stockbridge_webhooks_received_total 5\n",
        "stockbridge_webhooks_rejected_total{reason=\"shop\"} 1",
        "stockbridge_webhooks_rejected_total{reason=\"too_large\"} 1",
        "stockbridge_webhooks_rejected_total{reason=\"malformed\"} 1",
        "stockbridge_webhooks_duplicate_total 1",
    ] {
        assert!(
            metrics.contains(expected),
            "{expected} missing from:\n{metrics}"
        );
    }
}

#[test]
fn serve_without_a_webhook_secret_exits_2_naming_the_variable() {
    let w = world("");
    let without_secret: Vec<(&str, &str)> = SECRETS
        .iter()
        .copied()
        .filter(|(k, _)| !k.ends_with("WEBHOOK_SECRET"))
        .collect();
    let run = run(
        &["serve", "--config", w.config.to_str().unwrap()],
        &without_secret,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("STOCKBRIDGE__SHOPIFY__WEBHOOK_SECRET"),
        "{}",
        run.stderr
    );
}
