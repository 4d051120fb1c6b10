//! TikTok error codes not covered elsewhere, one short call each.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use stockbridge_sandbox::tiktok::signing::sign;
use stockbridge_sandbox::{credentials, RunningSandbox, TikTokProductStatus};

use crate::support::{fixture, now, start, TikTokCall};

fn update(product: &str, skus: Value) -> TikTokCall {
    TikTokCall::post(
        &format!("/product/202309/products/{product}/inventory/update"),
        json!({"skus": skus}),
    )
}

/// `(sku_id, code, warehouse_id)` of each refused entry of a `code: 0` update answer.
fn refused(body: &Value) -> Vec<(String, i64, String)> {
    assert_eq!(body["code"], 0, "{body}");
    let mut out = Vec::new();
    for error in body["data"]["errors"].as_array().expect("errors") {
        assert_eq!(error["code"], 12052990);
        for extra in error["detail"]["extra_errors"].as_array().unwrap() {
            out.push((
                error["detail"]["sku_id"].as_str().unwrap().to_owned(),
                extra["code"].as_i64().unwrap(),
                extra["warehouse_id"].as_str().unwrap().to_owned(),
            ));
        }
    }
    out
}

fn quantity(sandbox: &RunningSandbox, sku: &str) -> i64 {
    let state = sandbox.state();
    let sku = state
        .tiktok
        .products
        .iter()
        .flat_map(|p| &p.skus)
        .find(|s| s.id == sku)
        .unwrap()
        .clone();
    sku.inventory[0].quantity
}

#[tokio::test]
async fn refuses_a_post_body_that_is_not_json_with_36009022() {
    let sandbox = start(fixture()).await;
    let path = "/product/202309/inventory/search";
    let body = r#"{"sku_ids": ["90012"]}"#;
    let query = vec![
        ("app_key".to_owned(), credentials::TIKTOK_APP_KEY.to_owned()),
        ("timestamp".to_owned(), now().to_string()),
        (
            "shop_cipher".to_owned(),
            credentials::TIKTOK_SHOP_CIPHER.to_owned(),
        ),
    ];
    let signature = sign(
        credentials::TIKTOK_APP_SECRET,
        path,
        &query,
        body.as_bytes(),
    );
    let answer = reqwest::Client::new()
        .post(format!("{}{path}", sandbox.base_url()))
        .query(&query)
        .query(&[("sign", signature)])
        .header("x-tts-access-token", credentials::TIKTOK_ACCESS_TOKEN)
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], 36009022, "{body}");
}

#[tokio::test]
async fn refuses_a_method_the_path_does_not_serve_with_36009010() {
    let sandbox = start(fixture()).await;
    let (status, _, body) = TikTokCall::new(Method::GET, "/product/202309/inventory/search")
        .send(&sandbox)
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["code"], 36009010, "{body}");
}

#[tokio::test]
async fn refuses_more_than_10_sku_ids_in_product_search_with_12019087() {
    let sandbox = start(fixture()).await;
    let ids: Vec<String> = (0..11).map(|i| format!("{}", 90_000 + i)).collect();
    let (_, _, body) = TikTokCall::post("/product/202502/products/search", json!({"sku_ids": ids}))
        .param("page_size", "10")
        .send(&sandbox)
        .await;
    assert_eq!(body["code"], 12019087, "{body}");
}

#[tokio::test]
async fn refuses_an_update_of_a_frozen_or_deleted_product_with_12019113() {
    for status in [TikTokProductStatus::Freeze, TikTokProductStatus::Deleted] {
        let mut f = fixture();
        f.tiktok.products[1].status = status;
        let sandbox = start(f).await;
        let skus = json!([{"id": "90021", "inventory": [{"warehouse_id": "7001", "quantity": 9}]}]);
        let (_, _, body) = update("9002", skus).send(&sandbox).await;
        assert_eq!(body["code"], 12019113, "{body}");
        assert!(body["message"].as_str().unwrap().contains(status.as_str()));
        assert_eq!(quantity(&sandbox, "90021"), 1, "unchanged");
    }
}

#[tokio::test]
async fn refuses_a_sku_without_id_with_12052036_and_applies_the_others() {
    let sandbox = start(fixture()).await;
    let skus = json!([{"inventory": [{"warehouse_id": "7001", "quantity": 9}]},
                      {"id": "90012", "inventory": [{"warehouse_id": "7001", "quantity": 8}]}]);
    let (_, _, body) = update("9001", skus).send(&sandbox).await;
    assert_eq!(
        refused(&body),
        vec![(String::new(), 12052036, String::new())]
    );
    assert_eq!(quantity(&sandbox, "90012"), 8);
}

#[tokio::test]
async fn refuses_the_second_write_of_one_sku_with_12052553() {
    let sandbox = start(fixture()).await;
    let skus = json!([{"id": "90012", "inventory": [{"warehouse_id": "7001", "quantity": 8}]},
                      {"id": "90012", "inventory": [{"warehouse_id": "7001", "quantity": 9}]}]);
    let (_, _, body) = update("9001", skus).send(&sandbox).await;
    assert_eq!(
        refused(&body),
        vec![("90012".to_owned(), 12052553, String::new())]
    );
    assert_eq!(quantity(&sandbox, "90012"), 8, "the first write applies");
}

#[tokio::test]
async fn refuses_a_warehouse_named_twice_in_one_sku_with_12052555() {
    let sandbox = start(fixture()).await;
    let skus = json!([{"id": "90012", "inventory": [{"warehouse_id": "7001", "quantity": 8},
                                                     {"warehouse_id": "7001", "quantity": 9}]}]);
    let (_, _, body) = update("9001", skus).send(&sandbox).await;
    assert_eq!(
        refused(&body),
        vec![("90012".to_owned(), 12052555, "7001".to_owned())]
    );
    assert_eq!(quantity(&sandbox, "90012"), 3, "unchanged");
}

#[tokio::test]
async fn refuses_more_than_600_sku_ids_in_inventory_search_with_12019015() {
    let sandbox = start(fixture()).await;
    let ids: Vec<String> = (0..601).map(|i| i.to_string()).collect();
    let (_, _, body) =
        TikTokCall::post("/product/202309/inventory/search", json!({"sku_ids": ids}))
            .send(&sandbox)
            .await;
    assert_eq!(body["code"], 12019015, "{body}");
}

async fn token_get(
    sandbox: &RunningSandbox,
    secret: &str,
    grant_type: &str,
) -> (StatusCode, Value) {
    let answer = reqwest::Client::new()
        .get(format!("{}/api/v2/token/get", sandbox.base_url()))
        .query(&[
            ("app_key", credentials::TIKTOK_APP_KEY),
            ("app_secret", secret),
            ("auth_code", "any-code"),
            ("grant_type", grant_type),
        ])
        .send()
        .await
        .unwrap();
    (answer.status(), answer.json().await.unwrap())
}

#[tokio::test]
async fn refuses_a_token_request_with_a_wrong_secret_or_grant_type_with_36009004() {
    let sandbox = start(fixture()).await;
    let (status, body) = token_get(&sandbox, "wrong-secret", "authorized_code").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], 36009004, "{body}");
    assert!(!body.to_string().contains("wrong-secret"), "{body}");
    let (status, body) = token_get(&sandbox, credentials::TIKTOK_APP_SECRET, "refresh_token").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], 36009004, "{body}");
    assert!(body["message"].as_str().unwrap().contains("grant_type"));
    assert_eq!(sandbox.stats().count("tiktok", "token_get", "rejected"), 2);
}
