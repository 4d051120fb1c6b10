use serde_json::{json, Value};

use crate::support::{big_fixture, fixture, start, TikTokCall};

#[tokio::test]
async fn lists_warehouses_with_type_status_and_default() {
    let sandbox = start(fixture()).await;
    let (_, _, body) = TikTokCall::get("/logistics/202309/warehouses")
        .send(&sandbox)
        .await;
    let warehouses = body["data"]["warehouses"].as_array().unwrap();
    assert_eq!(warehouses.len(), 4);
    assert_eq!(warehouses[0]["id"], "7001");
    assert_eq!(warehouses[0]["is_default"], true);
    assert_eq!(warehouses[0]["type"], "SALES_WAREHOUSE");
    assert_eq!(warehouses[0]["effect_status"], "ENABLED");
    assert_eq!(warehouses[2]["type"], "RETURN_WAREHOUSE");
    assert_eq!(warehouses[3]["effect_status"], "DISABLED");
}

fn search(version: &str, page_size: &str, token: Option<&str>, body: Value) -> TikTokCall {
    let call = TikTokCall::post(&format!("/product/{version}/products/search"), body)
        .param("page_size", page_size);
    match token {
        Some(token) => call.param("page_token", token),
        None => call,
    }
}

#[tokio::test]
async fn pages_product_search_with_page_tokens() {
    let sandbox = start(big_fixture(0, 25)).await;
    let mut token: Option<String> = None;
    let mut ids = Vec::new();
    loop {
        let (_, _, body) = search("202502", "10", token.as_deref(), json!({}))
            .send(&sandbox)
            .await;
        assert_eq!(body["code"], 0, "{body}");
        assert_eq!(body["data"]["total_count"], 25);
        for product in body["data"]["products"].as_array().unwrap() {
            ids.push(product["id"].as_str().unwrap().to_owned());
        }
        match body["data"]["next_page_token"].as_str().unwrap() {
            "" => break,
            next => token = Some(next.to_owned()),
        }
    }
    let expected: Vec<String> = (90_001..=90_025).map(|i| i.to_string()).collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn answers_product_search_in_the_documented_shape() {
    let sandbox = start(fixture()).await;
    let (_, _, body) = search("202309", "10", None, json!({"seller_skus": ["TEE-RED-M"]}))
        .send(&sandbox)
        .await;
    let products = body["data"]["products"].as_array().unwrap();
    assert_eq!(products.len(), 1);
    let product = &products[0];
    assert_eq!(product["id"], "9001");
    assert_eq!(product["status"], "ACTIVATE");
    assert!(product["title"].is_string());
    assert_eq!(product["skus"][0]["id"], "90011");
    assert_eq!(product["skus"][0]["seller_sku"], "TEE-RED-S");
    assert_eq!(
        product["skus"][0]["inventory"],
        json!([{"warehouse_id": "7001", "quantity": 0}, {"warehouse_id": "7002", "quantity": 0}])
    );
    assert_eq!(body["data"]["next_page_token"], "");
    assert_eq!(body["data"]["total_count"], 1);
}

#[tokio::test]
async fn filters_product_search_by_status() {
    let sandbox = start(fixture()).await;
    let (_, _, body) = search(
        "202502",
        "10",
        None,
        json!({"status": "SELLER_DEACTIVATED"}),
    )
    .send(&sandbox)
    .await;
    assert_eq!(body["data"]["products"][0]["id"], "9002");
    assert_eq!(body["data"]["total_count"], 1);
}

#[tokio::test]
async fn refuses_page_size_outside_1_to_100() {
    let sandbox = start(fixture()).await;
    for size in ["0", "101"] {
        let (_, _, body) = search("202502", size, None, json!({})).send(&sandbox).await;
        assert_eq!(body["code"], 36009004, "page_size {size}");
    }
    let (_, _, body) = TikTokCall::post("/product/202502/products/search", json!({}))
        .send(&sandbox)
        .await;
    assert_eq!(body["code"], 36009004, "page_size missing");
}

#[tokio::test]
async fn searches_inventory_by_product_ids() {
    let sandbox = start(fixture()).await;
    let (_, _, body) = TikTokCall::post(
        "/product/202309/inventory/search",
        json!({"product_ids": ["9001"]}),
    )
    .send(&sandbox)
    .await;
    let inventory = &body["data"]["inventory"];
    assert_eq!(inventory[0]["product_id"], "9001");
    let sku = &inventory[0]["skus"][1];
    assert_eq!(sku["id"], "90012");
    assert_eq!(sku["seller_sku"], "TEE-RED-M");
    assert_eq!(sku["total_available_quantity"], 3);
    assert_eq!(
        sku["warehouse_inventory"],
        json!([{"warehouse_id": "7001", "available_quantity": 3, "committed_quantity": 0}])
    );
}

#[tokio::test]
async fn searches_inventory_by_sku_ids_grouped_by_product() {
    let sandbox = start(fixture()).await;
    let body = json!({"product_ids": ["9001"], "sku_ids": ["90021", "90012"]});
    let (_, _, body) = TikTokCall::post("/product/202309/inventory/search", body)
        .send(&sandbox)
        .await;
    let inventory = body["data"]["inventory"].as_array().unwrap();
    assert_eq!(inventory.len(), 2, "sku_ids win over product_ids");
    assert_eq!(inventory[0]["product_id"], "9002");
    assert_eq!(inventory[1]["skus"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn refuses_more_than_100_product_ids() {
    let sandbox = start(fixture()).await;
    let ids: Vec<String> = (0..101).map(|i| i.to_string()).collect();
    let (_, _, body) = TikTokCall::post(
        "/product/202309/inventory/search",
        json!({"product_ids": ids}),
    )
    .send(&sandbox)
    .await;
    assert_ne!(body["code"], 0);
}

#[tokio::test]
async fn refuses_more_than_10_seller_skus_with_12019027() {
    let sandbox = start(fixture()).await;
    let skus: Vec<String> = (0..11).map(|i| format!("S{i}")).collect();
    let (_, _, body) = search("202502", "10", None, json!({"seller_skus": skus}))
        .send(&sandbox)
        .await;
    assert_eq!(body["code"], 12019027);
}

#[tokio::test]
async fn accepts_a_search_with_an_empty_body() {
    let sandbox = start(fixture()).await;
    let query = vec![
        (
            "app_key".to_owned(),
            stockbridge_sandbox::credentials::TIKTOK_APP_KEY.to_owned(),
        ),
        ("timestamp".to_owned(), crate::support::now().to_string()),
        (
            "shop_cipher".to_owned(),
            stockbridge_sandbox::credentials::TIKTOK_SHOP_CIPHER.to_owned(),
        ),
        ("page_size".to_owned(), "1".to_owned()),
    ];
    let path = "/product/202309/products/search";
    let sign = stockbridge_sandbox::tiktok::signing::sign(
        stockbridge_sandbox::credentials::TIKTOK_APP_SECRET,
        path,
        &query,
        b"",
    );
    let body: Value = reqwest::Client::new()
        .post(format!("{}{path}", sandbox.base_url()))
        .query(&query)
        .query(&[("sign", sign)])
        .header(
            "x-tts-access-token",
            stockbridge_sandbox::credentials::TIKTOK_ACCESS_TOKEN,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["code"], 0, "{body}");
    assert_eq!(body["data"]["products"].as_array().unwrap().len(), 1);
    assert_ne!(body["data"]["next_page_token"], "");
}
