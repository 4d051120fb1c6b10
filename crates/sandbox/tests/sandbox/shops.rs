//! Many shops in one sandbox (spec/fleet.md): each shop its own store, credentials, cost
//! bucket, rate limit and webhooks, found by the Shopify path prefix or domain, the TikTok
//! shop cipher or app key, and `?shop=` on control calls; and the log of TikTok writes with the
//! `X-Stockbridge-Lease` of each.

use reqwest::StatusCode;
use serde_json::{json, Value};
use stockbridge_sandbox::webhooks::shopify_hmac;
use stockbridge_sandbox::{
    copy_credentials, credentials, Credentials, Fixture, RunningSandbox, Sandbox, SandboxOptions,
    Shops, TikTokWrite,
};

use crate::support::{fixture, Receiver, TikTokCall};

async fn start_shops(shops: Shops, options: SandboxOptions) -> RunningSandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    Sandbox::start_shops(shops, listener, options)
        .await
        .expect("sandbox starts")
}

async fn copies(n: usize, options: SandboxOptions) -> RunningSandbox {
    start_shops(Shops::copies(fixture(), n).expect("valid count"), options).await
}

fn shop(k: usize) -> Credentials {
    copy_credentials(&Credentials::default(), k)
}

fn domain(k: usize) -> String {
    format!("shop-{k}.myshopify.com")
}

const LEVEL_QUERY: &str = r#"{ inventoryItem(id: "gid://shopify/InventoryItem/1001") {
    inventoryLevels(first: 5) { nodes { location { id } quantities(names: ["available"]) { quantity } } } } }"#;

