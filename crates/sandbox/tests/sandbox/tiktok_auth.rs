use reqwest::StatusCode;
use serde_json::{json, Value};
use stockbridge_sandbox::{credentials, SandboxOptions};

use crate::support::{control, fixture, now, start, start_with, TikTokCall};

const SHOPS: &str = "/authorization/202309/shops";
const WAREHOUSES: &str = "/logistics/202309/warehouses";

fn shops() -> TikTokCall {
    TikTokCall::get(SHOPS).without("shop_cipher")
}

#[tokio::test]
async fn lists_authorized_shops_without_shop_cipher() {
    let sandbox = start(fixture()).await;
    let (status, _, body) = shops().send(&sandbox).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["code"], 0);
    assert_eq!(body["message"], "Success");
    assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(
        body["data"]["shops"][0]["cipher"],
        credentials::TIKTOK_SHOP_CIPHER
    );
    assert!(body["data"]["shops"][0]["id"].is_string());
    assert_eq!(sandbox.stats().count("tiktok", "shops", "ok"), 1);
}

#[tokio::test]
async fn refuses_shop_cipher_on_authorization_with_36009004() {
    let sandbox = start(fixture()).await;
    let (_, _, body) = TikTokCall::get(SHOPS).send(&sandbox).await;
    assert_eq!(body["code"], 36009004);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("Unexpected identifier"));
}

#[tokio::test]
async fn requires_shop_cipher_on_warehouses_with_106013() {
    let sandbox = start(fixture()).await;
    let (_, _, body) = TikTokCall::get(WAREHOUSES)
        .without("shop_cipher")
        .send(&sandbox)
        .await;
    assert_eq!(body["code"], 106013);
}

#[tokio::test]
async fn rejects_a_wrong_shop_cipher_with_36009004() {
    let sandbox = start(fixture()).await;
    let (_, _, body) = TikTokCall::get(WAREHOUSES)
        .param("shop_cipher", "OTHER")
        .send(&sandbox)
        .await;
    assert_eq!(body["code"], 36009004);
}

#[tokio::test]
async fn rejects_an_invalid_sign_with_106001_and_http_401() {
    let sandbox = start(fixture()).await;
    let (status, _, body) = shops().secret("wrong_secret").send(&sandbox).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], 106001);
    assert_eq!(sandbox.stats().count("tiktok", "shops", "invalid_sign"), 1);
}

#[tokio::test]
async fn rejects_an_uppercase_sign() {
    let sandbox = start(fixture()).await;
    let call = shops();
    let query = vec![
        ("app_key".to_owned(), credentials::TIKTOK_APP_KEY.to_owned()),
        ("timestamp".to_owned(), now().to_string()),
    ];
    let upper = stockbridge_sandbox::tiktok::signing::sign(
        credentials::TIKTOK_APP_SECRET,
        SHOPS,
        &query,
        b"",
    )
    .to_uppercase();
    let (_, _, body) = call
        .param("timestamp", &query[1].1)
        .sign(&upper)
        .send(&sandbox)
        .await;
    assert_eq!(body["code"], 106001);
}

#[tokio::test]
async fn signs_the_exact_body_bytes() {
    let sandbox = start(fixture()).await;
    // Signed over one body, sent with another (same JSON, other key order): refused.
    let signed = json!({"product_ids": ["9001"]}).to_string();
    let query = vec![
        ("app_key".to_owned(), credentials::TIKTOK_APP_KEY.to_owned()),
        ("timestamp".to_owned(), now().to_string()),
        (
            "shop_cipher".to_owned(),
            credentials::TIKTOK_SHOP_CIPHER.to_owned(),
        ),
    ];
    let path = "/product/202309/inventory/search";
    let sign = stockbridge_sandbox::tiktok::signing::sign(
        credentials::TIKTOK_APP_SECRET,
        path,
        &query,
        signed.as_bytes(),
    );
    let (_, _, body) = TikTokCall::post(path, json!({"product_ids": ["9001"], "sku_ids": []}))
        .param("timestamp", &query[1].1)
        .sign(&sign)
        .send(&sandbox)
        .await;
    assert_eq!(body["code"], 106001);
}

#[tokio::test]
async fn rejects_an_unknown_app_key_with_36009004() {
    let sandbox = start(fixture()).await;
    let (_, _, body) = shops()
        .param("app_key", "someone_else")
        .send(&sandbox)
        .await;
    assert_eq!(body["code"], 36009004);
}

