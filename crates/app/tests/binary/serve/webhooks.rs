//! What the webhook endpoint refuses, and serve without a webhook secret.

use super::*;
use crate::binary::support::sandbox_webhook_signature as signed;

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
