//! Tokens: refresh on expiry, persistence, and secrets that never show.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use stockbridge_ports::fakes::InMemoryStore;
use stockbridge_ports::{InventorySink, PlatformTokens, Secret, SinkError, StateStore};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer};

use stockbridge_adapters_tiktok::token_key;

use super::{config, fail, ok, sink, write, ACCESS_TOKEN, APP_SECRET, REFRESH_TOKEN, UPDATE_PATH};

/// Where the tests' configured tokens keep their refreshed successors.
fn key() -> String {
    token_key(
        &Secret::new(ACCESS_TOKEN),
        Some(&Secret::new(REFRESH_TOKEN)),
    )
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_saved_and_the_call_retried() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .and(header("x-tts-access-token", ACCESS_TOKEN))
        .respond_with(fail(401, 105_002, "Expired credentials"))
        .mount(&server)
        .await;
    Mock::given(path(UPDATE_PATH))
        .and(header("x-tts-access-token", "fresh-access"))
        .respond_with(ok(json!({})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/token/refresh"))
        .and(query_param("app_key", "test-app-key"))
        .and(query_param("app_secret", APP_SECRET))
        .and(query_param("refresh_token", REFRESH_TOKEN))
        .and(query_param("grant_type", "refresh_token"))
        .respond_with(ok(json!({"access_token": "fresh-access", "access_token_expire_in": 4_102_444_800_i64,
            "refresh_token": "fresh-refresh", "refresh_token_expire_in": 4_200_000_000_i64, "open_id": "o"})))
        .expect(1)
        .mount(&server)
        .await;
    let store = Arc::new(InMemoryStore::new());
    let sink = sink(&server).with_token_store(store.clone());

    assert!(sink
        .apply(&write())
        .await
        .unwrap()
        .iter()
        .all(|o| o.is_applied()));
    assert!(
        sink.apply(&write()).await.is_ok(),
        "the new token stays in use"
    );

    let saved = store.load_tokens(&key()).await.unwrap().unwrap();
    assert_eq!(saved.access_token.expose(), "fresh-access");
    assert_eq!(saved.refresh_token.expose(), "fresh-refresh");
    assert_eq!(
        saved.access_expires_at,
        Some(UNIX_EPOCH + Duration::from_secs(4_102_444_800))
    );
}

#[tokio::test]
async fn a_token_that_stays_expired_is_unauthorized_after_one_refresh() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(fail(401, 105_002, "Expired credentials"))
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/token/refresh"))
        .respond_with(ok(
            json!({"access_token": "still-bad", "access_token_expire_in": 0, "refresh_token": ""}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = sink(&server).apply(&write()).await.unwrap_err();
    assert!(matches!(err, SinkError::Unauthorized { .. }), "{err:?}");
}

#[tokio::test]
async fn a_refused_refresh_never_shows_the_secrets() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(fail(401, 105_002, "Expired credentials"))
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/token/refresh"))
        .respond_with(fail(
            200,
            36_004_004,
            &format!("bad refresh_token {REFRESH_TOKEN} for secret {APP_SECRET}"),
        ))
        .mount(&server)
        .await;
    let err = sink(&server).apply(&write()).await.unwrap_err();
    assert!(matches!(err, SinkError::Unauthorized { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(APP_SECRET) && !shown.contains(REFRESH_TOKEN),
        "{shown}"
    );
}

#[tokio::test]
async fn an_unreachable_token_host_is_transient_and_hides_the_refresh_url() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(fail(401, 105_002, "Expired credentials"))
        .mount(&server)
        .await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut config = config(&server);
    config.auth_base_url = closed_url;
    let err = config.build().unwrap().apply(&write()).await.unwrap_err();
    assert!(matches!(err, SinkError::Transient { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(APP_SECRET) && !shown.contains("token/refresh"),
        "{shown}"
    );
}

#[tokio::test]
async fn tokens_in_the_store_replace_the_configured_ones() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .and(header("x-tts-access-token", "stored-access"))
        .respond_with(ok(json!({})))
        .mount(&server)
        .await;
    let store = Arc::new(InMemoryStore::new());
    let tokens = PlatformTokens {
        access_token: Secret::new("stored-access"),
        refresh_token: Secret::new("stored-refresh"),
        access_expires_at: None,
        refresh_expires_at: None,
    };
    store.save_tokens(&key(), &tokens).await.unwrap();
    let sink = sink(&server).with_token_store(store);
    assert!(sink.apply(&write()).await.is_ok());
}

#[tokio::test]
async fn a_token_known_to_be_expired_is_refreshed_before_the_call() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .and(header("x-tts-access-token", "fresh-access"))
        .respond_with(ok(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/token/refresh"))
        .and(query_param("refresh_token", "stored-refresh"))
        .respond_with(ok(
            json!({"access_token": "fresh-access", "access_token_expire_in": 4_102_444_800_i64,
            "refresh_token": "stored-refresh", "refresh_token_expire_in": 4_200_000_000_i64}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let store = Arc::new(InMemoryStore::new());
    let stale = PlatformTokens {
        access_token: Secret::new("stale-access"),
        refresh_token: Secret::new("stored-refresh"),
        access_expires_at: Some(SystemTime::now() - Duration::from_secs(10)),
        refresh_expires_at: None,
    };
    store.save_tokens(&key(), &stale).await.unwrap();
    let sink = sink(&server).with_token_store(store);
    assert!(sink
        .apply(&write())
        .await
        .unwrap()
        .iter()
        .all(|o| o.is_applied()));
}

#[tokio::test]
async fn concurrent_calls_hitting_an_expired_token_refresh_it_once() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .and(header("x-tts-access-token", ACCESS_TOKEN))
        .respond_with(fail(401, 105_002, "Expired credentials"))
        .mount(&server)
        .await;
    Mock::given(path(UPDATE_PATH))
        .and(header("x-tts-access-token", "fresh-access"))
        .respond_with(ok(json!({})))
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/token/refresh"))
        .respond_with(ok(
            json!({"access_token": "fresh-access", "access_token_expire_in": 4_102_444_800_i64,
            "refresh_token": "fresh-refresh", "refresh_token_expire_in": 0}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let sink = Arc::new(sink(&server));
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let sink = Arc::clone(&sink);
            tokio::spawn(async move { sink.apply(&write()).await })
        })
        .collect();
    for call in calls {
        assert!(call.await.unwrap().is_ok());
    }
}

/// The refresh endpoint, answering `fresh-access` exactly once.
async fn refresh_once(server: &MockServer) {
    Mock::given(path("/api/v2/token/refresh"))
        .respond_with(ok(
            json!({"access_token": "fresh-access", "access_token_expire_in": 4_102_444_800_i64,
            "refresh_token": REFRESH_TOKEN, "refresh_token_expire_in": 0}),
        ))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_call_whose_token_was_replaced_by_a_refresh_while_it_was_in_flight_is_repeated_with_the_new_one(
) {
    let server = MockServer::start().await;
    // The first call meets the expiry and refreshes; the second, sent with the same token,
    // is answered after the refresh, when TikTok no longer knows that token (105001).
    Mock::given(path(UPDATE_PATH))
        .and(header("x-tts-access-token", ACCESS_TOKEN))
        .respond_with(fail(401, 105_002, "Expired credentials"))
        .mount(&server)
        .await;
    let other_path = UPDATE_PATH.replace("9001", "9002");
    Mock::given(path(other_path.as_str()))
        .and(header("x-tts-access-token", ACCESS_TOKEN))
        .respond_with(
            fail(401, 105_001, "Invalid credentials").set_delay(Duration::from_millis(300)),
        )
        .mount(&server)
        .await;
    Mock::given(header("x-tts-access-token", "fresh-access"))
        .respond_with(ok(json!({})))
        .mount(&server)
        .await;
    refresh_once(&server).await;
    let sink = sink(&server);
    let first_write = write();
    let mut other = write();
    other.product_id = stockbridge_domain::ProductId::new("9002").unwrap();
    let (first, second) = tokio::join!(sink.apply(&first_write), sink.apply(&other));
    assert!(first.is_ok(), "{first:?}");
    assert!(second.is_ok(), "{second:?}");
}

#[tokio::test]
async fn a_token_tiktok_no_longer_knows_is_refreshed_once_and_the_call_retried() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .and(header("x-tts-access-token", ACCESS_TOKEN))
        .respond_with(fail(401, 105_001, "Invalid credentials"))
        .mount(&server)
        .await;
    Mock::given(path(UPDATE_PATH))
        .and(header("x-tts-access-token", "fresh-access"))
        .respond_with(ok(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    refresh_once(&server).await;
    assert!(sink(&server).apply(&write()).await.is_ok());
}

#[tokio::test]
async fn a_refreshed_token_refused_again_is_a_credentials_error() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .respond_with(fail(401, 105_001, "Invalid credentials"))
        .mount(&server)
        .await;
    refresh_once(&server).await;
    let err = sink(&server).apply(&write()).await.unwrap_err();
    assert!(matches!(err, SinkError::Unauthorized { .. }), "{err:?}");
}

#[tokio::test]
async fn newly_configured_tokens_win_over_tokens_refreshed_from_an_older_grant() {
    let server = MockServer::start().await;
    Mock::given(path(UPDATE_PATH))
        .and(header("x-tts-access-token", ACCESS_TOKEN))
        .respond_with(ok(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let store = Arc::new(InMemoryStore::new());
    let from_old_grant = PlatformTokens {
        access_token: Secret::new("refreshed-from-the-old-grant"),
        refresh_token: Secret::new("old-refresh"),
        access_expires_at: None,
        refresh_expires_at: None,
    };
    let old_key = token_key(
        &Secret::new("old-access"),
        Some(&Secret::new("old-refresh")),
    );
    store.save_tokens(&old_key, &from_old_grant).await.unwrap();
    let sink = sink(&server).with_token_store(store);
    assert!(
        sink.apply(&write()).await.is_ok(),
        "the configured token was sent"
    );
}

#[test]
fn the_token_key_is_a_fingerprint_not_the_secret() {
    let key = token_key(
        &Secret::new("super-secret-access"),
        Some(&Secret::new("super-secret-refresh")),
    );
    assert!(
        key.starts_with("tiktok:") && key.len() == "tiktok:".len() + 16,
        "{key}"
    );
    assert!(!key.contains("super-secret"));
    assert_ne!(key, token_key(&Secret::new("super-secret-access"), None));
}
