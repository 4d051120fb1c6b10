//! A TikTok access token that expires between runs or during one: the adapter refreshes it,
//! and a call that was sent with the token the refresh replaced is repeated with the new
//! one, in `sync` and in `serve` alike.

use std::time::Duration;

use crate::binary::support::*;

const REFRESH_TOKEN: (&str, &str) = (
    "STOCKBRIDGE__TIKTOK__REFRESH_TOKEN",
    "sandbox_refresh_token",
);

fn sync(config: &std::path::Path) -> Run {
    let mut env = SECRETS.to_vec();
    env.push(REFRESH_TOKEN);
    run(
        &[
            "sync",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
        &env,
    )
}

#[test]
fn sync_succeeds_each_time_tiktok_expires_the_access_token_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = write(dir.path(), "fixture.json", SEED);
    let sandbox = SandboxProcess::start(&fixture, &[]);
    let config = sandbox.config(dir.path(), "[rules]\nquantity_percent = 80\n");
    // Each run reads warehouses and products at once with the expired token: one call
    // refreshes, and the other is answered after the refresh, for a token TikTok no longer
    // knows.
    for round in 0..3 {
        sandbox.control("POST", "/_sandbox/tiktok/token/expire", None);
        let synced = sync(&config);
        assert_eq!(synced.code, 0, "round {round}: {}", synced.stderr);
    }
    let refreshes = &sandbox.control("GET", "/_sandbox/stats", None)["tiktok"]["token_refresh"];
    assert_eq!(refreshes["ok"], 3, "one refresh per expiry: {refreshes}");
    assert_eq!(sandbox.tiktok_quantity("90011", "7001"), Some(240));
}

#[test]
fn sync_refreshes_a_configured_token_that_a_refresh_elsewhere_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = write(dir.path(), "fixture.json", SEED);
    let sandbox = SandboxProcess::start(&fixture, &[]);
    let config = sandbox.config(dir.path(), "");
    // Another installation refreshed the grant: the configured access token is unknown to
    // TikTok now, but the refresh token still works.
    let refreshed = reqwest::blocking::get(format!(
        "{}/api/v2/token/refresh?app_key=sandbox_app_key&app_secret=sandbox_app_secret\
         &refresh_token=sandbox_refresh_token&grant_type=refresh_token",
        sandbox.base_url
    ))
    .unwrap();
    assert!(refreshed.status().is_success());
    let synced = sync(&config);
    assert_eq!(synced.code, 0, "{}", synced.stderr);
}

#[test]
fn a_refused_refresh_is_a_credentials_error_that_says_to_re_authorize() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = write(dir.path(), "fixture.json", SEED);
    let sandbox = SandboxProcess::start(&fixture, &[]);
    let config = sandbox.config(dir.path(), "");
    sandbox.control("POST", "/_sandbox/tiktok/token/expire", None);
    let mut env = SECRETS.to_vec();
    env.push((REFRESH_TOKEN.0, "a-revoked-refresh-token"));
    let synced = run(
        &[
            "sync",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(synced.code, 2, "{}", synced.stderr);
    assert!(
        synced
            .stderr
            .contains("refreshing the access token was refused")
            && synced.stderr.contains("re-authorize"),
        "{}",
        synced.stderr
    );
    assert!(!synced.stderr.contains("a-revoked-refresh-token"));
}

#[test]
fn serve_starts_and_keeps_writing_when_tiktok_expires_the_access_token() {
    let dir = tempfile::tempdir().unwrap();
    let port = unused_port();
    let fixture = write(dir.path(), "fixture.json", SEED);
    let hook = format!("http://127.0.0.1:{port}/webhooks/shopify");
    let sandbox = SandboxProcess::start(&fixture, &["--webhook-url", &hook]);
    let server = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\nreconcile_every = \"1h\"\ncoalesce_window = \"50ms\"\n"
    );
    let config = sandbox.config(dir.path(), &server);
    sandbox.control("POST", "/_sandbox/tiktok/token/expire", None);
    let mut serve = ServeLogged::spawn_healthy(&config, port, &[REFRESH_TOKEN]);
    assert_eq!(sandbox.tiktok_quantity("90011", "7001"), Some(300));

    sandbox.control("POST", "/_sandbox/tiktok/token/expire", None);
    sandbox.control(
        "POST",
        "/_sandbox/shopify/inventory_levels",
        Some(serde_json::json!({"inventory_item_id": 1001, "location_id": 1, "available": 7})),
    );
    assert!(
        poll_until(Duration::from_secs(20), || sandbox
            .tiktok_quantity("90011", "7001")
            == Some(207)),
        "the change reached TikTok after a refresh"
    );
    assert!(
        serve.child.try_wait().unwrap().is_none(),
        "serve still runs"
    );
    serve.signal("TERM");
    assert!(serve
        .wait_exit(Duration::from_secs(30))
        .is_some_and(|s| s.success()));
    let (_, logs) = serve.output();
    assert!(!logs.contains("reconciliation impossible"), "{logs}");
}
