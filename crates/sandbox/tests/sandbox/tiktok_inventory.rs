use serde_json::{json, Value};

use crate::support::{control, fixture, start, TikTokCall};

fn update(product: &str, skus: Value) -> TikTokCall {
    TikTokCall::post(
        &format!("/product/202309/products/{product}/inventory/update"),
        json!({"skus": skus}),
    )
}

fn quantities(sandbox: &stockbridge_sandbox::RunningSandbox, sku: &str) -> Vec<(String, i64)> {
    let state = sandbox.state();
    let found = state
        .tiktok
        .products
        .iter()
        .flat_map(|p| &p.skus)
        .find(|s| s.id == sku)
        .unwrap()
        .clone();
    found
        .inventory
        .into_iter()
        .map(|e| (e.warehouse_id, e.quantity))
        .collect()
}

/// The single extra error of the single failed SKU.
fn only_error(body: &Value) -> (&str, i64, &str) {
    assert_eq!(body["code"], 0, "{body}");
    let errors = body["data"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["code"], 12052990);
    assert_eq!(errors[0]["message"], "Check failed");
    let detail = &errors[0]["detail"];
    let extra = &detail["extra_errors"][0];
    (
        detail["sku_id"].as_str().unwrap(),
        extra["code"].as_i64().unwrap(),
        extra["warehouse_id"].as_str().unwrap(),
    )
}

#[tokio::test]
async fn applies_absolute_quantities_to_every_warehouse() {
    let sandbox = start(fixture()).await;
    let skus = json!([{"id": "90011", "inventory": [{"warehouse_id": "7001", "quantity": 240},
                                                     {"warehouse_id": "7002", "quantity": 0}]}]);
    let (_, _, body) = update("9001", skus.clone()).send(&sandbox).await;
    assert_eq!(body["code"], 0, "{body}");
    assert_eq!(body["data"].get("errors"), None);
    update("9001", skus).send(&sandbox).await;
    assert_eq!(
        quantities(&sandbox, "90011"),
        vec![("7001".into(), 240), ("7002".into(), 0)]
    );
}

#[tokio::test]
async fn takes_a_single_warehouse_sku_without_warehouse_id() {
    let sandbox = start(fixture()).await;
    let (_, _, body) = update(
        "9001",
        json!([{"id": "90012", "inventory": [{"quantity": 8}]}]),
    )
    .send(&sandbox)
    .await;
    assert_eq!(body["code"], 0);
    assert_eq!(quantities(&sandbox, "90012"), vec![("7001".into(), 8)]);
}

#[tokio::test]
async fn rejects_write_that_leaves_out_a_warehouse() {
    let sandbox = start(fixture()).await;
    let skus = json!([{"id": "90011", "inventory": [{"warehouse_id": "7001", "quantity": 5}]}]);
    let (_, _, body) = update("9001", skus).send(&sandbox).await;
    assert_eq!(only_error(&body), ("90011", 12019028, "7002"));
    assert_eq!(
        quantities(&sandbox, "90011"),
        vec![("7001".into(), 0), ("7002".into(), 0)]
    );
}

#[tokio::test]
async fn rejects_an_unknown_warehouse_with_12052097() {
    let sandbox = start(fixture()).await;
    let skus = json!([{"id": "90012", "inventory": [{"warehouse_id": "7001", "quantity": 1},
                                                     {"warehouse_id": "6666", "quantity": 1}]}]);
    let (_, _, body) = update("9001", skus).send(&sandbox).await;
    assert_eq!(only_error(&body), ("90012", 12052097, "6666"));
}

#[tokio::test]
async fn rejects_a_return_warehouse_with_12052532() {
    let sandbox = start(fixture()).await;
    let skus = json!([{"id": "90012", "inventory": [{"warehouse_id": "7001", "quantity": 1},
                                                     {"warehouse_id": "7003", "quantity": 1}]}]);
    let (_, _, body) = update("9001", skus).send(&sandbox).await;
    assert_eq!(only_error(&body), ("90012", 12052532, "7003"));
}

#[tokio::test]
async fn rejects_a_disabled_warehouse_with_12052531() {
    let sandbox = start(fixture()).await;
    let skus = json!([{"id": "90012", "inventory": [{"warehouse_id": "7001", "quantity": 1},
                                                     {"warehouse_id": "7004", "quantity": 1}]}]);
    let (_, _, body) = update("9001", skus).send(&sandbox).await;
    assert_eq!(only_error(&body), ("90012", 12052531, "7004"));
}

