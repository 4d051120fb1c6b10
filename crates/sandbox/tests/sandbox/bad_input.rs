//! Hostile input must be refused or answered, never panic: a panic while the world lock is held
//! poisons it and every later request fails. Each test sends the bad input over HTTP, then checks
//! that a normal request still answers.

use reqwest::StatusCode;
use serde_json::{json, Value};
use stockbridge_sandbox::{RunningSandbox, MAX_FAULT_DELAY_MS};

use crate::support::{control, fixture, get_json, graphql, start, TikTokCall};

const VARIANTS: &str =
    "query ($q: String) { productVariants(first: 10, query: $q) { nodes { id } } }";

async fn variant_ids(sandbox: &RunningSandbox, query: Option<&str>) -> Value {
    let (status, body) = graphql(sandbox, VARIANTS, json!({ "q": query })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.get("errors"), None, "{body}");
    body["data"]["productVariants"]["nodes"].clone()
}

async fn answers_normally(sandbox: &RunningSandbox) {
    assert_eq!(
        variant_ids(sandbox, None).await,
        json!([{"id": "gid://shopify/ProductVariant/101"},
               {"id": "gid://shopify/ProductVariant/102"},
               {"id": "gid://shopify/ProductVariant/103"}])
    );
    let (_, _, body) = TikTokCall::get("/authorization/202309/shops")
        .without("shop_cipher")
        .send(sandbox)
        .await;
    assert_eq!(body["code"], 0, "{body}");
}

#[tokio::test]
async fn an_updated_at_search_beyond_the_representable_time_matches_nothing() {
    let sandbox = start(fixture()).await;
    for query in [
        "updated_at:>999999999999-01-01",
        "updated_at:>2024-01-01T99999999999999999:00",
        "updated_at:<'2024-01-01T00:00:00+99999999999999999:00'",
        "updated_at:>=292278994-08-17T07:12:55.808Z",
    ] {
        assert_eq!(
            variant_ids(&sandbox, Some(query)).await,
            json!([]),
            "{query}"
        );
    }
    answers_normally(&sandbox).await;
}

#[tokio::test]
async fn an_updated_at_search_still_compares_ordinary_times() {
    let sandbox = start(fixture()).await;
    let all = variant_ids(&sandbox, Some("updated_at:>2001-01-01")).await;
    assert_eq!(all.as_array().unwrap().len(), 3, "{all}");
    let none = variant_ids(&sandbox, Some("updated_at:>9999-01-01T00:00:00Z")).await;
    assert_eq!(none, json!([]));
}

#[tokio::test]
async fn a_timestamp_of_i64_min_is_refused_as_outside_the_window() {
    let sandbox = start(fixture()).await;
    for stamp in [i64::MIN.to_string(), i64::MAX.to_string()] {
        let (status, _, body) = TikTokCall::get("/authorization/202309/shops")
            .without("shop_cipher")
            .param("timestamp", &stamp)
            .send(&sandbox)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["code"], 36009004, "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("Invalid timestamp"),
            "{body}"
        );
    }
    answers_normally(&sandbox).await;
}

#[tokio::test]
async fn refuses_fault_latency_jitter_and_delay_above_one_minute_naming_the_key() {
    let sandbox = start(fixture()).await;
    let huge = u64::MAX;
    for (faults, key) in [
        (
            json!({"shopify": {"latency_ms": huge, "jitter_ms": huge}}),
            "shopify.latency_ms",
        ),
        (json!({"tiktok": {"jitter_ms": huge}}), "tiktok.jitter_ms"),
        (
            json!({"webhooks": {"delay_ms": MAX_FAULT_DELAY_MS + 1}}),
            "webhooks.delay_ms",
        ),
    ] {
        let (status, body) = control(&sandbox, "faults", faults.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{faults}");
        let message = body["error"].as_str().unwrap();
        assert!(message.starts_with(&format!("{key} is ")), "{message}");
        assert!(message.ends_with("; allowed: 0 to 60000"), "{message}");
    }
    assert!(message_of(&sandbox, json!({"tiktok": {"jitter_ms": huge}}))
        .await
        .contains("18446744073709551615"));
    assert_eq!(get_json(&sandbox, "/_sandbox/faults").await, json!({}));
    answers_normally(&sandbox).await;
}

async fn message_of(sandbox: &RunningSandbox, faults: Value) -> String {
    let (_, body) = control(sandbox, "faults", faults).await;
    body["error"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn refuses_faults_for_an_endpoint_it_does_not_have_naming_it_and_the_allowed_ones() {
    let sandbox = start(fixture()).await;
    let faults = json!({"tiktok": {"error_rate": 1.0, "endpoints": ["inventory_updates"]}});
    let (status, body) = control(&sandbox, "faults", faults).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("\"inventory_updates\"") && message.contains("inventory_update"),
        "{message}"
    );
    assert_eq!(get_json(&sandbox, "/_sandbox/faults").await, json!({}));
    answers_normally(&sandbox).await;
}

#[tokio::test]
async fn accepts_a_fault_latency_of_exactly_one_minute() {
    let sandbox = start(fixture()).await;
    let faults = json!({"shopify": {"latency_ms": 60000, "jitter_ms": 0, "error_rate": 0.0,
                                    "throttle_rate": 0.0, "endpoints": ["graphql"]}});
    let (status, body) = control(&sandbox, "faults", faults.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, faults);
}

#[tokio::test]
async fn sums_huge_shopify_levels_without_overflowing() {
    let sandbox = start(fixture()).await;
    for location in [1, 2] {
        let (status, body) = control(
            &sandbox,
            "shopify/inventory_levels",
            json!({"inventory_item_id": 1001, "location_id": location, "available": i64::MAX}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let found = variant_ids(&sandbox, Some("inventory_quantity:>0")).await;
    assert_eq!(
        found,
        json!([{"id": "gid://shopify/ProductVariant/101"}, {"id": "gid://shopify/ProductVariant/102"}])
    );
    let (_, body) = graphql(
        &sandbox,
        r#"{ productVariant(id: "gid://shopify/ProductVariant/101") { inventoryQuantity } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        body["data"]["productVariant"]["inventoryQuantity"],
        i64::MAX,
        "{body}"
    );
    // products/update carries the summed inventory_quantity of every variant.
    let (status, body) = control(
        &sandbox,
        "shopify/variants/101",
        json!({"inventory_policy": "CONTINUE"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["product"]["variants"][0]["inventory_quantity"],
        i64::MAX
    );
    answers_normally(&sandbox).await;
}

#[tokio::test]
async fn refuses_a_hand_edited_tiktok_quantity_outside_0_to_999999() {
    let sandbox = start(fixture()).await;
    for quantity in [-5, 1_000_000, i64::MAX] {
        let (status, body) =
            control(&sandbox, "tiktok/skus/90012", json!({"quantity": quantity})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{quantity}");
        assert_eq!(
            body["error"],
            format!("quantity is {quantity}; allowed: 0 to 999999")
        );
    }
    let (status, body) = control(&sandbox, "tiktok/skus/90012", json!({"quantity": 999_999})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sku"]["inventory"][0]["quantity"], 999_999);
}
