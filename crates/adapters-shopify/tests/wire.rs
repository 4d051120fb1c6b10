//! Exact requests and rare answers, against wiremock: the token header and path, 429 with
//! Retry-After, 5xx, timeouts, malformed JSON, HTTP 200 carrying errors, THROTTLED bodies.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use stockbridge_adapters_shopify::{
    AnswerError, RetryPolicy, Scopes, ShopifyConfig, ShopifySource,
};
use stockbridge_ports::{InventorySource, Secret, SourceError};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PATH: &str = "/admin/api/2026-10/graphql.json";
const TOKEN: &str = "shpat_wire_test";

fn config(server: &MockServer) -> ShopifyConfig {
    let mut config = ShopifyConfig::new("wire.myshopify.com", Secret::new(TOKEN));
    config.base_url = Some(server.uri());
    config.request_timeout = Duration::from_millis(300);
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_throttled: 10,
        ..RetryPolicy::default()
    };
    config
}

fn source(server: &MockServer) -> ShopifySource {
    config(server).build().unwrap()
}

fn cost(requested: u64, available: u64) -> Value {
    json!({"cost": {"requestedQueryCost": requested, "actualQueryCost": requested,
        "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": available, "restoreRate": 100.0}}})
}

fn locations_answer() -> Value {
    json!({
        "data": {"locations": {
            "nodes": [{"id": "gid://shopify/Location/7", "name": "Depot", "isActive": false}],
            "pageInfo": {"hasNextPage": false, "endCursor": null}}},
        "extensions": cost(252, 990),
    })
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn sends_the_token_header_to_the_versioned_graphql_path() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .and(header("X-Shopify-Access-Token", TOKEN))
        .and(header("content-type", "application/json"))
        .and(body_string_contains("includeInactive: true"))
        .respond_with(ok(locations_answer()))
        .expect(1)
        .mount(&server)
        .await;
    let locations = source(&server).locations().await.unwrap();
    assert_eq!(locations.len(), 1);
    assert_eq!((locations[0].id.get(), locations[0].active), (7, false));
    assert_eq!(locations[0].name, "Depot");
}

#[tokio::test]
async fn retries_after_429_with_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok(locations_answer()))
        .mount(&server)
        .await;
    let started = Instant::now();
    let locations = source(&server).locations().await.unwrap();
    assert_eq!(locations.len(), 1);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "must wait what Retry-After said"
    );
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn retries_a_5xx_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream down"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok(locations_answer()))
        .mount(&server)
        .await;
    assert_eq!(source(&server).locations().await.unwrap().len(), 1);
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn gives_up_on_5xx_after_max_attempts_as_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let err = source(&server).locations().await.unwrap_err();
    assert!(matches!(err, SourceError::Transient { .. }), "{err:?}");
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn a_timeout_is_retried_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok(locations_answer()).set_delay(Duration::from_secs(5)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok(locations_answer()))
        .mount(&server)
        .await;
    assert_eq!(source(&server).locations().await.unwrap().len(), 1);
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn repeated_timeouts_end_as_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok(locations_answer()).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let err = source(&server).locations().await.unwrap_err();
    match err {
        SourceError::Transient { message } => assert!(message.contains("timed out"), "{message}"),
        other => panic!("expected Transient, got {other:?}"),
    }
}

