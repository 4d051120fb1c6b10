//! TikTok orders, their status changes and webhooks, Shopify copies of them, the oversold
//! counter, and the `read_orders` scope.

use serde_json::{json, Value};
use stockbridge_sandbox::webhooks::tiktok_signature;
use stockbridge_sandbox::{credentials, Fixture, SandboxOptions};

use crate::support::{
    control, fixture, get_json, graphql, now, start, start_with, Receiver, TikTokCall,
};

async fn search(sandbox: &stockbridge_sandbox::RunningSandbox, body: Value, page: &str) -> Value {
    let (_, _, answer) = TikTokCall::post("/order/202309/orders/search", body)
        .param("page_size", page)
        .param("sort_field", "update_time")
        .param("sort_order", "ASC")
        .send(sandbox)
        .await;
    answer
}

fn tiktok_stock(state: &Value, sku: &str, warehouse: &str) -> i64 {
    state["tiktok"]["products"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["skus"].as_array().unwrap())
        .find(|s| s["id"] == sku)
        .and_then(|s| {
            s["inventory"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["warehouse_id"] == warehouse)
        })
        .map(|e| e["quantity"].as_i64().unwrap())
        .unwrap()
}

/// The seed fixture with TikTok stock to sell: 90011 holds 10 in α.
fn stocked() -> Fixture {
    let mut f = fixture();
    f.tiktok.products[0].skus[0].inventory[0].quantity = 10;
    f
}

