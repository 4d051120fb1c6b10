//! Rare answers: throttling, server errors, timeouts, garbage, refused signatures.

use std::time::{Duration, Instant};

use serde_json::json;
use stockbridge_ports::{InventorySink, SinkError};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{config, expected_sign, fail, ok, param, sink, write, APP_SECRET, UPDATE_PATH};

#[tokio::test]
async fn retries_after_429_with_retry_after_and_slows_down() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(fail(429, 36_009_002, "Too many requests").insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(ok(json!({})))
        .mount(&server)
        .await;
    let sink = sink(&server);

    let start = Instant::now();
    let outcomes = sink.apply(&write()).await.unwrap();
    assert!(outcomes.iter().all(|o| o.is_applied()));
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "waited as TikTok asked"
    );
    assert!(
        sink.request_rate() < 100.0,
        "the pace was lowered: {}",
        sink.request_rate()
    );

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_ne!(
        param(&requests[0], "timestamp"),
        param(&requests[1], "timestamp"),
        "re-signed with a fresh timestamp"
    );
    for request in &requests {
        assert_eq!(param(request, "sign").unwrap(), expected_sign(request));
        assert_eq!(request.body, requests[0].body, "the same bytes each time");
    }
}

#[tokio::test]
async fn a_retry_after_longer_than_the_cap_goes_back_to_the_caller() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(
            fail(429, 36_009_002, "Too many requests").insert_header("Retry-After", "120"),
        )
        .mount(&server)
        .await;
    let err = sink(&server).apply(&write()).await.unwrap_err();
    assert!(
        matches!(err, SinkError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(120)),
        "{err:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn retries_a_500_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream exploded"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(ok(json!({})))
        .mount(&server)
        .await;
    let outcomes = sink(&server).apply(&write()).await.unwrap();
    assert!(outcomes.iter().all(|o| o.is_applied()));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn gives_up_on_5xx_after_max_retries_as_transient() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(fail(503, 36_009_003, "Internal error"))
        .mount(&server)
        .await;
    let err = sink(&server).apply(&write()).await.unwrap_err();
    assert!(matches!(err, SinkError::Transient { .. }), "{err:?}");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        4,
        "one attempt and three retries"
    );
}

#[tokio::test]
async fn malformed_json_is_an_error_not_a_panic() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"code\":0,\"data\":"))
        .mount(&server)
        .await;
    let err = sink(&server).apply(&write()).await.unwrap_err();
    assert!(matches!(err, SinkError::Other(_)), "{err:?}");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "not retried"
    );
}

#[tokio::test]
async fn a_slow_answer_times_out_as_transient() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(ok(json!({})).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.request_timeout = Duration::from_millis(200);
    config.retry.max_attempts = 2;
    config.retry.max_throttled = 1;
    let err = config.build().unwrap().apply(&write()).await.unwrap_err();
    assert!(matches!(err, SinkError::Transient { .. }), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_hung_call_ends_at_its_time_limit_before_using_every_attempt() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(ok(json!({})).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.request_timeout = Duration::from_millis(200);
    config.retry.max_attempts = 6;
    config.retry.call_timeout = Duration::from_millis(500);
    let err = config.build().unwrap().apply(&write()).await.unwrap_err();
    assert!(matches!(err, SinkError::Transient { .. }), "{err:?}");
    // Each attempt takes its 200 ms request timeout: at most three start within 500 ms,
    // where six attempts without the limit would take over 1.2 s.
    let attempts = server.received_requests().await.unwrap().len();
    assert!((1..=3).contains(&attempts), "{attempts} attempts");
}

#[tokio::test]
async fn a_wrong_app_secret_is_unauthorized_without_leaking_it() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(fail(
            401,
            106_001,
            &format!("Invalid signature for secret {APP_SECRET}"),
        ))
        .mount(&server)
        .await;
    let err = sink(&server).apply(&write()).await.unwrap_err();
    assert!(matches!(err, SinkError::Unauthorized { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("app_secret"), "says what to fix: {shown}");
    assert!(!shown.contains(APP_SECRET), "{shown}");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "not retried"
    );
}
