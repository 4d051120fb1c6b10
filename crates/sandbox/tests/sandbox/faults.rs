use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use stockbridge_sandbox::{ApiFaults, Faults, WebhookFaults};

use crate::support::{
    control, eventually, fixture, get_json, graphql, start, start_with_receiver, TikTokCall,
};

fn shops() -> TikTokCall {
    TikTokCall::get("/authorization/202309/shops").without("shop_cipher")
}

#[tokio::test]
async fn error_rate_one_answers_5xx_on_both_emulators() {
    let sandbox = start(fixture()).await;
    let (status, _) = control(
        &sandbox,
        "faults",
        json!({"seed": 7, "tiktok": {"error_rate": 1.0}, "shopify": {"error_rate": 1.0}}),
    )
    .await;
    assert!(status.is_success());
    let (status, _, body) = shops().send(&sandbox).await;
    assert!(status.is_server_error());
    assert_eq!(body["code"], 36009003);
    let (status, body) = graphql(&sandbox, "{ shop { name } }", json!({})).await;
    assert!(status.is_server_error());
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "INTERNAL_SERVER_ERROR"
    );
    assert_eq!(sandbox.stats().count("shopify", "graphql", "error"), 1);
    assert_eq!(sandbox.stats().count("tiktok", "shops", "error"), 1);
}

#[tokio::test]
async fn throttle_rate_applies_only_to_the_listed_endpoints() {
    let sandbox = start(fixture()).await;
    sandbox.set_faults(Faults {
        tiktok: Some(ApiFaults {
            throttle_rate: 1.0,
            endpoints: Some(vec!["warehouses".to_owned()]),
            ..ApiFaults::default()
        }),
        shopify: Some(ApiFaults {
            throttle_rate: 1.0,
            ..ApiFaults::default()
        }),
        ..Faults::default()
    });
    let (status, _, _) = shops().send(&sandbox).await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, body) = TikTokCall::get("/logistics/202309/warehouses")
        .send(&sandbox)
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], 36009002);
    assert!(headers.get("retry-after").is_some());
    let (_, body) = graphql(&sandbox, "{ shop { name } }", json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "THROTTLED");
}

#[tokio::test]
async fn injected_throttle_reports_the_query_cost_and_a_bucket_short_of_it() {
    let sandbox = start(fixture()).await;
    control(
        &sandbox,
        "faults",
        json!({"seed": 5, "shopify": {"throttle_rate": 1.0}}),
    )
    .await;
    let query = "query($n: Int!) { productVariants(first: $n) { nodes { id } } }";
    let (status, body) = graphql(&sandbox, query, json!({"n": 50})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["errors"][0]["extensions"]["code"], "THROTTLED");
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 52, "{body}");
    assert_eq!(cost["actualQueryCost"], serde_json::Value::Null);
    assert_eq!(cost["throttleStatus"]["maximumAvailable"], 2000.0);
    let available = cost["throttleStatus"]["currentlyAvailable"]
        .as_u64()
        .unwrap();
    assert!(available < 52, "{cost}");

    // Once the fault is lifted, the bucket refills at its restore rate and the query runs.
    control(&sandbox, "faults", json!({})).await;
    let served = eventually(Duration::from_secs(2), || async {
        let (_, body) = graphql(&sandbox, query, json!({"n": 50})).await;
        body.get("data")
            .is_some_and(|d| !d.is_null())
            .then_some(body)
    })
    .await;
    let left = served["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
        .as_u64()
        .unwrap();
    assert!(left < 200, "the bucket was really drained: {served}");
    assert!(sandbox.stats().count("shopify", "graphql", "throttled") >= 1);
}

