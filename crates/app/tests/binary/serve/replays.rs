//! One captured, signed body re-sent many times: Shopify signs the body only, so topic and
//! ids are the sender's to choose. A body that is not the topic's resource is refused, ids
//! past 128 bytes are refused, a delivery older than Shopify's retries is ignored, and the
//! processed-webhooks table grows by at most `webhook_ids_per_minute` deliveries a minute.

use super::*;
use crate::binary::support::sandbox_webhook_signature as signed;

const SHOP: &str = "stockbridge-demo.myshopify.com";
const PRODUCT: &str = r#"{"id":10,"title":"Tee","admin_graphql_api_id":"gid://shopify/Product/10","variants":[{"id":101,"inventory_item_id":1001}]}"#;
const LEVEL: &str = r#"{"inventory_item_id":1001,"location_id":1,"available":100,"admin_graphql_api_id":"gid://shopify/InventoryLevel/1?inventory_item_id=1001"}"#;

/// Delivers `body`, signed, as `topic` with `headers` added; the status and the answer.
fn deliver(
    serve: &ServeProcess,
    topic: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let mut request = reqwest::blocking::Client::new()
        .post(format!("{}/webhooks/shopify", serve.url))
        .header("X-Shopify-Topic", topic)
        .header("X-Shopify-Hmac-Sha256", signed(body))
        .header("X-Shopify-Shop-Domain", SHOP);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body.to_owned()).send().unwrap();
    let status = response.status().as_u16();
    (status, response.text().unwrap())
}

/// The ids the server remembered, from its state file.
fn remembered(w: &World) -> Vec<String> {
    let state = w.config.with_file_name("state.db");
    let conn =
        rusqlite::Connection::open_with_flags(state, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut select = conn.prepare("SELECT id FROM processed_webhooks").unwrap();
    let ids = select
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    ids
}

#[test]
fn a_product_body_sent_as_a_location_update_is_refused_with_400() {
    let w = world("");
    let serve = ServeProcess::start(&w.config);
    for i in 0..3 {
        let id = format!("replay-{i}");
        let (status, _) = deliver(
            &serve,
            "locations/update",
            PRODUCT,
            &[("X-Shopify-Webhook-Id", &id)],
        );
        assert_eq!(status, 400, "a product is not a location");
    }
    let (status, _) = deliver(
        &serve,
        "products/update",
        PRODUCT,
        &[("X-Shopify-Webhook-Id", "real-1")],
    );
    assert_eq!(status, 200, "the same body under its own topic is taken");
    assert_eq!(remembered(&w), ["webhook:real-1"]);
}

#[test]
fn webhook_and_event_ids_longer_than_128_bytes_are_refused_with_400() {
    let w = world("");
    let serve = ServeProcess::start(&w.config);
    let long = "x".repeat(190 * 1024);
    let (status, answer) = deliver(
        &serve,
        "inventory_levels/update",
        LEVEL,
        &[("X-Shopify-Webhook-Id", &long)],
    );
    assert_eq!(status, 400, "{answer}");
    let (status, _) = deliver(
        &serve,
        "inventory_levels/update",
        LEVEL,
        &[
            ("X-Shopify-Webhook-Id", "w-1"),
            ("X-Shopify-Event-Id", &long[..129]),
        ],
    );
    assert_eq!(status, 400);
    assert!(remembered(&w).is_empty(), "nothing was remembered");
}

#[test]
fn a_delivery_triggered_longer_ago_than_shopify_retries_is_answered_and_ignored() {
    let w = world("");
    let serve = ServeProcess::start(&w.config);
    let (status, answer) = deliver(
        &serve,
        "inventory_levels/update",
        LEVEL,
        &[
            ("X-Shopify-Webhook-Id", "old-1"),
            ("X-Shopify-Triggered-At", "2020-01-01T00:00:00Z"),
        ],
    );
    assert_eq!((status, answer.as_str()), (200, "too old\n"));
    let recent = humantime::format_rfc3339(std::time::SystemTime::now()).to_string();
    let (status, answer) = deliver(
        &serve,
        "inventory_levels/update",
        LEVEL,
        &[
            ("X-Shopify-Webhook-Id", "new-1"),
            ("X-Shopify-Triggered-At", &recent),
        ],
    );
    assert_eq!((status, answer.as_str()), (200, "ok\n"));
    assert_eq!(
        remembered(&w),
        ["webhook:new-1"],
        "the old one was not remembered"
    );
}

#[test]
fn past_webhook_ids_per_minute_deliveries_are_processed_without_growing_the_table() {
    let w = world("webhook_ids_per_minute = 10\n");
    let serve = ServeProcess::start(&w.config);
    for i in 0..15 {
        let (webhook, event) = (format!("w-{i}"), format!("e-{i}"));
        let (status, answer) = deliver(
            &serve,
            "inventory_levels/update",
            LEVEL,
            &[
                ("X-Shopify-Webhook-Id", &webhook),
                ("X-Shopify-Event-Id", &event),
            ],
        );
        assert_eq!(
            (status, answer.as_str()),
            (200, "ok\n"),
            "delivery {i} processed"
        );
    }
    assert_eq!(
        remembered(&w).len(),
        20,
        "ten deliveries remembered, two ids each"
    );
}
