//! The exact requests the sink sends and how it reads rare answers, against wiremock.

mod answers;
mod gate;
mod tokens;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use stockbridge_adapters_tiktok::signing::sign;
use stockbridge_adapters_tiktok::{TikTokConfig, TikTokSink, EMPTY_WRITE};
use stockbridge_domain::{
    ProductId, ProductWrite, Quantity, SkuId, SkuWrite, WarehouseId, WarehouseOutcome,
    WarehouseStock,
};
use stockbridge_ports::{InventorySink, Secret, SinkError};
use wiremock::matchers::{body_string, body_string_contains, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const APP_SECRET: &str = "wiremock-app-secret";
const ACCESS_TOKEN: &str = "wiremock-access-token";
const REFRESH_TOKEN: &str = "wiremock-refresh-token";
const UPDATE_PATH: &str = "/product/202309/products/9001/inventory/update";

fn config(server: &MockServer) -> TikTokConfig {
    let mut config = TikTokConfig::new(
        "test-app-key",
        Secret::new(APP_SECRET),
        Secret::new(ACCESS_TOKEN),
    );
    config.refresh_token = Some(Secret::new(REFRESH_TOKEN));
    config.shop_cipher = Some("CIPHER_1".into());
    config.base_url = server.uri();
    config.auth_base_url = server.uri();
    config.requests_per_second = 100.0;
    config.retry.base_delay = Duration::from_millis(10);
    config.retry.max_delay = Duration::from_secs(2);
    config.retry.max_attempts = 4;
    config.retry.max_throttled = 3;
    config
}

fn sink(server: &MockServer) -> TikTokSink {
    config(server).build().unwrap()
}

fn ok(data: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"code": 0, "message": "Success", "request_id": "r", "data": data}))
}

fn fail(status: u16, code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"code": code, "message": message, "request_id": "r"}))
}

fn write() -> ProductWrite {
    let stock = |w: &str, q: i64| WarehouseStock {
        warehouse: WarehouseId::new(w).unwrap(),
        quantity: Quantity::new(q).unwrap(),
    };
    ProductWrite {
        product_id: ProductId::new("9001").unwrap(),
        skus: vec![
            SkuWrite {
                sku_id: SkuId::new("90011").unwrap(),
                stock: vec![stock("7001", 12), stock("7002", 4)],
            },
            SkuWrite {
                sku_id: SkuId::new("90012").unwrap(),
                stock: vec![stock("7001", 3)],
            },
        ],
    }
}

fn query(request: &Request) -> Vec<(String, String)> {
    request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param(request: &Request, key: &str) -> Option<String> {
    query(request)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// The signature the server expects for the request it received.
fn expected_sign(request: &Request) -> String {
    let pairs = query(request);
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    sign(APP_SECRET, request.url.path(), &borrowed, &request.body)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn signs_the_exact_query_and_body_it_sends() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(UPDATE_PATH))
        .respond_with(ok(json!({})))
        .mount(&server)
        .await;

    let outcomes = sink(&server).apply(&write()).await.unwrap();
    assert_eq!(outcomes.len(), 3);
    assert!(outcomes.iter().all(|o| o.is_applied()));

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        String::from_utf8(request.body.clone()).unwrap(),
        r#"{"skus":[{"id":"90011","inventory":[{"warehouse_id":"7001","quantity":12},{"warehouse_id":"7002","quantity":4}]},{"id":"90012","inventory":[{"warehouse_id":"7001","quantity":3}]}]}"#
    );
    assert_eq!(param(request, "app_key").as_deref(), Some("test-app-key"));
    assert_eq!(param(request, "shop_cipher").as_deref(), Some("CIPHER_1"));
    assert_eq!(
        param(request, "access_token"),
        None,
        "the token travels in a header only"
    );
    let timestamp: u64 = param(request, "timestamp").unwrap().parse().unwrap();
    assert!(
        timestamp.abs_diff(now()) < 60,
        "a 10-digit Unix timestamp in seconds"
    );
    let sent = param(request, "sign").unwrap();
    assert_eq!(sent, expected_sign(request));
    assert_eq!(
        request.headers.get("x-tts-access-token").unwrap(),
        ACCESS_TOKEN
    );
    assert_eq!(
        request.headers.get("content-type").unwrap(),
        "application/json"
    );
}