#[tokio::test]
async fn malformed_json_is_an_error_not_a_panic_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("{\"data\": {\"locations\": [oops"),
        )
        .mount(&server)
        .await;
    let err = source(&server).locations().await.unwrap_err();
    match err {
        SourceError::Other(source) => assert!(source.downcast_ref::<AnswerError>().is_some()),
        other => panic!("expected Other, got {other:?}"),
    }
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn an_http_200_carrying_errors_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok(
            json!({"data": null, "errors": [{"message": "Access denied for locations field.",
            "extensions": {"code": "ACCESS_DENIED"}}], "extensions": cost(2, 998)}),
        ))
        .mount(&server)
        .await;
    let err = source(&server).locations().await.unwrap_err();
    assert!(matches!(err, SourceError::Unauthorized { .. }), "{err:?}");
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn a_throttled_body_waits_for_the_bucket_then_succeeds() {
    let server = MockServer::start().await;
    // 252 requested, 232 held, 100 restored per second: 0.2 s to wait.
    let throttled = json!({
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {"cost": {"requestedQueryCost": 252, "actualQueryCost": null,
            "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 232, "restoreRate": 100.0}}},
    });
    Mock::given(method("POST"))
        .respond_with(ok(throttled))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok(locations_answer()))
        .mount(&server)
        .await;
    let started = Instant::now();
    assert_eq!(source(&server).locations().await.unwrap().len(), 1);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_never_printed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"errors": "[API] Invalid API key or access token"})),
        )
        .mount(&server)
        .await;
    let source = source(&server);
    let err = source.locations().await.unwrap_err();
    assert!(matches!(err, SourceError::Unauthorized { .. }), "{err:?}");
    assert!(!format!("{err} {err:?} {source:?}").contains(TOKEN));
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn payment_required_and_locked_shops_are_rejected() {
    for status in [402u16, 423] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status))
            .mount(&server)
            .await;
        let err = source(&server).locations().await.unwrap_err();
        assert!(
            matches!(&err, SourceError::Rejected { code, .. } if *code == status.to_string()),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn health_check_reports_the_shop_and_its_scopes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("myshopifyDomain"))
        .respond_with(ok(
            json!({"data": {"shop": {"name": "Wire", "myshopifyDomain": "wire.myshopify.com"}}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("accessScopes"))
        .respond_with(ok(json!({"data": {"currentAppInstallation": {"accessScopes": [
            {"handle": "read_products"}, {"handle": "write_inventory"}, {"handle": "read_locations"}]}}})))
        .mount(&server)
        .await;
    let health = source(&server).health_check().await.unwrap();
    assert_eq!(health.shop_name, "Wire");
    assert_eq!(health.myshopify_domain, "wire.myshopify.com");
    assert!(matches!(health.scopes, Scopes::Granted(ref s) if s.len() == 3));
}

#[tokio::test]
async fn health_check_names_a_missing_scope() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("myshopifyDomain"))
        .respond_with(ok(
            json!({"data": {"shop": {"name": "Wire", "myshopifyDomain": "wire.myshopify.com"}}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("accessScopes"))
        .respond_with(ok(json!({"data": {"currentAppInstallation": {"accessScopes": [{"handle": "read_products"}]}}})))
        .mount(&server)
        .await;
    match source(&server).health_check().await.unwrap_err() {
        SourceError::Unauthorized { message } => {
            assert!(
                message.contains("read_inventory") && message.contains("read_locations"),
                "{message}"
            )
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
}

#[tokio::test]
async fn a_throttle_listed_after_another_error_is_waited_out_and_retried() {
    let server = MockServer::start().await;
    let throttled = json!({
        "errors": [
            {"message": "Something unexpected happened"},
            {"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": cost(252, 232),
    });
    Mock::given(method("POST"))
        .respond_with(ok(throttled))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok(locations_answer()))
        .mount(&server)
        .await;
    assert_eq!(source(&server).locations().await.unwrap().len(), 1);
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn a_429_without_retry_after_reports_the_wait_its_body_gives() {
    let server = MockServer::start().await;
    // 252 requested, 202 held, 100 restored per second: half a second.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({
            "errors": [{"message": "Throttled"}], "extensions": cost(252, 202)})))
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.retry.max_throttled = 0;
    match config.build().unwrap().locations().await.unwrap_err() {
        SourceError::RateLimited { retry_after } => {
            assert_eq!(retry_after, Some(Duration::from_millis(500)))
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn an_unfamiliar_cost_extension_still_yields_the_data() {
    let server = MockServer::start().await;
    let mut answer = locations_answer();
    answer["extensions"]["cost"] = json!({"requestedQueryCost": "252", "throttleStatus": {
        "buckets": [{"name": "default", "available": 990}]}});
    Mock::given(method("POST"))
        .respond_with(ok(answer))
        .expect(1)
        .mount(&server)
        .await;
    let locations = source(&server).locations().await.unwrap();
    assert_eq!(locations[0].name, "Depot");
}

#[tokio::test]
async fn sources_sharing_http_clients_each_send_their_own_headers_and_keep_their_timeout() {
    let server = MockServer::start().await;
    for lease in ["w1;3", "w2;7"] {
        Mock::given(method("POST"))
            .and(path(PATH))
            .and(header("X-Stockbridge-Lease", lease))
            .respond_with(ok(locations_answer()))
            .expect(2)
            .mount(&server)
            .await;
    }
    // One pool for both shops, as a fleet worker has.
    let http = stockbridge_adapters_shopify::ShopifyHttp::new(
        Duration::from_secs(5),
        Duration::from_secs(60),
    )
    .unwrap();
    for _ in 0..2 {
        for lease in ["w1;3", "w2;7"] {
            let mut config = config(&server);
            config.headers = vec![("X-Stockbridge-Lease".to_owned(), lease.to_owned())];
            let source = config.build_with(&http).unwrap();
            assert_eq!(source.locations().await.unwrap().len(), 1, "{lease}");
        }
    }
    // The source's request timeout goes with each query, not with the shared client.
    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok(locations_answer()).set_delay(Duration::from_secs(2)))
        .mount(&slow)
        .await;
    let mut config = config(&slow);
    config.retry.max_attempts = 1;
    // Without it the answer would arrive after 2 s and succeed.
    let err = config
        .build_with(&http)
        .unwrap()
        .locations()
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Transient { .. }), "{err:?}");
}
