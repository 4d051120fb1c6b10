//! The bulk export path against wiremock: Auto mode choosing it by count, polling, the
//! download (without the token), and refusals.

use std::time::Duration;

use serde_json::json;
use stockbridge_adapters_shopify::{ReadMode, RetryPolicy, ShopifyConfig};
use stockbridge_domain::{InventoryPolicy, ProductStatus};
use stockbridge_ports::{InventorySource, Secret, SourceError};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "shpat_bulk_test";

fn config(server: &MockServer) -> ShopifyConfig {
    let mut config = ShopifyConfig::new("bulk.myshopify.com", Secret::new(TOKEN));
    config.base_url = Some(server.uri());
    config.bulk_poll_interval = Duration::from_millis(5);
    config.bulk_threshold = 10_000;
    config.retry = RetryPolicy {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    };
    config
}

fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

async fn mount_export(server: &MockServer) {
    mount_export_answering(server, ResponseTemplate::new(200), 1).await;
}

/// An export that runs, completes and serves its file through `download` (the body is set
/// here), which is expected `downloads` times.
async fn mount_export_answering(server: &MockServer, download: ResponseTemplate, downloads: u64) {
    Mock::given(method("POST"))
        .and(body_string_contains("bulkOperationRunQuery"))
        .respond_with(ok(json!({"data": {"bulkOperationRunQuery": {
            "bulkOperation": {"id": "gid://shopify/BulkOperation/1", "status": "CREATED"}, "userErrors": []}}})))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("BulkExportStatus"))
        .respond_with(ok(
            json!({"data": {"node": {"id": "gid://shopify/BulkOperation/1", "status": "RUNNING",
            "errorCode": null, "url": null, "objectCount": "0"}}}),
        ))
        .up_to_n_times(2)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("BulkExportStatus"))
        .respond_with(ok(json!({"data": {"node": {"id": "gid://shopify/BulkOperation/1", "status": "COMPLETED",
            "errorCode": null, "url": format!("{}/exports/1.jsonl", server.uri()), "objectCount": "3"}}})))
        .mount(server)
        .await;
    let jsonl = [
        r#"{"id":"gid://shopify/InventoryLevel/5?inventory_item_id=9","location":{"id":"gid://shopify/Location/5"},"quantities":[{"name":"available","quantity":4}],"__parentId":"gid://shopify/ProductVariant/1"}"#,
        r#"{"id":"gid://shopify/ProductVariant/1","sku":"A-1","inventoryPolicy":"CONTINUE","requiresComponents":false,"product":{"id":"gid://shopify/Product/3","status":"UNLISTED"},"inventoryItem":{"id":"gid://shopify/InventoryItem/9","tracked":true}}"#,
        r#"{"id":"gid://shopify/InventoryLevel/2?inventory_item_id=9","location":{"id":"gid://shopify/Location/2"},"quantities":[{"name":"available","quantity":-1}],"__parentId":"gid://shopify/ProductVariant/1"}"#,
    ]
    .join("\n");
    Mock::given(method("GET"))
        .and(path("/exports/1.jsonl"))
        .respond_with(download.set_body_string(jsonl))
        .expect(downloads)
        .mount(server)
        .await;
}

