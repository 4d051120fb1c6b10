//! A bulk read that meets a shop already running as many bulk operations as it allows, or an
//! export that fails on Shopify's side: against the sandbox over real HTTP, and wiremock for
//! the exact refusal codes and the timeout.

use std::time::Duration;

use serde_json::{json, Value};
use stockbridge_adapters_shopify::{ReadMode, RetryPolicy, ShopifyConfig};
use stockbridge_ports::{InventorySource, Secret, SourceError};
use stockbridge_sandbox::{ApiFaults, Faults, Fixture, RunningSandbox, Sandbox, SandboxOptions};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Two variants over two locations.
const FIXTURE: &str = r#"{"shopify": {
  "locations": [{"id": 1, "name": "A"}, {"id": 2, "name": "B"}],
  "variants": [{"id": 101, "product_id": 10, "sku": "TEE", "inventory_item_id": 1001,
                "levels": [{"location_id": 1, "available": 7}, {"location_id": 2, "available": 3}]},
               {"id": 102, "product_id": 10, "sku": "MUG", "inventory_item_id": 1002,
                "levels": [{"location_id": 2, "available": 4}]}]}}"#;

async fn sandbox(bulk_delay: Duration) -> RunningSandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let options = SandboxOptions {
        bulk_delay,
        ..SandboxOptions::default()
    };
    Sandbox::start(Fixture::from_json(FIXTURE).unwrap(), listener, options)
        .await
        .unwrap()
}

fn retry() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

fn sandbox_config(sandbox: &RunningSandbox) -> ShopifyConfig {
    let credentials = sandbox.credentials();
    let mut config = ShopifyConfig::new(
        credentials.shop_domain.clone(),
        Secret::new(credentials.shopify_access_token.clone()),
    );
    config.base_url = Some(sandbox.base_url());
    config.read_mode = ReadMode::Bulk;
    config.bulk_poll_interval = Duration::from_millis(20);
    config.bulk_timeout = Duration::from_secs(20);
    config.retry = retry();
    config
}

/// `(sku, [(location, available)])` of every variant read.
fn stock(read: &[stockbridge_domain::VariantSnapshot]) -> Vec<(String, Vec<(u64, i64)>)> {
    read.iter()
        .map(|v| {
            let sku = v.sku.as_ref().map(|s| s.as_str().to_owned()).unwrap();
            let levels = v
                .levels
                .iter()
                .map(|l| (l.location.get(), l.available))
                .collect();
            (sku, levels)
        })
        .collect()
}

fn expected() -> Vec<(String, Vec<(u64, i64)>)> {
    vec![
        ("TEE".to_owned(), vec![(1, 7), (2, 3)]),
        ("MUG".to_owned(), vec![(2, 4)]),
    ]
}

/// Starts a bulk export the way another copy of the service (or one killed mid-export) did.
async fn stale_export(sandbox: &RunningSandbox) {
    let body = json!({
        "query": "mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id } userErrors { code } } }",
        "variables": {"q": "{ productVariants { edges { node { id } } } }"},
    });
    let answer: Value = reqwest::Client::new()
        .post(format!(
            "{}/admin/api/2026-10/graphql.json",
            sandbox.base_url()
        ))
        .header(
            "X-Shopify-Access-Token",
            &sandbox.credentials().shopify_access_token,
        )
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["data"]["bulkOperationRunQuery"]["userErrors"],
        json!([]),
        "{answer}"
    );
}

#[tokio::test]
async fn a_full_bulk_read_waits_for_five_stale_exports_to_finish_and_completes() {
    let sandbox = sandbox(Duration::from_millis(600)).await;
    for _ in 0..5 {
        stale_export(&sandbox).await;
    }
    let read = sandbox_config(&sandbox)
        .build()
        .unwrap()
        .all_variants()
        .await
        .unwrap();
    assert_eq!(stock(&read), expected());
    let stats = sandbox.stats();
    assert!(
        stats.count("shopify", "bulk_operation", "limit_reached") >= 1,
        "the read met the limit: {stats:?}"
    );
    assert_eq!(stats.count("shopify", "bulk_operation", "created"), 6);
    sandbox.shutdown().await;
}

fn failing_exports() -> Faults {
    Faults {
        shopify: Some(ApiFaults {
            error_rate: 1.0,
            endpoints: Some(vec!["bulk_operation".to_owned()]),
            ..ApiFaults::default()
        }),
        ..Faults::default()
    }
}