#[tokio::test]
async fn latency_delays_answers() {
    let sandbox = start(fixture()).await;
    control(&sandbox, "faults", json!({"tiktok": {"latency_ms": 150}})).await;
    let started = Instant::now();
    shops().send(&sandbox).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn a_call_abandoned_during_its_latency_is_counted_as_delayed_on_arrival() {
    let sandbox = start(fixture()).await;
    control(&sandbox, "faults", json!({"tiktok": {"latency_ms": 60000}})).await;
    let abandoned = tokio::time::timeout(Duration::from_millis(200), shops().send(&sandbox)).await;
    assert!(abandoned.is_err(), "the answer waits a minute");
    let delayed = eventually(Duration::from_secs(5), || async {
        let n = sandbox.stats().count("tiktok", "shops", "delayed");
        (n > 0).then_some(n)
    })
    .await;
    assert_eq!(delayed, 1);
    assert_eq!(sandbox.stats().count("tiktok", "shops", "ok"), 0);
}

#[tokio::test]
async fn reads_back_the_faults_in_force_and_refuses_a_rate_above_one() {
    let sandbox = start(fixture()).await;
    let faults = json!({"seed": 3, "webhooks": {"duplicate_rate": 0.5, "reorder_rate": 0.0, "delay_ms": 0, "drop_rate": 0.0}});
    control(&sandbox, "faults", faults.clone()).await;
    assert_eq!(get_json(&sandbox, "/_sandbox/faults").await, faults);
    let (status, body) = control(&sandbox, "faults", json!({"tiktok": {"error_rate": 1.5}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("tiktok.error_rate"));
    let (status, body) = control(&sandbox, "faults", json!({"tiktok": {"eror_rate": 0.5}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("eror_rate"));
}

#[tokio::test]
async fn duplicate_rate_one_delivers_every_change_twice_with_one_event_id() {
    let (sandbox, mut receiver) = start_with_receiver(0).await;
    sandbox.set_faults(Faults {
        webhooks: Some(WebhookFaults {
            duplicate_rate: 1.0,
            ..WebhookFaults::default()
        }),
        ..Faults::default()
    });
    control(
        &sandbox,
        "shopify/inventory_levels",
        json!({"inventory_item_id": 1001, "location_id": 1, "available": 8}),
    )
    .await;
    let first = receiver.next().await;
    let second = receiver.next().await;
    assert_eq!(
        first.header("x-shopify-event-id"),
        second.header("x-shopify-event-id")
    );
    assert_ne!(
        first.header("x-shopify-webhook-id"),
        second.header("x-shopify-webhook-id")
    );
    assert_eq!(first.body, second.body);
    assert_eq!(sandbox.stats().webhooks.duplicates, 1);
}

#[tokio::test]
async fn reorder_rate_one_lets_a_later_change_overtake() {
    let (sandbox, mut receiver) = start_with_receiver(0).await;
    control(
        &sandbox,
        "faults",
        json!({"seed": 1, "webhooks": {"reorder_rate": 1.0}}),
    )
    .await;
    control(
        &sandbox,
        "shopify/inventory_levels",
        json!({"inventory_item_id": 1001, "location_id": 1, "available": 1}),
    )
    .await;
    control(&sandbox, "faults", json!({})).await;
    control(
        &sandbox,
        "shopify/inventory_levels",
        json!({"inventory_item_id": 1001, "location_id": 1, "available": 2}),
    )
    .await;
    assert_eq!(receiver.next().await.json()["available"], 2);
    assert_eq!(receiver.next().await.json()["available"], 1);
}

#[tokio::test]
async fn drop_rate_one_loses_the_delivery() {
    let (sandbox, mut receiver) = start_with_receiver(0).await;
    control(&sandbox, "faults", json!({"webhooks": {"drop_rate": 1.0}})).await;
    control(
        &sandbox,
        "shopify/inventory_levels",
        json!({"inventory_item_id": 1001, "location_id": 1, "available": 1}),
    )
    .await;
    assert!(receiver.nothing_within(Duration::from_millis(300)).await);
    assert_eq!(sandbox.stats().webhooks.dropped, 1);
}
