use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use stockbridge_sandbox::{credentials, SandboxOptions};

use crate::support::{
    control, eventually, fixture, start_with, start_with_receiver, Received, Receiver,
};

fn verify(received: &Received) {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(credentials::SHOPIFY_WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(&received.body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(
        received.header("x-shopify-hmac-sha256"),
        expected,
        "HMAC of the raw body"
    );
}

#[tokio::test]
async fn delivers_a_signed_inventory_levels_update() {
    let (sandbox, mut receiver) = start_with_receiver(0).await;
    let (_, answer) = control(
        &sandbox,
        "shopify/inventory_levels",
        json!({"inventory_item_id": 1001, "location_id": 2, "available": 150}),
    )
    .await;
    let got = receiver.next().await;
    verify(&got);
    assert_eq!(got.header("x-shopify-topic"), "inventory_levels/update");
    assert_eq!(
        got.header("x-shopify-shop-domain"),
        credentials::SHOP_DOMAIN
    );
    assert_eq!(
        got.header("x-shopify-event-id"),
        answer["event_ids"][0].as_str().unwrap()
    );
    assert!(!got.header("x-shopify-webhook-id").is_empty());
    assert!(!got.header("x-shopify-api-version").is_empty());
    assert!(got.header("x-shopify-triggered-at").ends_with('Z'));
    let body = got.json();
    assert_eq!(body["inventory_item_id"], 1001);
    assert_eq!(body["location_id"], 2);
    assert_eq!(body["available"], 150);
    assert_eq!(
        body["admin_graphql_api_id"],
        "gid://shopify/InventoryLevel/2?inventory_item_id=1001"
    );
    assert!(body["updated_at"].is_string());
    let stats = eventually(Duration::from_secs(2), || async {
        let stats = sandbox.stats();
        (stats.webhooks.delivered == 1).then_some(stats)
    })
    .await;
    assert_eq!(stats.webhooks.events, 1);
}

#[tokio::test]
async fn connects_a_level_where_the_item_was_not_stocked() {
    let (sandbox, mut receiver) = start_with_receiver(0).await;
    let (_, answer) = control(
        &sandbox,
        "shopify/inventory_levels",
        json!({"inventory_item_id": 1002, "location_id": 3, "available": 4}),
    )
    .await;
    let got = receiver.next().await;
    verify(&got);
    assert_eq!(got.header("x-shopify-topic"), "inventory_levels/connect");
    assert_eq!(
        got.header("x-shopify-event-id"),
        answer["event_ids"][0].as_str().unwrap()
    );
    let body = got.json();
    assert_eq!(body, answer["inventory_level"]);
    assert_eq!(body["inventory_item_id"], 1002);
    assert_eq!(body["location_id"], 3);
    assert_eq!(body["available"], 4);
    assert_eq!(
        body["admin_graphql_api_id"],
        "gid://shopify/InventoryLevel/3?inventory_item_id=1002"
    );
    assert!(body["updated_at"].is_string());
    let levels = &sandbox.state().shopify.variants[1].levels;
    assert_eq!(levels.len(), 2);

    // The level exists now: the next change is an update.
    control(
        &sandbox,
        "shopify/inventory_levels",
        json!({"inventory_item_id": 1002, "location_id": 3, "available": 5}),
    )
    .await;
    let got = receiver.next().await;
    assert_eq!(got.header("x-shopify-topic"), "inventory_levels/update");
    assert_eq!(got.json()["available"], 5);
    let stats = sandbox.stats().webhooks;
    assert_eq!(stats.per_topic.get("inventory_levels/connect"), Some(&1));
    assert_eq!(stats.per_topic.get("inventory_levels/update"), Some(&1));
}

#[tokio::test]
async fn refuses_a_change_to_an_unknown_item_without_a_webhook() {
    let (sandbox, mut receiver) = start_with_receiver(0).await;
    let (status, body) = control(
        &sandbox,
        "shopify/inventory_levels",
        json!({"inventory_item_id": 9, "location_id": 1, "available": 4}),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
    assert!(body["error"].as_str().unwrap().contains("inventory item 9"));
    assert!(receiver.nothing_within(Duration::from_millis(200)).await);
}

#[tokio::test]
async fn sends_null_available_once_an_item_is_untracked() {
    let (sandbox, mut receiver) = start_with_receiver(0).await;
    control(
        &sandbox,
        "shopify/inventory_items/1001",
        json!({"tracked": false}),
    )
    .await;
    let got = receiver.next().await;
    verify(&got);
    assert_eq!(got.header("x-shopify-topic"), "inventory_items/update");
    let body = got.json();
    assert_eq!(body["id"], 1001);
    assert_eq!(body["sku"], "TEE-RED-S");
    assert_eq!(body["tracked"], false);
    assert_eq!(
        body["admin_graphql_api_id"],
        "gid://shopify/InventoryItem/1001"
    );

    control(
        &sandbox,
        "shopify/inventory_levels",
        json!({"inventory_item_id": 1001, "location_id": 1, "available": 3}),
    )
    .await;
    assert_eq!(
        receiver.next().await.json()["available"],
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn delivers_products_update_with_lowercase_policy() {
    let (sandbox, mut receiver) = start_with_receiver(0).await;
    control(
        &sandbox,
        "shopify/variants/102",
        json!({"inventory_policy": "CONTINUE"}),
    )
    .await;
    let got = receiver.next().await;
    verify(&got);
    assert_eq!(got.header("x-shopify-topic"), "products/update");
    let body = got.json();
    assert_eq!(body["id"], 10);
    let variant = body["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == 102)
        .unwrap()
        .clone();
    assert_eq!(variant["inventory_policy"], "continue");
    assert_eq!(variant["sku"], "TEE-RED-M");
    assert_eq!(variant["inventory_item_id"], 1002);
    assert_eq!(body["variants"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn delivers_location_deactivate_and_update() {
    let (sandbox, mut receiver) = start_with_receiver(0).await;
    control(&sandbox, "shopify/locations/2", json!({"active": false})).await;
    let mut topics = [receiver.next().await, receiver.next().await];
    topics.sort_by_key(|r| r.header("x-shopify-topic"));
    assert_eq!(topics[0].header("x-shopify-topic"), "locations/deactivate");
    assert_eq!(topics[1].header("x-shopify-topic"), "locations/update");
    assert_eq!(topics[0].json()["id"], 2);
    assert_eq!(topics[0].json()["active"], false);
    assert_ne!(
        topics[0].header("x-shopify-event-id"),
        topics[1].header("x-shopify-event-id")
    );
    assert!(!sandbox.state().shopify.locations[1].active);
}

#[tokio::test]
async fn retries_a_failed_delivery_until_it_succeeds() {
    let (sandbox, mut receiver) = start_with_receiver(2).await;
    control(
        &sandbox,
        "shopify/inventory_levels",
        json!({"inventory_item_id": 1001, "location_id": 1, "available": 1}),
    )
    .await;
    let got = receiver.next().await;
    verify(&got);
    let stats = eventually(Duration::from_secs(2), || async {
        let stats = sandbox.stats();
        (stats.webhooks.delivered == 1).then_some(stats)
    })
    .await;
    assert_eq!(stats.webhooks.attempts, 3);
    assert_eq!(stats.webhooks.failed, 0);
}

#[tokio::test]
async fn gives_up_after_five_failed_attempts() {
    let (sandbox, mut receiver) = start_with_receiver(usize::MAX).await;
    control(
        &sandbox,
        "shopify/inventory_levels",
        json!({"inventory_item_id": 1001, "location_id": 1, "available": 1}),
    )
    .await;
    let stats = eventually(Duration::from_secs(5), || async {
        let stats = sandbox.stats();
        (stats.webhooks.failed == 1).then_some(stats)
    })
    .await;
    assert_eq!(stats.webhooks.attempts, 5);
    assert_eq!(stats.webhooks.delivered, 0);
    assert!(receiver.nothing_within(Duration::from_millis(50)).await);
}

#[tokio::test]
async fn delivers_every_webhook_to_each_webhook_url() {
    let (mut first, mut second) = (Receiver::start(0).await, Receiver::start(0).await);
    let options = SandboxOptions {
        webhook_urls: vec![first.url.clone(), second.url.clone()],
        ..SandboxOptions::default()
    };
    let sandbox = start_with(fixture(), options).await;
    let (_, answer) = control(
        &sandbox,
        "shopify/inventory_levels",
        json!({"inventory_item_id": 1002, "location_id": 1, "available": 4}),
    )
    .await;
    let event_id = answer["event_ids"][0].as_str().unwrap();
    for got in [first.next().await, second.next().await] {
        verify(&got);
        assert_eq!(got.header("x-shopify-topic"), "inventory_levels/update");
        assert_eq!(got.header("x-shopify-event-id"), event_id);
        assert_eq!(got.json()["available"], 4);
    }
    let stats = eventually(Duration::from_secs(2), || async {
        let stats = sandbox.stats();
        (stats.webhooks.delivered == 2).then_some(stats)
    })
    .await;
    assert_eq!(stats.webhooks.events, 1);
}

#[tokio::test]
async fn delivers_location_activate_and_update() {
    let (sandbox, mut receiver) = start_with_receiver(0).await;
    assert!(!sandbox.state().shopify.locations[2].active);
    let (_, answer) = control(&sandbox, "shopify/locations/3", json!({"active": true})).await;
    assert_eq!(answer["location"]["active"], true);
    let mut topics = [receiver.next().await, receiver.next().await];
    topics.sort_by_key(|r| r.header("x-shopify-topic"));
    assert_eq!(topics[0].header("x-shopify-topic"), "locations/activate");
    assert_eq!(topics[1].header("x-shopify-topic"), "locations/update");
    for got in &topics {
        verify(got);
        assert_eq!(got.json()["id"], 3);
        assert_eq!(got.json()["active"], true);
    }
    assert!(sandbox.state().shopify.locations[2].active);
}

#[tokio::test]
async fn a_level_update_carries_updated_at_in_whole_seconds_as_graphql_reads_it() {
    let (sandbox, mut receiver) = start_with_receiver(0).await;
    control(
        &sandbox,
        "shopify/inventory_levels",
        json!({"inventory_item_id": 1001, "location_id": 2, "available": 150}),
    )
    .await;
    let got = receiver.next().await;
    let body = got.json();
    let stamp = body["updated_at"].as_str().unwrap().to_owned();
    // `2026-12-06T03:40:12Z`: Shopify's resolution, no fraction of a second.
    assert_eq!(stamp.len(), 20, "{stamp}");
    assert!(stamp.ends_with('Z') && !stamp.contains('.'), "{stamp}");
    let (_, read) = crate::support::graphql(
        &sandbox,
        r#"{ inventoryItem(id: "gid://shopify/InventoryItem/1001") {
            inventoryLevel(locationId: "gid://shopify/Location/2") { updatedAt } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        read["data"]["inventoryItem"]["inventoryLevel"]["updatedAt"],
        stamp.as_str(),
        "the payload and a read give the level the same time"
    );
}
