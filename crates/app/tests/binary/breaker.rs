//! The mass-drop breaker (sync-rules.md §9) through the binary: `sync` holds the zeroing
//! writes of a location gone inactive and exits 3, `--accept-drops` lets them through, and
//! `serve` keeps them held, says so on `/healthz` and `/metrics`, and goes on with real-time
//! updates.

use std::time::Duration;

use serde_json::{json, Value};

use crate::binary::support::*;

/// 24 SKUs stocked only at Main (10 each, TikTok holds 10) and 2 only at Annex (7 each,
/// TikTok holds 3). With Main inactive, 24 of the 26 lines above 0 go to 0.
pub(crate) fn drop_fixture(main_active: bool) -> String {
    let mut variants = Vec::new();
    let mut products = Vec::new();
    for n in 0..24 {
        variants.push(
            json!({"id": 200 + n, "product_id": 20 + n, "sku": format!("Z-{n}"),
            "inventory_item_id": 2000 + n, "levels": [{"location_id": 1, "available": 10}]}),
        );
        products.push(json!({"id": format!("8{n:02}"), "skus": [{"id": format!("8{n:02}1"),
            "seller_sku": format!("Z-{n}"), "inventory": [{"warehouse_id": "7001", "quantity": 10}]}]}));
    }
    for n in 0..2 {
        variants.push(
            json!({"id": 300 + n, "product_id": 60 + n, "sku": format!("U-{n}"),
            "inventory_item_id": 3000 + n, "levels": [{"location_id": 2, "available": 7}]}),
        );
        products.push(json!({"id": format!("95{n}"), "skus": [{"id": format!("95{n}1"),
            "seller_sku": format!("U-{n}"), "inventory": [{"warehouse_id": "7001", "quantity": 3}]}]}));
    }
    json!({
        "shopify": {
            "locations": [{"id": 1, "name": "Main", "active": main_active},
                          {"id": 2, "name": "Annex", "active": true}],
            "variants": variants,
        },
        "tiktok": {
            "warehouses": [{"id": "7001", "name": "α", "is_default": true}],
            "products": products,
        }
    })
    .to_string()
}

fn sync(dir: &std::path::Path, fixture: &str, rules: &str, extra: &[&str]) -> (Run, Value) {
    let cfg = write(dir, "stockbridge.toml", rules);
    let fix = write(dir, "fixture.json", fixture);
    let out = dir.join("state-out.json");
    let mut args = vec![
        "sync",
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "json",
        "--sandbox",
        fix.to_str().unwrap(),
        "--sandbox-state-out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = run(&args, &[]);
    let state = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    (run, state)
}

#[test]
fn a_sync_that_would_zero_24_of_26_lines_writes_the_increases_holds_the_zeros_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let (run, state) = sync(dir.path(), &drop_fixture(false), "", &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("held 24 writes to 0") && run.stderr.contains("--accept-drops"),
        "{}",
        run.stderr
    );
    let report = run.json();
    let summary = &report["summary"];
    assert_eq!(summary["zeroed"], 24, "{summary}");
    assert_eq!(summary["held_by_breaker"], 24, "{summary}");
    assert_eq!(summary["updated"], 2, "{summary}");
    assert_eq!(
        (summary["up"].as_u64(), summary["down"].as_u64()),
        (Some(2), Some(24))
    );
    assert_eq!(
        (
            summary["units_before"].as_u64(),
            summary["units_after"].as_u64()
        ),
        (Some(24 * 10 + 2 * 3), Some(2 * 7))
    );
    let held = report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["status"] == "held")
        .count();
    assert_eq!(held, 24);
    assert_eq!(quantity_in_state(&state, "8001", "7001"), Some(10), "held");
    assert_eq!(
        quantity_in_state(&state, "9501", "7001"),
        Some(7),
        "written"
    );
}

