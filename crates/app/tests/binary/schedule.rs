//! `stockbridge serve`'s schedule, start-up checks and deduplication, through the binary
//! against `stockbridge sandbox` in another process.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use crate::binary::support::*;

const SHOP: &str = "stockbridge-demo.myshopify.com";

struct Setup {
    _dir: tempfile::TempDir,
    sandbox: SandboxProcess,
    config: PathBuf,
    port: u16,
}

/// The seed's store in a sandbox (sending its webhooks to serve when `webhooks`), and a
/// config for serve with these `[server]` keys and rules.
fn setup(webhooks: bool, server: &str, rules: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let port = unused_port();
    let listen = format!("127.0.0.1:{port}");
    let fixture = write(dir.path(), "fixture.json", SEED);
    let hook = format!("http://{listen}/webhooks/shopify");
    let extra: &[&str] = if webhooks {
        &["--webhook-url", &hook]
    } else {
        &[]
    };
    let sandbox = SandboxProcess::start(&fixture, extra);
    let config = sandbox.config(
        dir.path(),
        &format!("[server]\nlisten = \"{listen}\"\n{server}\n{rules}"),
    );
    Setup {
        _dir: dir,
        sandbox,
        config,
        port,
    }
}

fn set_level(sandbox: &SandboxProcess, item: u64, location: u64, available: i64) {
    sandbox.control(
        "POST",
        "/_sandbox/shopify/inventory_levels",
        Some(json!({"inventory_item_id": item, "location_id": location, "available": available})),
    );
}

fn stats(sandbox: &SandboxProcess) -> (u64, u64) {
    let stats: Value = sandbox.control("GET", "/_sandbox/stats", None);
    let graphql = stats["shopify"]["graphql"]["ok"].as_u64().unwrap_or(0);
    let writes = stats["inventory_updates"]["calls"].as_u64().unwrap_or(0);
    (graphql, writes)
}

#[test]
fn the_schedule_corrects_a_seller_center_hand_edit_while_webhooks_keep_coming() {
    let s = setup(
        true,
        "reconcile_every = \"1s\"\ncoalesce_window = \"100ms\"",
        "",
    );
    // Kept until the end: dropping it stops serve.
    let _serve = ServeLogged::spawn_healthy(&s.config, s.port, &[]);
    assert_eq!(s.sandbox.tiktok_quantity("90011", "7001"), Some(300));
    s.sandbox.control(
        "POST",
        "/_sandbox/tiktok/skus/90011",
        Some(json!({"warehouse_id": "7001", "quantity": 12})),
    );
    assert_eq!(s.sandbox.tiktok_quantity("90011", "7001"), Some(12));
    // Webhooks for another item arrive steadily while the schedule is due.
    let mut available = 0;
    let corrected = poll_until(Duration::from_secs(15), || {
        available += 1;
        set_level(&s.sandbox, 1002, 1, available);
        s.sandbox.tiktok_quantity("90011", "7001") == Some(300)
    });
    assert!(
        corrected,
        "a scheduled reconcile restored 300; TikTok holds {:?}",
        s.sandbox.tiktok_quantity("90011", "7001")
    );
}

#[test]
fn serve_exits_2_naming_the_warehouse_when_a_mapping_targets_one_tiktok_lacks() {
    let s = setup(
        true,
        "",
        "[[rules.location_mapping]]\nshopify_locations = \"all\"\ntiktok_warehouse = \"Nowhere\"\n",
    );
    let before = s.sandbox.tiktok_quantity("90011", "7001");
    let mut serve = ServeLogged::spawn(&s.config, s.port, &[]);
    let status = serve
        .wait_exit(Duration::from_secs(30))
        .expect("serve exits instead of serving a configuration that can never sync");
    let (_, stderr) = serve.output();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("tiktok_warehouse") && stderr.contains("\"Nowhere\""),
        "{stderr}"
    );
    assert_eq!(
        s.sandbox.tiktok_quantity("90011", "7001"),
        before,
        "nothing was pushed"
    );
}

/// Delivers a signed `inventory_levels/update`; the status and the answer's body.
fn deliver(serve: &ServeLogged, body: &str, webhook_id: &str, event_id: &str) -> (u16, String) {
    let resp = reqwest::blocking::Client::new()
        .post(format!("{}/webhooks/shopify", serve.url))
        .header("X-Shopify-Topic", "inventory_levels/update")
        .header("X-Shopify-Hmac-Sha256", sandbox_webhook_signature(body))
        .header("X-Shopify-Shop-Domain", SHOP)
        .header("X-Shopify-Webhook-Id", webhook_id)
        .header("X-Shopify-Event-Id", event_id)
        .body(body.to_owned())
        .send()
        .unwrap();
    (resp.status().as_u16(), resp.text().unwrap())
}

#[test]
fn a_redelivery_with_a_new_webhook_id_but_the_same_event_id_is_processed_once() {
    // The sandbox sends no webhook of its own: the two below are the only ones.
    let s = setup(false, "coalesce_window = \"100ms\"", "");
    let serve = ServeLogged::spawn_healthy(&s.config, s.port, &[]);
    set_level(&s.sandbox, 1001, 1, 7);
    let (reads_before, writes_before) = stats(&s.sandbox);
    let body = r#"{"inventory_item_id":1001,"location_id":1,"available":7}"#;
    assert_eq!(deliver(&serve, body, "w-1", "e-1").0, 200);
    assert!(
        poll_until(Duration::from_secs(10), || s
            .sandbox
            .tiktok_quantity("90011", "7001")
            == Some(207)),
        "7 + 200 reached TikTok; it holds {:?}",
        s.sandbox.tiktok_quantity("90011", "7001")
    );
    let (status, answer) = deliver(&serve, body, "w-2", "e-1");
    assert_eq!((status, answer.trim()), (200, "duplicate"));
    assert!(
        serve
            .metrics()
            .contains("stockbridge_webhooks_duplicate_total 1"),
        "{}",
        serve.metrics()
    );
    // Give a wrongly accepted duplicate several coalescing windows to show up.
    std::thread::sleep(Duration::from_millis(600));
    let (reads, writes) = stats(&s.sandbox);
    assert_eq!(reads - reads_before, 1, "one re-read from Shopify");
    assert_eq!(writes - writes_before, 1, "one write to TikTok");
}