#[tokio::test]
async fn an_export_that_failed_on_shopifys_side_is_started_again_and_the_read_completes() {
    let sandbox = sandbox(Duration::from_millis(500)).await;
    sandbox.set_faults(failing_exports());
    let source = sandbox_config(&sandbox).build().unwrap();
    let read = tokio::spawn(async move { source.all_variants().await });
    // The first export is doomed; Shopify recovers before it ends FAILED.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while sandbox
        .stats()
        .count("shopify", "bulk_operation", "created")
        == 0
    {
        assert!(tokio::time::Instant::now() < deadline, "no export started");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    sandbox.set_faults(Faults::default());

    let read = read.await.unwrap().unwrap();
    assert_eq!(stock(&read), expected());
    let stats = sandbox.stats();
    assert_eq!(stats.count("shopify", "bulk_operation", "created"), 2);
    assert_eq!(stats.count("shopify", "bulk_download", "ok"), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_export_that_keeps_failing_is_transient_after_three_runs() {
    let sandbox = sandbox(Duration::from_millis(30)).await;
    sandbox.set_faults(failing_exports());
    let err = sandbox_config(&sandbox)
        .build()
        .unwrap()
        .all_variants()
        .await
        .unwrap_err();
    match err {
        SourceError::Transient { message } => {
            assert!(message.contains("INTERNAL_SERVER_ERROR"), "{message}");
            assert!(message.contains("failed 3 times"), "{message}");
        }
        other => panic!("expected Transient, got {other:?}"),
    }
    assert_eq!(
        sandbox
            .stats()
            .count("shopify", "bulk_operation", "created"),
        3
    );
    sandbox.shutdown().await;
}

fn wire_config(server: &MockServer) -> ShopifyConfig {
    let mut config = ShopifyConfig::new("bulk.myshopify.com", Secret::new("shpat_recovery"));
    config.base_url = Some(server.uri());
    config.read_mode = ReadMode::Bulk;
    config.bulk_poll_interval = Duration::from_millis(10);
    config.retry = retry();
    config
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn busy(code: &str, message: &str) -> ResponseTemplate {
    ok(
        json!({"data": {"bulkOperationRunQuery": {"bulkOperation": null,
        "userErrors": [{"field": null, "message": message, "code": code}]}}}),
    )
}

async fn starts(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains("bulkOperationRunQuery"))
        .count()
}

#[tokio::test]
async fn an_export_refused_as_in_progress_starts_once_the_other_operation_ends() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("bulkOperationRunQuery"))
        .respond_with(busy(
            "OPERATION_IN_PROGRESS",
            "A bulk query operation for this app and shop is already in progress: gid://shopify/BulkOperation/7.",
        ))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("bulkOperationRunQuery"))
        .respond_with(ok(json!({"data": {"bulkOperationRunQuery": {
            "bulkOperation": {"id": "gid://shopify/BulkOperation/8", "status": "CREATED"}, "userErrors": []}}})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("BulkExportStatus"))
        .respond_with(ok(
            json!({"data": {"node": {"id": "gid://shopify/BulkOperation/8",
            "status": "COMPLETED", "errorCode": null,
            "url": format!("{}/exports/8.jsonl", server.uri()), "objectCount": "1"}}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/exports/8.jsonl"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"id":"gid://shopify/ProductVariant/1","sku":"A-1","inventoryPolicy":"DENY","requiresComponents":false,"product":{"id":"gid://shopify/Product/3","status":"ACTIVE"},"inventoryItem":{"id":"gid://shopify/InventoryItem/9","tracked":true}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let read = wire_config(&server)
        .build()
        .unwrap()
        .all_variants()
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(starts(&server).await, 3);
}

#[tokio::test]
async fn a_limit_that_outlasts_the_bulk_timeout_is_transient_after_ever_longer_waits() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("bulkOperationRunQuery"))
        .respond_with(busy(
            "LIMIT_REACHED",
            "Bulk operations limit reached. Please try again later.",
        ))
        .mount(&server)
        .await;
    let mut config = wire_config(&server);
    config.bulk_timeout = Duration::from_millis(300);
    let err = config.build().unwrap().all_variants().await.unwrap_err();
    match err {
        SourceError::Transient { message } => {
            assert!(message.contains("LIMIT_REACHED"), "{message}");
            assert!(message.contains("no bulk export could start"), "{message}");
        }
        other => panic!("expected Transient, got {other:?}"),
    }
    // 10, 20, 40, 80, 160 ms: at most six tries in 300 ms; a fixed 10 ms would be thirty.
    let tries = starts(&server).await;
    assert!((2..=6).contains(&tries), "{tries} tries");
}