#[tokio::test]
async fn auto_mode_exports_when_the_count_exceeds_the_threshold() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("productVariantsCount"))
        .respond_with(ok(
            json!({"data": {"productVariantsCount": {"count": 10000, "precision": "AT_LEAST"}}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    mount_export(&server).await;
    let variants = config(&server)
        .build()
        .unwrap()
        .all_variants()
        .await
        .unwrap();
    assert_eq!(variants.len(), 1);
    let v = &variants[0];
    assert_eq!((v.variant_id.get(), v.inventory_item_id.get()), (1, 9));
    assert_eq!(
        (v.policy, v.product_status),
        (InventoryPolicy::Continue, ProductStatus::Unlisted)
    );
    let levels: Vec<(u64, i64)> = v
        .levels
        .iter()
        .map(|l| (l.location.get(), l.available))
        .collect();
    assert_eq!(levels, vec![(2, -1), (5, 4)]);

    let requests = server.received_requests().await.unwrap();
    let download = requests
        .iter()
        .find(|r| r.method.as_str() == "GET")
        .unwrap();
    assert!(
        !download.headers.contains_key("x-shopify-access-token"),
        "the token must not travel to the export's signed URL"
    );
}

#[tokio::test]
async fn auto_mode_reads_by_pages_under_the_threshold() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("productVariantsCount"))
        .respond_with(ok(
            json!({"data": {"productVariantsCount": {"count": 1, "precision": "EXACT"}}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("VariantsPage"))
        .respond_with(ok(json!({"data": {"productVariants": {"nodes": [], "pageInfo": {"hasNextPage": false, "endCursor": null}}}})))
        .expect(1)
        .mount(&server)
        .await;
    assert!(config(&server)
        .build()
        .unwrap()
        .all_variants()
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_refused_export_is_rejected_with_shopifys_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("bulkOperationRunQuery"))
        .respond_with(ok(json!({"data": {"bulkOperationRunQuery": {"bulkOperation": null,
            "userErrors": [{"field": ["query"], "message": "Invalid bulk query: Field 'orders' doesn't exist", "code": "INVALID"}]}}})))
        .expect(1)
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.read_mode = ReadMode::Bulk;
    match config.build().unwrap().all_variants().await.unwrap_err() {
        SourceError::Rejected { code, .. } => assert_eq!(code, "INVALID"),
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_failed_export_is_transient_when_shopify_failed_internally() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("bulkOperationRunQuery"))
        .respond_with(ok(json!({"data": {"bulkOperationRunQuery": {
            "bulkOperation": {"id": "gid://shopify/BulkOperation/2", "status": "CREATED"}, "userErrors": []}}})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("BulkExportStatus"))
        .respond_with(ok(
            json!({"data": {"node": {"id": "gid://shopify/BulkOperation/2", "status": "FAILED",
            "errorCode": "INTERNAL_SERVER_ERROR", "url": null, "objectCount": "0"}}}),
        ))
        .mount(&server)
        .await;
    let err = config(&server)
        .build()
        .unwrap()
        .all_variants_bulk()
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Transient { .. }), "{err:?}");
}

#[tokio::test]
async fn a_download_slower_than_the_request_timeout_still_completes() {
    let server = MockServer::start().await;
    // The file answers after 400 ms: twice the GraphQL request limit, well within the idle
    // limit of downloads. Bound by the request limit, every attempt would time out.
    mount_export_answering(
        &server,
        ResponseTemplate::new(200).set_delay(Duration::from_millis(400)),
        1,
    )
    .await;
    let mut config = config(&server);
    config.read_mode = ReadMode::Bulk;
    config.request_timeout = Duration::from_millis(200);
    config.download_read_timeout = Duration::from_secs(1);
    let variants = config.build().unwrap().all_variants().await.unwrap();
    assert_eq!(variants.len(), 1);
    assert_eq!(variants[0].levels.len(), 2);
}

#[tokio::test]
async fn a_stalled_download_times_out_by_its_idle_limit() {
    let server = MockServer::start().await;
    mount_export_answering(
        &server,
        ResponseTemplate::new(200).set_delay(Duration::from_secs(2)),
        2,
    )
    .await;
    let mut config = config(&server);
    config.read_mode = ReadMode::Bulk;
    config.download_read_timeout = Duration::from_millis(150);
    config.retry.max_attempts = 2;
    match config.build().unwrap().all_variants().await.unwrap_err() {
        SourceError::Transient { message } => assert!(message.contains("timed out"), "{message}"),
        other => panic!("expected Transient, got {other:?}"),
    }
}