#[tokio::test]
async fn rejects_timestamps_outside_the_window() {
    let sandbox = start(fixture()).await;
    let old = (now() - 6 * 60).to_string();
    let (_, _, body) = shops().param("timestamp", &old).send(&sandbox).await;
    assert_eq!(body["code"], 36009004, "{body}");
    let ahead = (now() + 45).to_string();
    let (_, _, body) = shops().param("timestamp", &ahead).send(&sandbox).await;
    assert_eq!(body["code"], 36009004, "{body}");
    let recent = (now() - 4 * 60).to_string();
    let (_, _, body) = shops().param("timestamp", &recent).send(&sandbox).await;
    assert_eq!(body["code"], 0, "{body}");
}

#[tokio::test]
async fn rejects_a_missing_access_token_with_36009004() {
    let sandbox = start(fixture()).await;
    let (_, _, body) = shops().token(None).send(&sandbox).await;
    assert_eq!(body["code"], 36009004);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("x-tts-access-token"));
}

#[tokio::test]
async fn rejects_an_unknown_access_token_with_105001() {
    let sandbox = start(fixture()).await;
    let (_, _, body) = shops().token(Some("not-a-token")).send(&sandbox).await;
    assert_eq!(body["code"], 105001);
}

#[tokio::test]
async fn expires_every_token_at_once_with_a_zero_lifetime() {
    let options = SandboxOptions {
        tiktok_token_lifetime: std::time::Duration::ZERO,
        ..SandboxOptions::default()
    };
    let sandbox = start_with(fixture(), options).await;
    let (status, _, body) = shops().send(&sandbox).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], 105002);
}

async fn refresh(sandbox: &stockbridge_sandbox::RunningSandbox, refresh_token: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/api/v2/token/refresh", sandbox.base_url()))
        .query(&[
            ("app_key", credentials::TIKTOK_APP_KEY),
            ("app_secret", credentials::TIKTOK_APP_SECRET),
            ("refresh_token", refresh_token),
            ("grant_type", "refresh_token"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn answers_105002_for_an_expired_token_until_refreshed() {
    let sandbox = start(fixture()).await;
    control(&sandbox, "tiktok/token/expire", json!({})).await;
    let (_, _, body) = shops().send(&sandbox).await;
    assert_eq!(body["code"], 105002);

    let body = refresh(&sandbox, credentials::TIKTOK_REFRESH_TOKEN).await;
    assert_eq!(body["code"], 0, "{body}");
    let data = &body["data"];
    let token = data["access_token"].as_str().unwrap().to_owned();
    assert_ne!(token, credentials::TIKTOK_ACCESS_TOKEN);
    let expires = data["access_token_expire_in"].as_i64().unwrap();
    assert!(
        (expires - (now() + 7 * 24 * 3600)).abs() < 10,
        "absolute Unix time: {expires}"
    );
    assert!(data["refresh_token_expire_in"].as_i64().unwrap() > now());
    assert_eq!(data["refresh_token"], credentials::TIKTOK_REFRESH_TOKEN);

    let (_, _, body) = shops().token(Some(&token)).send(&sandbox).await;
    assert_eq!(body["code"], 0);
    let (_, _, body) = shops().send(&sandbox).await;
    assert_eq!(body["code"], 105001, "the old token is invalidated");
}

#[tokio::test]
async fn refuses_a_wrong_refresh_token() {
    let sandbox = start(fixture()).await;
    let body = refresh(&sandbox, "stolen").await;
    assert_eq!(body["code"], 36004004);
    let (_, _, body) = shops().send(&sandbox).await;
    assert_eq!(body["code"], 0, "a failed refresh keeps the token");
}

#[tokio::test]
async fn exchanges_an_auth_code_for_a_token() {
    let sandbox = start(fixture()).await;
    let body: Value = reqwest::Client::new()
        .get(format!("{}/api/v2/token/get", sandbox.base_url()))
        .query(&[
            ("app_key", credentials::TIKTOK_APP_KEY),
            ("app_secret", credentials::TIKTOK_APP_SECRET),
            ("auth_code", "any-code"),
            ("grant_type", "authorized_code"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["code"], 0);
    assert!(body["data"]["access_token"]
        .as_str()
        .unwrap()
        .starts_with("TTP_"));
}

#[tokio::test]
async fn rate_limits_with_36009002_and_http_429() {
    let options = SandboxOptions {
        tiktok_requests_per_second: Some(1),
        ..SandboxOptions::default()
    };
    let sandbox = start_with(fixture(), options).await;
    let (status, _, _) = shops().send(&sandbox).await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, body) = shops().send(&sandbox).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], 36009002);
    assert_eq!(headers.get("retry-after").unwrap(), "1");
    assert_eq!(sandbox.stats().count("tiktok", "shops", "rate_limited"), 1);
}

#[tokio::test]
async fn answers_36009009_for_an_unknown_path() {
    let sandbox = start(fixture()).await;
    let (status, _, body) = TikTokCall::get("/product/202309/nothing")
        .send(&sandbox)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], 36009009);
}