#[tokio::test]
async fn rejects_adding_a_warehouse_the_sku_does_not_have_with_12052533() {
    let sandbox = start(fixture()).await;
    let skus = json!([{"id": "90012", "inventory": [{"warehouse_id": "7001", "quantity": 1},
                                                     {"warehouse_id": "7002", "quantity": 1}]}]);
    let (_, _, body) = update("9001", skus).send(&sandbox).await;
    assert_eq!(only_error(&body), ("90012", 12052533, "7002"));
    assert_eq!(quantities(&sandbox, "90012"), vec![("7001".into(), 3)]);
}

#[tokio::test]
async fn rejects_quantities_outside_0_to_999999_with_12019024() {
    let sandbox = start(fixture()).await;
    for quantity in [-1, 1_000_000] {
        let skus =
            json!([{"id": "90012", "inventory": [{"warehouse_id": "7001", "quantity": quantity}]}]);
        let (_, _, body) = update("9001", skus).send(&sandbox).await;
        assert_eq!(
            only_error(&body),
            ("90012", 12019024, "7001"),
            "quantity {quantity}"
        );
    }
    let skus =
        json!([{"id": "90012", "inventory": [{"warehouse_id": "7001", "quantity": 999_999}]}]);
    let (_, _, body) = update("9001", skus).send(&sandbox).await;
    assert_eq!(body["data"].get("errors"), None);
}

#[tokio::test]
async fn rejects_a_sku_of_another_product_with_12052557() {
    let sandbox = start(fixture()).await;
    let skus = json!([{"id": "90021", "inventory": [{"warehouse_id": "7001", "quantity": 1}]}]);
    let (_, _, body) = update("9001", skus).send(&sandbox).await;
    assert_eq!(only_error(&body).0, "90021");
    assert_eq!(only_error(&body).1, 12052557);
}

#[tokio::test]
async fn answers_12019150_for_an_unknown_product() {
    let sandbox = start(fixture()).await;
    let skus = json!([{"id": "1", "inventory": [{"warehouse_id": "7001", "quantity": 1}]}]);
    let (_, _, body) = update("424242", skus).send(&sandbox).await;
    assert_eq!(body["code"], 12019150);
    assert_eq!(
        sandbox
            .stats()
            .count("tiktok", "inventory_update", "rejected"),
        1
    );
}

#[tokio::test]
async fn applies_valid_skus_and_reports_failed_ones_in_the_same_call() {
    let sandbox = start(fixture()).await;
    let skus = json!([
        {"id": "90011", "inventory": [{"warehouse_id": "7001", "quantity": 9}]},
        {"id": "90012", "inventory": [{"warehouse_id": "7001", "quantity": 4}]},
    ]);
    let (_, _, body) = update("9001", skus).send(&sandbox).await;
    assert_eq!(only_error(&body).0, "90011");
    assert_eq!(quantities(&sandbox, "90012"), vec![("7001".into(), 4)]);
    assert_eq!(
        quantities(&sandbox, "90011"),
        vec![("7001".into(), 0), ("7002".into(), 0)]
    );

    let stats = sandbox.stats();
    assert_eq!(
        stats.count("tiktok", "inventory_update", "partial_failure"),
        1
    );
    assert_eq!(stats.inventory_updates.calls, 1);
    assert_eq!(stats.inventory_updates.sku_writes, 1);
    assert_eq!(stats.inventory_updates.sku_failures, 1);
    assert_eq!(stats.inventory_updates.per_sku.get("90012"), Some(&1));
}

#[tokio::test]
async fn counts_writes_per_sku_and_resets_the_stats() {
    let sandbox = start(fixture()).await;
    for quantity in [1, 2] {
        let skus =
            json!([{"id": "90012", "inventory": [{"warehouse_id": "7001", "quantity": quantity}]}]);
        update("9001", skus).send(&sandbox).await;
    }
    let stats = crate::support::get_json(&sandbox, "/_sandbox/stats").await;
    assert_eq!(stats["tiktok"]["inventory_update"]["ok"], 2);
    assert_eq!(stats["inventory_updates"]["per_sku"]["90012"], 2);
    control(&sandbox, "stats/reset", json!({})).await;
    assert_eq!(sandbox.stats().inventory_updates.calls, 0);
}

#[tokio::test]
async fn takes_a_hand_edit_from_seller_center() {
    let sandbox = start(fixture()).await;
    let (status, _) = control(
        &sandbox,
        "tiktok/skus/90011",
        json!({"warehouse_id": "7002", "quantity": 17}),
    )
    .await;
    assert!(status.is_success());
    let (_, _, body) = TikTokCall::post(
        "/product/202309/inventory/search",
        json!({"sku_ids": ["90011"]}),
    )
    .send(&sandbox)
    .await;
    assert_eq!(
        body["data"]["inventory"][0]["skus"][0]["total_available_quantity"],
        17
    );
    assert_eq!(sandbox.stats().webhooks.events, 0);
}