#[test]
fn sync_with_accept_drops_sends_the_zeros_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let (run, state) = sync(dir.path(), &drop_fixture(false), "", &["--accept-drops"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = &run.json()["summary"];
    assert_eq!(summary["updated"], 26, "{summary}");
    assert!(summary.get("held_by_breaker").is_none(), "{summary}");
    assert_eq!(quantity_in_state(&state, "8231", "7001"), Some(0));
}

#[test]
fn a_rule_at_0_percent_trips_and_safety_disabled_or_a_higher_share_lets_it_through() {
    let dir = tempfile::tempdir().unwrap();
    let zero = "[rules]\nquantity_percent = 0\n";
    let (tripped, _) = sync(dir.path(), &drop_fixture(true), zero, &[]);
    assert_eq!(tripped.code, 3, "{}", tripped.stderr);
    assert_eq!(tripped.json()["summary"]["held_by_breaker"], 26);
    for safety in [
        "[safety]\nenabled = false\n",
        "[safety]\nmax_zeroed_percent = 100\n",
        "[safety]\nmin_lines = 27\n",
    ] {
        let (run, state) = sync(
            dir.path(),
            &drop_fixture(true),
            &format!("{zero}{safety}"),
            &[],
        );
        assert_eq!(run.code, 0, "{safety}: {}", run.stderr);
        assert_eq!(
            quantity_in_state(&state, "8001", "7001"),
            Some(0),
            "{safety}"
        );
    }
}

#[test]
fn serve_holds_the_zeros_of_a_deactivated_location_reports_it_and_sync_accept_drops_sends_them() {
    let dir = tempfile::tempdir().unwrap();
    let port = unused_port();
    let fix = write(dir.path(), "fixture.json", &drop_fixture(true));
    let hook = format!("http://127.0.0.1:{port}/webhooks/shopify");
    let sandbox = SandboxProcess::start(&fix, &["--webhook-url", &hook]);
    let server = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\nreconcile_every = \"1h\"\ncoalesce_window = \"50ms\"\n"
    );
    let config = sandbox.config(dir.path(), &server);
    let mut serve = ServeLogged::spawn_healthy(&config, port, &[]);
    assert_eq!(sandbox.tiktok_quantity("9501", "7001"), Some(7), "start-up");
    let health = || {
        reqwest::blocking::get(format!("{}/healthz", serve.url))
            .and_then(|r| r.json::<Value>())
            .unwrap_or(Value::Null)
    };
    assert_eq!(health()["status"], "ok");

    sandbox.control(
        "POST",
        "/_sandbox/shopify/locations/1",
        Some(json!({"active": false})),
    );
    assert!(
        poll_until(Duration::from_secs(10), || health()["status"] == "degraded"),
        "the reconciliation after the deactivation trips: {}",
        health()
    );
    let problem = health()["problem"].as_str().unwrap_or_default().to_owned();
    assert!(problem.contains("held 24 writes to 0"), "{problem}");
    assert!(serve.metrics().contains("stockbridge_breaker_tripped 1"));
    assert_eq!(sandbox.tiktok_quantity("8001", "7001"), Some(10), "held");

    // Real-time updates go on, and a single change to 0 is never held.
    sandbox.control(
        "POST",
        "/_sandbox/shopify/inventory_levels",
        Some(json!({"inventory_item_id": 3000, "location_id": 2, "available": 0})),
    );
    assert!(
        poll_until(Duration::from_secs(10), || sandbox
            .tiktok_quantity("9501", "7001")
            == Some(0)),
        "a real-time change to 0 went through"
    );

    let approved = run(
        &[
            "sync",
            "--config",
            config.to_str().unwrap(),
            "--accept-drops",
        ],
        &SECRETS,
    );
    assert_eq!(approved.code, 0, "{}", approved.stderr);
    assert_eq!(sandbox.tiktok_quantity("8001", "7001"), Some(0));
    assert!(
        poll_until(Duration::from_secs(5), || health()["status"] == "ok"),
        "/healthz is ok once the held writes went out: {}",
        health()
    );
    assert!(serve.metrics().contains("stockbridge_breaker_tripped 0"));
    serve.signal("TERM");
    serve.wait_exit(Duration::from_secs(20));
    let (_, logs) = serve.output();
    assert!(
        logs.contains("the mass-drop breaker held 24 writes to 0"),
        "a log line says so: {logs}"
    );
}
