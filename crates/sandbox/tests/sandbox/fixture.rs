use serde_json::json;
use stockbridge_sandbox::{
    credentials, Fixture, FixtureError, InventoryPolicy, ProductStatus, TikTokProductStatus,
    WarehouseStatus, WarehouseType,
};

use crate::support::{control, fixture, get_json, start, FIXTURE};

#[test]
fn fills_defaults_for_left_out_keys() {
    let f = fixture();
    assert!(f.shopify.locations[1].active);
    let variant = &f.shopify.variants[1];
    assert!(variant.tracked);
    assert_eq!(variant.inventory_policy, InventoryPolicy::Deny);
    assert_eq!(variant.product_status, ProductStatus::Active);
    let warehouse = &f.tiktok.warehouses[1];
    assert!(!warehouse.is_default);
    assert_eq!(warehouse.kind, WarehouseType::SalesWarehouse);
    assert_eq!(warehouse.effect_status, WarehouseStatus::Enabled);
    assert_eq!(f.tiktok.products[0].status, TikTokProductStatus::Activate);
    assert_eq!(f.credentials.shop_domain, credentials::SHOP_DOMAIN);
    assert_eq!(
        f.credentials.tiktok_shop_cipher,
        credentials::TIKTOK_SHOP_CIPHER
    );
}

#[test]
fn accepts_an_empty_object_as_two_empty_stores() {
    let f = Fixture::from_json("{}").unwrap();
    assert!(f.shopify.variants.is_empty() && f.tiktok.products.is_empty());
}

#[test]
fn rejects_an_unknown_key_naming_it_and_its_path() {
    let text = r#"{"shopify": {"variants": [{"id": 1, "product_id": 1, "inventory_item_id": 1, "trackd": false}]}}"#;
    let err = Fixture::from_json(text).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, FixtureError::Format { .. }));
    assert!(message.contains("trackd"), "{message}");
    assert!(message.contains("shopify.variants[0]"), "{message}");
}

#[test]
fn rejects_an_unknown_top_level_key() {
    let message = Fixture::from_json(r#"{"shopfy": {}}"#)
        .unwrap_err()
        .to_string();
    assert!(message.contains("shopfy"), "{message}");
}

#[test]
fn rejects_a_bad_enum_value_naming_it() {
    let text = r#"{"tiktok": {"warehouses": [{"id": "1", "name": "x", "effect_status": "ON"}]}}"#;
    let message = Fixture::from_json(text).unwrap_err().to_string();
    assert!(
        message.contains("ON") && message.contains("tiktok.warehouses[0].effect_status"),
        "{message}"
    );
}

#[test]
fn rejects_a_level_at_an_unknown_location() {
    let text = r#"{"shopify": {"variants": [{"id": 1, "product_id": 1, "inventory_item_id": 1,
                   "levels": [{"location_id": 9, "available": 1}]}]}}"#;
    let err = Fixture::from_json(text).unwrap_err();
    assert!(matches!(err, FixtureError::Invalid { .. }));
    assert_eq!(
        err.to_string(),
        "fixture key `shopify.variants[0].levels[0].location_id`: unknown location 9"
    );
}

#[test]
fn rejects_inventory_in_an_unknown_warehouse() {
    let text = r#"{"tiktok": {"products": [{"id": "1", "skus": [{"id": "2", "seller_sku": "A",
                   "inventory": [{"warehouse_id": "404", "quantity": 1}]}]}]}}"#;
    let message = Fixture::from_json(text).unwrap_err().to_string();
    assert!(
        message.contains("tiktok.products[0].skus[0].inventory[0].warehouse_id"),
        "{message}"
    );
}

#[test]
fn rejects_a_duplicate_variant_id() {
    let text = r#"{"shopify": {"variants": [{"id": 1, "product_id": 1, "inventory_item_id": 1},
                                             {"id": 1, "product_id": 1, "inventory_item_id": 2}]}}"#;
    let message = Fixture::from_json(text).unwrap_err().to_string();
    assert!(
        message.contains("shopify.variants[1].id") && message.contains("duplicate"),
        "{message}"
    );
}

