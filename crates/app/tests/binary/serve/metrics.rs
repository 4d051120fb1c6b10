//! `/metrics`: writes by outcome and the reconciliation's duration.

use super::*;

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