#[tokio::test]
async fn looks_up_the_only_shop_and_sends_no_cipher_to_authorization() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/authorization/202309/shops"))
        .respond_with(ok(json!({"shops": [{"id": "1", "name": "Demo", "region": "GB", "cipher": "LOOKED_UP", "code": "X"}]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/logistics/202309/warehouses"))
        .and(query_param("shop_cipher", "LOOKED_UP"))
        .respond_with(ok(json!({"warehouses": [
            {"id": "7001", "name": "Main", "effect_status": "ENABLED", "type": "SALES_WAREHOUSE", "is_default": true},
            {"id": "7003", "name": "Returns", "effect_status": "ENABLED", "type": "RETURN_WAREHOUSE", "is_default": false}]})))
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.shop_cipher = None;
    let sink = config.build().unwrap();

    let health = sink.health_check().await.unwrap();
    assert_eq!(health.shop_cipher, "LOOKED_UP");
    assert_eq!((health.warehouses, health.target_warehouses), (2, 1));
    assert_eq!(
        sink.warehouses().await.unwrap().len(),
        2,
        "the cipher is looked up once"
    );

    let requests = server.received_requests().await.unwrap();
    let shops = requests
        .iter()
        .find(|r| r.url.path() == "/authorization/202309/shops")
        .unwrap();
    assert_eq!(param(shops, "shop_cipher"), None);
    for request in &requests {
        assert_eq!(param(request, "sign").unwrap(), expected_sign(request));
    }
}

#[tokio::test]
async fn several_shops_and_no_cipher_is_an_error_naming_them() {
    let server = MockServer::start().await;
    Mock::given(path("/authorization/202309/shops"))
        .respond_with(ok(json!({"shops": [
            {"name": "UK shop", "region": "GB", "cipher": "GB_CIPHER"},
            {"name": "US shop", "region": "US", "cipher": "US_CIPHER"}]})))
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.shop_cipher = None;
    let err = config.build().unwrap().warehouses().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("GB_CIPHER") && text.contains("US_CIPHER") && text.contains("shop_cipher"),
        "{text}"
    );
}

#[tokio::test]
async fn refusals_inside_a_success_answer_are_per_warehouse_outcomes() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(ok(json!({"errors": [{"code": 12052990, "message": "Check failed",
            "detail": {"sku_id": "90011", "extra_errors": [
                {"warehouse_id": "7002", "code": 12052097, "message": "The warehouse does not exist"}]}}]})))
        .mount(&server)
        .await;
    let outcomes = sink(&server).apply(&write()).await.unwrap();
    let refused: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match &o.outcome {
            WarehouseOutcome::Rejected { code, .. } => {
                Some((o.sku_id.as_str(), o.warehouse.as_str(), code.as_str()))
            }
            WarehouseOutcome::Applied => None,
        })
        .collect();
    assert_eq!(
        refused,
        vec![("90011", "7001", "12052990"), ("90011", "7002", "12052097")],
        "the named warehouse with its code, the SKU's other warehouse as not applied"
    );
    let applied: Vec<_> = outcomes.iter().filter(|o| o.is_applied()).collect();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].sku_id.as_str(), "90012");
}

#[tokio::test]
async fn an_unknown_product_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(fail(200, 12_019_150, "product not exist"))
        .mount(&server)
        .await;
    let err = sink(&server).apply(&write()).await.unwrap_err();
    assert!(matches!(err, SinkError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn an_empty_write_is_refused_without_calling() {
    let server = MockServer::start().await;
    let mut empty = write();
    empty.skus.clear();
    match sink(&server).apply(&empty).await {
        Err(SinkError::Rejected { code, .. }) => assert_eq!(code, EMPTY_WRITE),
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn product_search_falls_back_to_202309_when_202502_is_missing() {
    let server = MockServer::start().await;
    Mock::given(path("/product/202502/products/search"))
        .respond_with(fail(404, 36_009_009, "path not found"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/product/202309/products/search"))
        .respond_with(ok(json!({"products": [{"id": "9001", "skus": [
            {"id": "90011", "seller_sku": "TEE", "inventory": [{"warehouse_id": "7001", "quantity": 5}]}]}],
            "next_page_token": "", "total_count": 1})))
        .expect(2)
        .mount(&server)
        .await;
    let sink = sink(&server);
    assert_eq!(sink.all_skus().await.unwrap().len(), 1);
    assert_eq!(
        sink.all_skus().await.unwrap()[0].seller_sku,
        "TEE",
        "remembers the fallback"
    );
}

#[tokio::test]
async fn a_search_matching_more_than_10000_products_is_read_in_update_time_windows() {
    let server = MockServer::start().await;
    let product = |id: &str| {
        json!({"id": id, "skus": [{"id": format!("{id}1"), "seller_sku": id,
            "inventory": [{"warehouse_id": "7001", "quantity": 1}]}]})
    };
    let search = "/product/202502/products/search";
    Mock::given(path(search))
        .and(body_string("{}"))
        .respond_with(ok(
            json!({"products": [product("1")], "next_page_token": "more",
            "total_count": 12_000}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(search))
        .and(body_string_contains("update_time_le"))
        .respond_with(ok(
            json!({"products": [product("1")], "next_page_token": "", "total_count": 1}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(search))
        .and(body_string_contains("update_time_ge"))
        .respond_with(ok(
            json!({"products": [product("2")], "next_page_token": "", "total_count": 1}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let all = sink(&server).all_skus().await.unwrap();

    let products: Vec<&str> = all.iter().map(|s| s.product_id.as_str()).collect();
    assert_eq!(products, vec!["1", "2"], "the older window, then the newer");
    let bodies: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8(r.body.clone()).unwrap())
        .collect();
    assert!(
        bodies[1].starts_with(r#"{"update_time_le":"#)
            && bodies[2].starts_with(r#"{"update_time_ge":"#),
        "{bodies:?}"
    );
}