#[test]
fn replaces_only_the_credentials_it_names() {
    let f = Fixture::from_json(r#"{"credentials": {"tiktok_app_key": "mine"}}"#).unwrap();
    assert_eq!(f.credentials.tiktok_app_key, "mine");
    assert_eq!(
        f.credentials.tiktok_app_secret,
        credentials::TIKTOK_APP_SECRET
    );
}

#[test]
fn loads_a_fixture_file_and_names_a_missing_one() {
    let path = std::env::temp_dir().join(format!("sandbox-fixture-{}.json", std::process::id()));
    std::fs::write(&path, FIXTURE).unwrap();
    assert_eq!(Fixture::load(&path).unwrap(), fixture());
    std::fs::remove_file(&path).unwrap();
    let err = Fixture::load(&path).unwrap_err();
    assert!(matches!(err, FixtureError::Read { .. }));
}

#[test]
fn writes_every_default_out_and_reads_back_the_same() {
    let f = fixture();
    let text = f.to_json_pretty();
    assert!(text.contains("\"effect_status\": \"ENABLED\""));
    assert_eq!(Fixture::from_json(&text).unwrap(), f);
}

#[test]
fn keeps_secrets_out_of_the_state_dump() {
    let text = r#"{"credentials": {"shop_domain": "x.myshopify.com", "tiktok_app_secret": "s3cret",
                   "shopify_access_token": "shpat_s3cret"}}"#;
    let dump = Fixture::from_json(text).unwrap().to_json_pretty();
    assert!(dump.contains("x.myshopify.com"));
    assert!(!dump.contains("s3cret"), "{dump}");
}

#[tokio::test]
async fn reports_current_quantities_in_a_state_that_round_trips() {
    let sandbox = start(fixture()).await;
    control(
        &sandbox,
        "shopify/inventory_levels",
        json!({"inventory_item_id": 1002, "location_id": 2, "available": 7}),
    )
    .await;
    control(&sandbox, "tiktok/skus/90012", json!({"quantity": 11})).await;
    let state = sandbox.state();
    let over_http = get_json(&sandbox, "/_sandbox/state").await;
    let reread = Fixture::from_json(&over_http.to_string()).unwrap();
    assert_eq!(reread, state);
    assert_eq!(Fixture::from_json(&state.to_json_pretty()).unwrap(), state);
    let levels = &state.shopify.variants[1].levels;
    assert_eq!(
        levels
            .iter()
            .find(|l| l.location_id == 2)
            .unwrap()
            .available,
        7
    );
    assert_eq!(state.tiktok.products[0].skus[1].inventory[0].quantity, 11);
    sandbox.shutdown().await;
}

/// The `Invalid` error of a fixture with one warehouse "7001" and one product.
fn tiktok_error(warehouse_id: &str, product_id: &str, sku_id: &str, quantity: i64) -> FixtureError {
    let text = json!({"tiktok": {
        "warehouses": [{"id": warehouse_id, "name": "α"}],
        "products": [{"id": product_id, "skus": [{"id": sku_id, "seller_sku": "A",
                      "inventory": [{"warehouse_id": warehouse_id, "quantity": quantity}]}]}]}});
    Fixture::from_json(&text.to_string()).unwrap_err()
}

#[test]
fn rejects_a_tiktok_quantity_below_0_or_above_999999_naming_path_value_and_range() {
    for quantity in [-5, 1_000_000, 5_000_000] {
        let err = tiktok_error("7001", "1", "2", quantity);
        assert!(matches!(err, FixtureError::Invalid { .. }));
        assert_eq!(
            err.to_string(),
            format!("fixture key `tiktok.products[0].skus[0].inventory[0].quantity`: quantity is {quantity}; allowed: 0 to 999999")
        );
    }
}

#[test]
fn accepts_tiktok_quantities_0_and_999999() {
    for quantity in [0, 999_999] {
        let text = json!({"tiktok": {
            "warehouses": [{"id": "7001", "name": "α"}],
            "products": [{"id": "1", "skus": [{"id": "2",
                          "inventory": [{"warehouse_id": "7001", "quantity": quantity}]}]}]}});
        let f = Fixture::from_json(&text.to_string()).unwrap();
        assert_eq!(f.tiktok.products[0].skus[0].inventory[0].quantity, quantity);
    }
}

#[test]
fn rejects_empty_tiktok_warehouse_product_and_sku_ids_naming_the_path() {
    for (err, path) in [
        (tiktok_error("", "1", "2", 1), "tiktok.warehouses[0].id"),
        (tiktok_error("7001", "", "2", 1), "tiktok.products[0].id"),
        (
            tiktok_error("7001", "1", "", 1),
            "tiktok.products[0].skus[0].id",
        ),
    ] {
        assert!(matches!(err, FixtureError::Invalid { .. }), "{path}");
        assert_eq!(
            err.to_string(),
            format!("fixture key `{path}`: id is \"\"; allowed: a non-empty string")
        );
    }
}