#[tokio::test]
async fn a_tiktok_order_takes_tiktok_stock_and_is_found_by_update_time() {
    let sandbox = start(stocked()).await;
    let since = now();
    let (status, placed) = control(
        &sandbox,
        "tiktok/orders",
        json!({"lines": [{"sku_id": "90011", "quantity": 3}]}),
    )
    .await;
    assert_eq!(status, 200, "{placed}");
    let id = placed["order"]["id"].as_str().unwrap().to_owned();
    let state = get_json(&sandbox, "/_sandbox/state").await;
    assert_eq!(tiktok_stock(&state, "90011", "7001"), 7);

    let found = search(&sandbox, json!({"update_time_ge": since}), "10").await;
    assert_eq!(found["code"], 0, "{found}");
    let orders = found["data"]["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["id"], id.as_str());
    assert_eq!(orders[0]["status"], "AWAITING_SHIPMENT");
    let items = orders[0]["line_items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "one line item per unit");
    assert_eq!(items[0]["seller_sku"], "TEE-RED-S");
    assert_eq!(items[0]["warehouse_id"], "7001");

    let later = search(&sandbox, json!({"update_time_ge": since + 3600}), "10").await;
    assert_eq!(later["data"]["total_count"], 0);
}

#[tokio::test]
async fn an_order_beyond_tiktok_stock_is_refused_and_changes_nothing() {
    let sandbox = start(stocked()).await;
    let (status, answer) = control(
        &sandbox,
        "tiktok/orders",
        json!({"lines": [{"sku_id": "90011", "quantity": 11, "warehouse_id": "7001"}]}),
    )
    .await;
    assert_eq!(status, 409);
    assert!(answer["error"].as_str().unwrap().contains("out of stock"));
    let state = get_json(&sandbox, "/_sandbox/state").await;
    assert_eq!(tiktok_stock(&state, "90011", "7001"), 10);
    assert!(state["tiktok"].get("orders").is_none());
}

#[tokio::test]
async fn order_search_pages_with_a_token_and_filters_by_status() {
    let sandbox = start(stocked()).await;
    for id in ["5001", "5002", "5003"] {
        let (status, _) = control(
            &sandbox,
            "tiktok/orders",
            json!({"id": id, "lines": [{"sku_id": "90011", "quantity": 1}]}),
        )
        .await;
        assert_eq!(status, 200);
    }
    control(
        &sandbox,
        "tiktok/orders/5002/status",
        json!({"status": "CANCELLED"}),
    )
    .await;
    let first = search(&sandbox, json!({}), "2").await;
    assert_eq!(first["data"]["total_count"], 3);
    assert_eq!(first["data"]["orders"].as_array().unwrap().len(), 2);
    let token = first["data"]["next_page_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!token.is_empty());
    let (_, _, second) = TikTokCall::post("/order/202309/orders/search", json!({}))
        .param("page_size", "2")
        .param("sort_field", "update_time")
        .param("sort_order", "ASC")
        .param("page_token", &token)
        .send(&sandbox)
        .await;
    assert_eq!(second["data"]["orders"].as_array().unwrap().len(), 1);
    assert_eq!(second["data"]["next_page_token"], "");
    let cancelled = search(&sandbox, json!({"order_status": "CANCELLED"}), "10").await;
    let ids: Vec<&str> = cancelled["data"]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["5002"]);
}

#[tokio::test]
async fn order_search_checks_the_signature_and_page_size() {
    let sandbox = start(stocked()).await;
    let (_, _, answer) = TikTokCall::post("/order/202309/orders/search", json!({}))
        .param("page_size", "101")
        .send(&sandbox)
        .await;
    assert_eq!(answer["code"], 36009004);
    let (_, _, answer) = TikTokCall::post("/order/202309/orders/search", json!({}))
        .param("page_size", "10")
        .secret("wrong")
        .send(&sandbox)
        .await;
    assert_eq!(answer["code"], 106001);
}

#[tokio::test]
async fn status_changes_send_signed_tiktok_webhooks_and_cancelling_gives_units_back() {
    let receiver = Receiver::start(0).await;
    let mut receiver = receiver;
    let options = SandboxOptions {
        tiktok_webhook_urls: vec![receiver.url.clone()],
        ..SandboxOptions::default()
    };
    let sandbox = start_with(stocked(), options).await;
    let (_, placed) = control(
        &sandbox,
        "tiktok/orders",
        json!({"id": "576001", "lines": [{"sku_id": "90011", "quantity": 4}]}),
    )
    .await;
    let got = receiver.next().await;
    assert_eq!(
        got.header("authorization"),
        tiktok_signature(
            credentials::TIKTOK_APP_KEY,
            credentials::TIKTOK_APP_SECRET,
            &got.body
        ),
        "HMAC-SHA256 of app_key + body, lowercase hex"
    );
    let body = got.json();
    assert_eq!(body["type"], 1);
    assert_eq!(body["tts_notification_id"], placed["notification_ids"][0]);
    assert_eq!(body["data"]["order_id"], "576001");
    assert_eq!(body["data"]["order_status"], "AWAITING_SHIPMENT");

    let (status, _) = control(
        &sandbox,
        "tiktok/orders/576001/status",
        json!({"status": "CANCELLED"}),
    )
    .await;
    assert_eq!(status, 200);
    let got = receiver.next().await;
    assert_eq!(got.json()["data"]["order_status"], "CANCELLED");
    let state = get_json(&sandbox, "/_sandbox/state").await;
    assert_eq!(tiktok_stock(&state, "90011", "7001"), 10, "units back");

    let (status, _) = control(
        &sandbox,
        "tiktok/orders/576001/status",
        json!({"status": "AWAITING_SHIPMENT"}),
    )
    .await;
    assert_eq!(status, 400, "a cancelled order stays cancelled");
}

#[tokio::test]
async fn a_shopify_copy_lowers_available_and_is_served_by_graphql_orders() {
    let mut receiver = Receiver::start(0).await;
    let options = SandboxOptions {
        webhook_urls: vec![receiver.url.clone()],
        ..SandboxOptions::default()
    };
    let sandbox = start_with(stocked(), options).await;
    let (status, answer) = control(
        &sandbox,
        "shopify/orders",
        json!({"tiktok_order_id": "576001", "marker": "tag",
               "lines": [{"variant_id": 101, "quantity": 3, "location_id": 2}]}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let level = receiver.next().await;
    assert_eq!(level.header("x-shopify-topic"), "inventory_levels/update");
    assert_eq!(level.json()["available"], 197);
    let created = receiver.next().await;
    assert_eq!(created.header("x-shopify-topic"), "orders/create");
    assert_eq!(created.json()["tags"], "TikTok, 576001");

    let query = "query($q: String) { orders(first: 10, query: $q) { nodes { id createdAt
        sourceIdentifier tags note customAttributes { key value }
        lineItems(first: 10) { nodes { quantity sku variant { id } } } } } }";
    let (_, data) = graphql(
        &sandbox,
        query,
        json!({"q": "created_at:>=2000-01-01T00:00:00Z"}),
    )
    .await;
    let nodes = data["data"]["orders"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{data}");
    assert_eq!(nodes[0]["tags"], json!(["TikTok", "576001"]));
    assert_eq!(nodes[0]["lineItems"]["nodes"][0]["quantity"], 3);
    assert_eq!(
        nodes[0]["lineItems"]["nodes"][0]["variant"]["id"],
        "gid://shopify/ProductVariant/101"
    );
    let (_, none) = graphql(
        &sandbox,
        query,
        json!({"q": "created_at:>=2999-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(none["data"]["orders"]["nodes"], json!([]));
}

#[tokio::test]
async fn oversold_counts_tiktok_units_shopify_cannot_fulfil_until_the_copy_arrives() {
    // TEE-RED-M: Shopify 5 at Location A, TikTok 3 in α, raised to 10 by hand (a stale number).
    let mut f = fixture();
    f.tiktok.products[0].skus[1].inventory[0].quantity = 10;
    let sandbox = start(f).await;
    let order = |id: &str, quantity: u64| json!({"id": id, "lines": [{"sku_id": "90012", "quantity": quantity}]});
    let (_, first) = control(&sandbox, "tiktok/orders", order("1", 4)).await;
    assert_eq!(first["oversold"], 0, "5 available, 4 sold");
    let (_, second) = control(&sandbox, "tiktok/orders", order("2", 3)).await;
    assert_eq!(second["oversold"], 2, "1 left for Shopify after order 1");
    assert_eq!(sandbox.stats().oversold, 2);
    // The copy of order 1 arrives: Shopify's 5 drops to 1 and order 1 no longer counts.
    control(
        &sandbox,
        "shopify/orders",
        json!({"tiktok_order_id": "1", "lines": [{"variant_id": 102, "quantity": 4, "location_id": 1}]}),
    )
    .await;
    let (_, third) = control(&sandbox, "tiktok/orders", order("3", 1)).await;
    assert_eq!(third["oversold"], 1, "1 available, order 2's 3 pending");
    assert_eq!(get_json(&sandbox, "/_sandbox/stats").await["oversold"], 3);
}

#[tokio::test]
async fn without_read_orders_the_orders_query_is_access_denied() {
    let mut f = fixture();
    f.credentials.scopes = Some(vec!["read_products".into(), "read_inventory".into()]);
    let sandbox = start(f).await;
    let (_, answer) = graphql(&sandbox, "{ orders(first: 1) { nodes { id } } }", json!({})).await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "ACCESS_DENIED",
        "{answer}"
    );
    let (_, scopes) = graphql(
        &sandbox,
        "{ currentAppInstallation { accessScopes { handle } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        scopes["data"]["currentAppInstallation"]["accessScopes"],
        json!([{"handle": "read_products"}, {"handle": "read_inventory"}])
    );
}

#[tokio::test]
async fn fixture_orders_are_served_and_dumped_back() {
    let text = json!({
        "shopify": {
            "locations": [{"id": 1, "name": "A"}],
            "variants": [{"id": 101, "product_id": 10, "sku": "TEE", "inventory_item_id": 1001}],
            "orders": [{"id": 7, "created_at": "2026-12-01T10:00:00Z", "note": "TikTok order 576009",
                        "custom_attributes": [{"key": "channel", "value": "tiktok"}],
                        "lines": [{"variant_id": 101, "quantity": 1}]}]
        },
        "tiktok": {
            "warehouses": [{"id": "7001", "name": "α", "is_default": true}],
            "products": [{"id": "9001", "skus": [{"id": "90011", "seller_sku": "TEE",
                          "inventory": [{"warehouse_id": "7001", "quantity": 1}]}]}],
            "orders": [{"id": "576009", "status": "UNPAID", "create_time": 1764000000,
                        "lines": [{"sku_id": "90011", "seller_sku": "TEE", "quantity": 2}]}]
        }
    });
    let f = Fixture::from_json(&text.to_string()).unwrap();
    let sandbox = start(f.clone()).await;
    let found = search(&sandbox, json!({"update_time_ge": 1764000000}), "10").await;
    assert_eq!(found["data"]["orders"][0]["status"], "UNPAID");
    let (_, data) = graphql(
        &sandbox,
        "{ orders(first: 5) { nodes { note createdAt } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        data["data"]["orders"]["nodes"][0]["note"],
        "TikTok order 576009"
    );
    let dumped = Fixture::from_json(&sandbox.state().to_json_pretty()).unwrap();
    assert_eq!(dumped.shopify.orders, f.shopify.orders);
    assert_eq!(dumped.tiktok.orders[0].update_time, Some(1764000000));
}

#[tokio::test]
async fn a_fixture_order_of_an_unknown_sku_names_its_key() {
    let text =
        json!({"tiktok": {"orders": [{"id": "1", "lines": [{"sku_id": "404", "quantity": 1}]}]}});
    let err = Fixture::from_json(&text.to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("tiktok.orders[0].lines[0].sku_id"), "{err}");
}