/// POSTs a GraphQL query to `base` (a Shopify `base_url`) with `token`.
async fn graphql_at(base: &str, token: &str, headers: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/admin/api/2025-10/graphql.json"))
        .header("X-Shopify-Access-Token", token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let answer = request
        .json(&json!({"query": LEVEL_QUERY}))
        .send()
        .await
        .expect("graphql request");
    let status = answer.status();
    (status, answer.json().await.expect("JSON"))
}

/// Location 2's `available` of item 1001 in a GraphQL answer.
fn location_2_available(body: &Value) -> i64 {
    let nodes = body["data"]["inventoryItem"]["inventoryLevels"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("levels in {body}"));
    nodes
        .iter()
        .find(|n| n["location"]["id"] == "gid://shopify/Location/2")
        .and_then(|n| n["quantities"][0]["quantity"].as_i64())
        .unwrap_or_else(|| panic!("location 2 in {body}"))
}

async fn post(url: String, body: Value) -> (StatusCode, Value) {
    let answer = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("POST");
    let status = answer.status();
    (status, answer.json().await.expect("JSON"))
}

async fn get(url: String) -> (StatusCode, Value) {
    let answer = reqwest::get(url).await.expect("GET");
    let status = answer.status();
    (status, answer.json().await.expect("JSON"))
}

/// A signed TikTok call as shop `k` makes it.
fn tiktok_as(k: usize, call: TikTokCall) -> TikTokCall {
    let c = shop(k);
    call.param("app_key", &c.tiktok_app_key)
        .param("shop_cipher", &c.tiktok_shop_cipher)
        .secret(&c.tiktok_app_secret)
        .token(Some(&c.tiktok_access_token))
}

fn write_body(quantity: i64) -> Value {
    json!({"skus": [{"id": "90012", "inventory": [{"warehouse_id": "7001", "quantity": quantity}]}]})
}

const UPDATE_PATH: &str = "/product/202309/products/9001/inventory/update";

#[tokio::test]
async fn copies_of_a_fixture_are_named_after_their_number() {
    let sandbox = copies(3, SandboxOptions::default()).await;
    let state = sandbox.shop_state(&domain(2)).expect("shop 2");
    assert_eq!(state.credentials.shop_domain, "shop-2.myshopify.com");
    assert_eq!(state.credentials.tiktok_shop_cipher, "SHOP_2");
    let c = sandbox.shop_credentials(&domain(3)).expect("shop 3");
    assert_eq!(c.shopify_access_token, "shpat_sandbox_demo_token-3");
    assert_eq!(c.shopify_webhook_secret, "sandbox_webhook_secret-3");
    assert_eq!(c.tiktok_app_key, "sandbox_app_key-3");
    assert_eq!(c.tiktok_app_secret, "sandbox_app_secret-3");
    assert_eq!(c.tiktok_access_token, "sandbox_access_token-3");
    assert_eq!(c.tiktok_refresh_token, "sandbox_refresh_token-3");
    assert_eq!(sandbox.credentials().shop_domain, domain(1));
    assert_eq!(sandbox.shop_state("shop-4.myshopify.com"), None);
    // Each copy holds the fixture's store.
    assert_eq!(state.shopify, fixture().shopify);
    assert_eq!(state.tiktok, fixture().tiktok);
}

#[tokio::test]
async fn the_shopify_path_prefix_addresses_a_shop_with_its_own_token() {
    let sandbox = copies(3, SandboxOptions::default()).await;
    let base2 = sandbox.shopify_base_url(&domain(2));
    assert_eq!(
        base2,
        format!("{}/shops/shop-2.myshopify.com", sandbox.base_url())
    );
    let (status, body) = graphql_at(&base2, &shop(2).shopify_access_token, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(location_2_available(&body), 200);
    // Shop 1's token is not shop 2's.
    let (status, _) = graphql_at(&base2, &shop(1).shopify_access_token, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Without a prefix, the X-Shopify-Shop-Domain header chooses the shop; without either,
    // shop 1 answers.
    let root = sandbox.base_url();
    let (status, _) = graphql_at(
        &root,
        &shop(3).shopify_access_token,
        &[("X-Shopify-Shop-Domain", "shop-3.myshopify.com")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = graphql_at(&root, &shop(1).shopify_access_token, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = graphql_at(&root, &shop(3).shopify_access_token, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A prefix naming no shop is 404.
    let (status, body) = graphql_at(
        &sandbox.shopify_base_url("shop-9.myshopify.com"),
        "any",
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"]
        .as_str()
        .is_some_and(|e| e.contains("unknown shop shop-9.myshopify.com")));
}

#[tokio::test]
async fn a_control_call_changes_only_the_shop_it_names() {
    let sandbox = copies(3, SandboxOptions::default()).await;
    let base = sandbox.base_url();
    let (status, body) = post(
        format!(
            "{base}/_sandbox/shopify/inventory_levels?shop={}",
            domain(2)
        ),
        json!({"inventory_item_id": 1001, "location_id": 2, "available": 150}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let level = |state: &Value| state["shopify"]["variants"][0]["levels"][1]["available"].clone();
    let (_, two) = get(format!("{base}/_sandbox/state?shop={}", domain(2))).await;
    let (_, three) = get(format!("{base}/_sandbox/state?shop={}", domain(3))).await;
    let (_, one) = get(format!("{base}/_sandbox/state")).await;
    assert_eq!(level(&two), 150);
    assert_eq!(level(&three), 200);
    assert_eq!(level(&one), 200);
    assert_eq!(one["credentials"]["shop_domain"], domain(1));
    // What GraphQL serves for shop 2 moved too.
    let (_, body) = graphql_at(
        &sandbox.shopify_base_url(&domain(2)),
        &shop(2).shopify_access_token,
        &[],
    )
    .await;
    assert_eq!(location_2_available(&body), 150);
}

#[tokio::test]
async fn a_control_call_naming_no_shop_is_404_and_names_the_shops_served() {
    let sandbox = copies(3, SandboxOptions::default()).await;
    let (status, body) = get(format!(
        "{}/_sandbox/state?shop=shop-4.myshopify.com",
        sandbox.base_url()
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["error"],
        "unknown shop shop-4.myshopify.com; this sandbox serves shop-1.myshopify.com to shop-3.myshopify.com (3 shops)"
    );
    let (status, _) = post(
        format!(
            "{}/_sandbox/shopify/inventory_levels?shop=nope.myshopify.com",
            sandbox.base_url()
        ),
        json!({"inventory_item_id": 1001, "location_id": 2, "available": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_one_shop_sandbox_takes_its_own_domain_and_refuses_another() {
    let sandbox = crate::support::start(fixture()).await;
    let base = sandbox.base_url();
    let (status, state) = get(format!(
        "{base}/_sandbox/state?shop={}",
        credentials::SHOP_DOMAIN
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        state["shopify"]["variants"][0]["levels"][1]["available"],
        200
    );
    let (status, _) = get(format!("{base}/_sandbox/state?shop=other.myshopify.com")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tiktok_calls_find_their_shop_by_cipher_and_check_its_credentials() {
    let sandbox = copies(3, SandboxOptions::default()).await;
    let (status, _, body) = tiktok_as(2, TikTokCall::post(UPDATE_PATH, write_body(42)))
        .send(&sandbox)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["code"], 0, "{body}");
    let quantity = |state: &Fixture| state.tiktok.products[0].skus[1].inventory[0].quantity;
    assert_eq!(quantity(&sandbox.shop_state(&domain(2)).unwrap()), 42);
    assert_eq!(quantity(&sandbox.shop_state(&domain(3)).unwrap()), 3);
    assert_eq!(quantity(&sandbox.state()), 3);
    // Shop 3's cipher with shop 2's keys: shop 3 checks them and refuses.
    let (status, _, body) = tiktok_as(2, TikTokCall::post(UPDATE_PATH, write_body(7)))
        .param("shop_cipher", "SHOP_3")
        .send(&sandbox)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        body["message"],
        "Invalid credentials. The app_key sandbox_app_key-2 is invalid."
    );
    // A cipher no shop has is TikTok's own refusal.
    let (_, _, body) = tiktok_as(2, TikTokCall::post(UPDATE_PATH, write_body(7)))
        .param("shop_cipher", "SHOP_4")
        .send(&sandbox)
        .await;
    assert_ne!(body["code"], 0, "{body}");
    assert_eq!(quantity(&sandbox.shop_state(&domain(3)).unwrap()), 3);
    // Each shop counts its own requests.
    let (_, stats) = get(format!(
        "{}/_sandbox/stats?shop={}",
        sandbox.base_url(),
        domain(2)
    ))
    .await;
    assert_eq!(stats["inventory_updates"]["sku_writes"], 1, "{stats}");
    assert_eq!(sandbox.stats().inventory_updates.sku_writes, 0);
}

#[tokio::test]
async fn the_calls_without_a_cipher_find_their_shop_by_app_key() {
    let sandbox = copies(3, SandboxOptions::default()).await;
    let (status, _, body) = tiktok_as(3, TikTokCall::get("/authorization/202309/shops"))
        .without("shop_cipher")
        .send(&sandbox)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["shops"][0]["cipher"], "SHOP_3", "{body}");
    // Token refresh with shop 2's keys issues shop 2 a token that works for shop 2 only.
    let c = shop(2);
    let (status, body) = get(format!(
        "{}/api/v2/token/refresh?app_key={}&app_secret={}&refresh_token={}&grant_type=refresh_token",
        sandbox.base_url(),
        c.tiktok_app_key,
        c.tiktok_app_secret,
        c.tiktok_refresh_token
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["data"]["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let (_, _, body) = tiktok_as(2, TikTokCall::post(UPDATE_PATH, write_body(5)))
        .token(Some(&token))
        .send(&sandbox)
        .await;
    assert_eq!(body["code"], 0, "{body}");
    let (_, _, body) = tiktok_as(2, TikTokCall::post(UPDATE_PATH, write_body(5)))
        .send(&sandbox)
        .await;
    assert_eq!(body["code"], 105001, "the old token is gone: {body}");
}

#[tokio::test]
async fn each_shop_has_its_own_tiktok_rate_limit() {
    let options = SandboxOptions {
        tiktok_requests_per_second: Some(2),
        ..SandboxOptions::default()
    };
    let sandbox = copies(2, options).await;
    let search = || {
        TikTokCall::post(
            "/product/202309/inventory/search",
            json!({"sku_ids": ["90011"]}),
        )
    };
    for _ in 0..2 {
        let (status, _, body) = tiktok_as(1, search()).send(&sandbox).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, _, body) = tiktok_as(1, search()).send(&sandbox).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], 36009002);
    // Shop 2's window is its own: still open.
    let (status, _, body) = tiktok_as(2, search()).send(&sandbox).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn each_shop_has_its_own_shopify_cost_bucket() {
    let options = SandboxOptions {
        shopify_bucket_size: 60.0,
        shopify_restore_rate: 0.01,
        ..SandboxOptions::default()
    };
    let sandbox = copies(2, options).await;
    let query = json!({"query": "{ productVariants(first: 3) { nodes { id } } }"});
    let send = |k: usize| {
        let url = format!(
            "{}/admin/api/2025-10/graphql.json",
            sandbox.shopify_base_url(&domain(k))
        );
        let query = query.clone();
        async move {
            let answer: Value = reqwest::Client::new()
                .post(url)
                .header("X-Shopify-Access-Token", shop(k).shopify_access_token)
                .json(&query)
                .send()
                .await
                .expect("graphql")
                .json()
                .await
                .expect("JSON");
            answer
        }
    };
    let available = |answer: &Value| {
        answer["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
            .as_f64()
            .map(f64::round)
            .unwrap_or_else(|| panic!("a throttle status in {answer}"))
    };
    // Each query takes its actual cost out of its shop's bucket (restored at 0.01 per second).
    let first = available(&send(1).await);
    let second = available(&send(1).await);
    let other = available(&send(2).await);
    assert!(first < 60.0 && second < first, "{first} then {second}");
    assert_eq!(other, first, "shop 2's bucket was full: {other}");
}

#[tokio::test]
async fn each_shops_webhooks_carry_its_domain_and_its_secret() {
    let mut receiver = Receiver::start(0).await;
    let options = SandboxOptions {
        webhook_urls: vec![receiver.url.clone()],
        ..SandboxOptions::default()
    };
    let sandbox = copies(3, options).await;
    let (status, _) = post(
        format!(
            "{}/_sandbox/shopify/inventory_levels?shop={}",
            sandbox.base_url(),
            domain(3)
        ),
        json!({"inventory_item_id": 1001, "location_id": 1, "available": 9}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let delivery = receiver.next().await;
    assert_eq!(delivery.header("X-Shopify-Shop-Domain"), domain(3));
    assert_eq!(
        delivery.header("X-Shopify-Hmac-Sha256"),
        shopify_hmac(&shop(3).shopify_webhook_secret, &delivery.body)
    );
    assert_ne!(
        delivery.header("X-Shopify-Hmac-Sha256"),
        shopify_hmac(&shop(1).shopify_webhook_secret, &delivery.body)
    );
    assert_eq!(delivery.json()["available"], 9);
}

async fn writes(sandbox: &RunningSandbox, cipher: &str) -> (StatusCode, Value) {
    get(format!(
        "{}/_sandbox/writes?shop_cipher={cipher}",
        sandbox.base_url()
    ))
    .await
}

#[tokio::test]
async fn tiktok_writes_are_listed_in_arrival_order_with_their_lease() {
    let sandbox = copies(3, SandboxOptions::default()).await;
    for (lease, quantity) in [
        (Some("worker-a;1"), 10),
        (Some("worker-b;2"), 20),
        (None, 30),
    ] {
        let mut call = tiktok_as(2, TikTokCall::post(UPDATE_PATH, write_body(quantity)));
        if let Some(lease) = lease {
            call = call.header("X-Stockbridge-Lease", lease);
        }
        let (_, _, body) = call.send(&sandbox).await;
        assert_eq!(body["code"], 0, "{body}");
    }
    // A write refused whole changes nothing and is not listed.
    let (_, _, body) = tiktok_as(2, TikTokCall::post(UPDATE_PATH, json!({"skus": [{"id": "424242", "inventory": [{"warehouse_id": "7001", "quantity": 1}]}]})))
        .header("X-Stockbridge-Lease", "worker-c;3")
        .send(&sandbox)
        .await;
    assert!(body["data"]["errors"].is_array(), "{body}");
    let (status, listed) = writes(&sandbox, "SHOP_2").await;
    assert_eq!(status, StatusCode::OK);
    let listed: Vec<TikTokWrite> = serde_json::from_value(listed).expect("the writes format");
    let leases: Vec<Option<&str>> = listed.iter().map(|w| w.lease.as_deref()).collect();
    assert_eq!(leases, [Some("worker-a;1"), Some("worker-b;2"), None]);
    let quantities: Vec<i64> = listed
        .iter()
        .map(|w| w.skus[0].inventory[0].quantity)
        .collect();
    assert_eq!(quantities, [10, 20, 30]);
    assert!(listed
        .iter()
        .all(|w| w.product_id == "9001" && w.skus[0].id == "90012"));
    assert!(listed.windows(2).all(|pair| pair[0].at <= pair[1].at));
    assert!(
        listed[0].at.ends_with('Z') && listed[0].at.contains('.'),
        "{}",
        listed[0].at
    );
    // Other shops saw none; a cipher no shop has is 404.
    let (_, other) = writes(&sandbox, "SHOP_3").await;
    assert_eq!(other, json!([]));
    let (status, body) = writes(&sandbox, "SHOP_9").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["error"],
        "unknown shop_cipher SHOP_9: no shop of this sandbox has it"
    );
}

#[tokio::test]
async fn ten_thousand_shops_are_built_only_when_used() {
    let sandbox = copies(10_000, SandboxOptions::default()).await;
    let shops = || get(format!("{}/_sandbox/shops", sandbox.base_url()));
    assert_eq!(shops().await.1, json!({"count": 10_000, "built": 1}));
    let (_, _, body) = tiktok_as(
        9_999,
        TikTokCall::post(
            "/product/202309/inventory/search",
            json!({"sku_ids": ["90012"]}),
        ),
    )
    .send(&sandbox)
    .await;
    assert_eq!(body["code"], 0, "{body}");
    assert_eq!(shops().await.1, json!({"count": 10_000, "built": 2}));
    assert_eq!(sandbox.built_shops(), 2);
    let (status, _) = get(format!(
        "{}/_sandbox/state?shop={}",
        sandbox.base_url(),
        domain(10_000)
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sandbox.built_shops(), 3);
}

fn listed(a: &str, b: &str) -> String {
    json!({"shops": [
        {"credentials": {"shop_domain": a, "tiktok_shop_cipher": "CIPHER_A", "tiktok_access_token": "token-a",
                         "shopify_access_token": "shpat_a"},
         "shopify": {"locations": [{"id": 1, "name": "A"}],
                     "variants": [{"id": 1, "product_id": 1, "sku": "A", "inventory_item_id": 11,
                                   "levels": [{"location_id": 1, "available": 5}]}]}},
        {"credentials": {"shop_domain": b, "tiktok_shop_cipher": "CIPHER_B", "tiktok_access_token": "token-b",
                         "shopify_access_token": "shpat_b"},
         "tiktok": {"warehouses": [{"id": "1", "name": "w"}]}}
    ]})
    .to_string()
}

#[tokio::test]
async fn a_fixture_listing_shops_serves_each_with_its_own_credentials() {
    let shops = Shops::from_json(&listed("a.myshopify.com", "b.myshopify.com")).expect("valid");
    assert_eq!(shops.len(), 2);
    let sandbox = start_shops(shops, SandboxOptions::default()).await;
    let (status, body) =
        graphql_at(&sandbox.shopify_base_url("a.myshopify.com"), "shpat_a", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        sandbox
            .shop_state("b.myshopify.com")
            .unwrap()
            .shopify
            .variants,
        vec![]
    );
    // Both shops share the demo app key: the access token tells them apart.
    let (status, _, body) = TikTokCall::get("/authorization/202309/shops")
        .without("shop_cipher")
        .token(Some("token-b"))
        .send(&sandbox)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["shops"][0]["cipher"], "CIPHER_B");
}

#[test]
fn a_shop_list_is_checked_shop_by_shop() {
    let duplicate = Shops::from_json(&listed("a.myshopify.com", "a.myshopify.com"))
        .expect_err("one domain twice");
    assert_eq!(
        duplicate.to_string(),
        "fixture key `shops[1].credentials.shop_domain`: `a.myshopify.com` is also shop 0's; allowed: one shop per shop_domain"
    );
    let unknown =
        Shops::from_json(r#"{"shops": [{"shopify": {"variantz": []}}]}"#).expect_err("unknown key");
    assert!(
        unknown
            .to_string()
            .starts_with("fixture key `shops[0].shopify.variantz`"),
        "{unknown}"
    );
    let inconsistent = Shops::from_json(
        r#"{"shops": [{}, {"credentials": {"shop_domain": "x.myshopify.com", "tiktok_shop_cipher": "X"},
            "shopify": {"variants": [{"id": 1, "product_id": 1, "inventory_item_id": 1, "levels": [{"location_id": 9, "available": 1}]}]}}]}"#,
    )
    .expect_err("unknown location");
    assert!(
        inconsistent
            .to_string()
            .starts_with("fixture key `shops[1].shopify.variants[0]"),
        "{inconsistent}"
    );
    let empty = Shops::from_json(r#"{"shops": []}"#).expect_err("no shop");
    assert_eq!(
        empty.to_string(),
        "fixture key `shops`: is empty; allowed: at least one shop"
    );
}
