//! TikTok's product search cap (12052180: no more than 10,000 results of one filter) and the
//! `update_time` filters that let a client read a bigger catalog in windows.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use stockbridge_sandbox::tiktok::signing::sign;
use stockbridge_sandbox::tiktok::SEARCH_RESULT_CAP;
use stockbridge_sandbox::{credentials, Fixture, RunningSandbox, Sandbox, SandboxOptions};

const SEARCH_PATH: &str = "/product/202502/products/search";

/// `products` products of one SKU each, served with the given result cap.
async fn start(products: usize, cap: usize) -> RunningSandbox {
    let products: Vec<Value> = (1..=products)
        .map(|i| {
            json!({"id": format!("{}", 40_000 + i), "skus": [{"id": format!("{}", 400_000 + i),
                   "seller_sku": format!("SKU-{i}"), "inventory": [{"warehouse_id": "7001", "quantity": 1}]}]})
        })
        .collect();
    let fixture =
        json!({"tiktok": {"warehouses": [{"id": "7001", "name": "Main"}], "products": products}});
    let fixture = Fixture::from_json(&fixture.to_string()).expect("fixture parses");
    let options = SandboxOptions {
        tiktok_search_result_cap: cap,
        tiktok_requests_per_second: None,
        ..SandboxOptions::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    Sandbox::start(fixture, listener, options)
        .await
        .expect("sandbox starts")
}

/// One signed product search page, 10 products, as tiktok-api.md §2 and §6.1 describe it.
async fn search(sandbox: &RunningSandbox, token: Option<&str>, body: &Value) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut query: Vec<(String, String)> = vec![
        ("app_key".into(), credentials::TIKTOK_APP_KEY.into()),
        ("timestamp".into(), now.to_string()),
        ("shop_cipher".into(), credentials::TIKTOK_SHOP_CIPHER.into()),
        ("page_size".into(), "10".into()),
    ];
    if let Some(token) = token {
        query.push(("page_token".into(), token.into()));
    }
    let body = body.to_string();
    let signature = sign(
        credentials::TIKTOK_APP_SECRET,
        SEARCH_PATH,
        &query,
        body.as_bytes(),
    );
    query.push(("sign".into(), signature));
    reqwest::Client::new()
        .post(format!("{}{SEARCH_PATH}", sandbox.base_url()))
        .query(&query)
        .header("x-tts-access-token", credentials::TIKTOK_ACCESS_TOKEN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("search request")
        .json()
        .await
        .expect("search answers JSON")
}

/// Every page of a search, until the last or the first refusal (returned as the answer).
async fn read_all(sandbox: &RunningSandbox, body: Value) -> (Vec<Value>, Option<Value>) {
    let mut products = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let answer = search(sandbox, token.as_deref(), &body).await;
        if answer["code"] != 0 {
            return (products, Some(answer));
        }
        products.extend(
            answer["data"]["products"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
        match answer["data"]["next_page_token"].as_str() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => return (products, None),
        }
    }
}

fn update_times(products: &[Value]) -> Vec<i64> {
    products
        .iter()
        .map(|p| p["update_time"].as_i64().unwrap())
        .collect()
}

#[test]
fn the_default_cap_is_tiktoks_10000() {
    assert_eq!(SEARCH_RESULT_CAP, 10_000);
    assert_eq!(
        SandboxOptions::default().tiktok_search_result_cap,
        SEARCH_RESULT_CAP
    );
}

#[tokio::test]
async fn a_page_past_the_cap_is_refused_with_12052180() {
    let sandbox = start(30, 20).await;
    let (served, refusal) = read_all(&sandbox, json!({})).await;
    assert_eq!(served.len(), 20, "the first 20 results are served");
    let refusal = refusal.expect("the third page is refused");
    assert_eq!(refusal["code"], 12052180);
    assert_eq!(
        refusal["message"],
        "The total number of search results can not exceed 20."
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_filter_with_no_more_results_than_the_cap_is_served_whole() {
    let sandbox = start(30, 20).await;
    let first = search(&sandbox, None, &json!({})).await;
    assert_eq!(first["data"]["total_count"], 30);
    let times = update_times(first["data"]["products"].as_array().unwrap());
    assert!(
        times.windows(2).all(|w| w[0] + 1 == w[1]),
        "fixture products are listed one second apart: {times:?}"
    );
    // The 20 oldest: exactly the cap.
    let last_of_20 = times[0] + 19;
    let (older, refusal) = read_all(&sandbox, json!({"update_time_le": last_of_20})).await;
    assert!(refusal.is_none(), "{refusal:?}");
    assert_eq!(older.len(), 20);
    assert!(update_times(&older).iter().all(|&t| t <= last_of_20));
    let (newer, refusal) = read_all(&sandbox, json!({"update_time_ge": last_of_20 + 1})).await;
    assert!(refusal.is_none(), "{refusal:?}");
    assert_eq!(newer.len(), 10);
    assert!(update_times(&newer).iter().all(|&t| t > last_of_20));
    let (both, _) = read_all(
        &sandbox,
        json!({"update_time_ge": times[0] + 5, "update_time_le": times[0] + 7}),
    )
    .await;
    assert_eq!(
        update_times(&both),
        vec![times[0] + 5, times[0] + 6, times[0] + 7]
    );
    sandbox.shutdown().await;
}
