//! Refusals inside a `code: 0` answer, as the emulator makes them.

use serde_json::json;
use stockbridge_domain::WarehouseOutcome;
use stockbridge_ports::InventorySink;
use stockbridge_sandbox::SandboxOptions;

use super::{config, held, start, stock, write};

#[tokio::test]
async fn a_sku_with_one_refused_warehouse_is_reported_not_applied_in_every_warehouse() {
    let fixture = json!({"tiktok": {
        "warehouses": [{"id": "7001", "name": "Main", "is_default": true},
                       {"id": "7004", "name": "Paused", "effect_status": "DISABLED"}],
        "products": [{"id": "600", "skus": [
            {"id": "601", "seller_sku": "TWO-WH",
             "inventory": [{"warehouse_id": "7001", "quantity": 3}, {"warehouse_id": "7004", "quantity": 2}]},
            {"id": "602", "seller_sku": "ONE-WH",
             "inventory": [{"warehouse_id": "7001", "quantity": 1}]}]}]}});
    let sandbox = start(fixture, SandboxOptions::default()).await;
    let sink = config(&sandbox).build().unwrap();

    let outcomes = sink
        .apply(&write(
            "600",
            vec![
                ("601", vec![stock("7001", 40), stock("7004", 5)]),
                ("602", vec![stock("7001", 8)]),
            ],
        ))
        .await
        .unwrap();

    let of = |sku: &str, warehouse: &str| {
        outcomes
            .iter()
            .find(|o| o.sku_id.as_str() == sku && o.warehouse.as_str() == warehouse)
            .map(|o| o.outcome.clone())
            .unwrap()
    };
    match of("601", "7004") {
        WarehouseOutcome::Rejected { code, .. } => assert_eq!(code, "12052531", "its own code"),
        other => panic!("the disabled warehouse was refused: {other:?}"),
    }
    match of("601", "7001") {
        WarehouseOutcome::Rejected { message, .. } => {
            assert!(message.contains("not applied"), "{message}")
        }
        other => panic!("the SKU's other warehouse was not applied either: {other:?}"),
    }
    assert_eq!(of("602", "7001"), WarehouseOutcome::Applied);
    assert_eq!(
        held(&sandbox, "601", "7001"),
        Some(3),
        "TikTok kept 601 as it was"
    );
    assert_eq!(
        held(&sandbox, "601", "7004"),
        Some(2),
        "TikTok kept 601 as it was"
    );
    assert_eq!(
        held(&sandbox, "602", "7001"),
        Some(8),
        "the other SKU was applied"
    );
    sandbox.shutdown().await;
}
