//! Starting sandboxes and talking to them as a client written from the reference docs would.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use stockbridge_sandbox::tiktok::signing::sign;
use stockbridge_sandbox::{credentials, Fixture, RunningSandbox, Sandbox, SandboxOptions};

/// Two Shopify products (three variants, one untracked) and a TikTok shop with sales,
/// return and disabled warehouses.
pub const FIXTURE: &str = r#"{
  "shopify": {
    "locations": [{"id": 1, "name": "Location A", "active": true},
                  {"id": 2, "name": "Location B"},
                  {"id": 3, "name": "Closed store", "active": false}],
    "variants": [{"id": 101, "product_id": 10, "sku": "TEE-RED-S", "inventory_item_id": 1001,
                  "tracked": true, "inventory_policy": "DENY",
                  "levels": [{"location_id": 1, "available": 100},
                             {"location_id": 2, "available": 200}]},
                 {"id": 102, "product_id": 10, "sku": "TEE-RED-M", "inventory_item_id": 1002,
                  "levels": [{"location_id": 1, "available": 5}]},
                 {"id": 103, "product_id": 11, "sku": "MUG", "inventory_item_id": 1003,
                  "tracked": false, "inventory_policy": "CONTINUE", "product_status": "DRAFT"}]
  },
  "tiktok": {
    "warehouses": [{"id": "7001", "name": "α", "is_default": true},
                   {"id": "7002", "name": "β"},
                   {"id": "7003", "name": "returns", "type": "RETURN_WAREHOUSE"},
                   {"id": "7004", "name": "closed", "effect_status": "DISABLED"}],
    "products": [{"id": "9001", "skus": [{"id": "90011", "seller_sku": "TEE-RED-S",
                  "inventory": [{"warehouse_id": "7001", "quantity": 0},
                                {"warehouse_id": "7002", "quantity": 0}]},
                                         {"id": "90012", "seller_sku": "TEE-RED-M",
                  "inventory": [{"warehouse_id": "7001", "quantity": 3}]}]},
                 {"id": "9002", "status": "SELLER_DEACTIVATED",
                  "skus": [{"id": "90021", "seller_sku": "MUG",
                  "inventory": [{"warehouse_id": "7001", "quantity": 1}]}]}]
  }
}"#;

pub fn fixture() -> Fixture {
    Fixture::from_json(FIXTURE).expect("the test fixture parses")
}

/// A fixture with `variants` Shopify variants and `products` TikTok products of one SKU each.
pub fn big_fixture(variants: u64, products: u64) -> Fixture {
    let variants: Vec<Value> = (1..=variants)
        .map(|i| {
            json!({"id": 1000 + i, "product_id": 10 + i / 3, "sku": format!("SKU-{i}"),
                   "inventory_item_id": 5000 + i,
                   "levels": [{"location_id": 1, "available": i}, {"location_id": 2, "available": 1}]})
        })
        .collect();
    let products: Vec<Value> = (1..=products)
        .map(|i| {
            json!({"id": format!("{}", 90_000 + i), "skus": [{"id": format!("{}", 900_000 + i),
                   "seller_sku": format!("SKU-{i}"), "inventory": [{"warehouse_id": "7001", "quantity": 0}]}]})
        })
        .collect();
    let text = json!({
        "shopify": {"locations": [{"id": 1, "name": "A"}, {"id": 2, "name": "B"}], "variants": variants},
        "tiktok": {"warehouses": [{"id": "7001", "name": "α"}], "products": products},
    });
    Fixture::from_json(&text.to_string()).expect("generated fixture parses")
}

pub async fn start(fixture: Fixture) -> RunningSandbox {
    start_with(fixture, SandboxOptions::default()).await
}

pub async fn start_with(fixture: Fixture, options: SandboxOptions) -> RunningSandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    Sandbox::start(fixture, listener, options)
        .await
        .expect("sandbox starts")
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `POST /admin/api/2025-10/graphql.json` with the demo token.
pub async fn graphql(
    sandbox: &RunningSandbox,
    query: &str,
    variables: Value,
) -> (StatusCode, Value) {
    graphql_with_token(sandbox, query, variables, credentials::SHOPIFY_ACCESS_TOKEN).await
}

pub async fn graphql_with_token(
    sandbox: &RunningSandbox,
    query: &str,
    variables: Value,
    token: &str,
) -> (StatusCode, Value) {
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/admin/api/2025-10/graphql.json",
            sandbox.base_url()
        ))
        .header("X-Shopify-Access-Token", token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("graphql request");
    let status = answer.status();
    (status, answer.json().await.expect("graphql answers JSON"))
}

pub async fn control(sandbox: &RunningSandbox, path: &str, body: Value) -> (StatusCode, Value) {
    let answer = reqwest::Client::new()
        .post(format!("{}/_sandbox/{path}", sandbox.base_url()))
        .json(&body)
        .send()
        .await
        .expect("control request");
    let status = answer.status();
    (status, answer.json().await.expect("control answers JSON"))
}

pub async fn get_json(sandbox: &RunningSandbox, path: &str) -> Value {
    reqwest::get(format!("{}{path}", sandbox.base_url()))
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

/// A signed TikTok call built the way tiktok-api.md §2 says.
pub struct TikTokCall {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<String>,
    token: Option<String>,
    secret: String,
    sign: Option<String>,
    headers: Vec<(String, String)>,
}

impl TikTokCall {
    pub fn new(method: Method, path: &str) -> TikTokCall {
        TikTokCall {
            method,
            path: path.to_owned(),
            query: vec![
                ("app_key".to_owned(), credentials::TIKTOK_APP_KEY.to_owned()),
                ("timestamp".to_owned(), now().to_string()),
                (
                    "shop_cipher".to_owned(),
                    credentials::TIKTOK_SHOP_CIPHER.to_owned(),
                ),
            ],
            body: None,
            token: Some(credentials::TIKTOK_ACCESS_TOKEN.to_owned()),
            secret: credentials::TIKTOK_APP_SECRET.to_owned(),
            sign: None,
            headers: Vec::new(),
        }
    }

    pub fn get(path: &str) -> TikTokCall {
        TikTokCall::new(Method::GET, path)
    }

    pub fn post(path: &str, body: Value) -> TikTokCall {
        let mut call = TikTokCall::new(Method::POST, path);
        call.body = Some(body.to_string());
        call
    }

    pub fn param(mut self, key: &str, value: &str) -> TikTokCall {
        self.query.retain(|(k, _)| k != key);
        self.query.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn without(mut self, key: &str) -> TikTokCall {
        self.query.retain(|(k, _)| k != key);
        self
    }

    pub fn token(mut self, token: Option<&str>) -> TikTokCall {
        self.token = token.map(str::to_owned);
        self
    }

    pub fn secret(mut self, secret: &str) -> TikTokCall {
        self.secret = secret.to_owned();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> TikTokCall {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn sign(mut self, sign: &str) -> TikTokCall {
        self.sign = Some(sign.to_owned());
        self
    }

    pub async fn send(self, sandbox: &RunningSandbox) -> (StatusCode, HeaderMap, Value) {
        let body = self.body.clone().unwrap_or_default();
        let sign = self
            .sign
            .clone()
            .unwrap_or_else(|| sign(&self.secret, &self.path, &self.query, body.as_bytes()));
        let mut query = self.query.clone();
        query.push(("sign".to_owned(), sign));
        let mut request = reqwest::Client::new()
            .request(
                self.method.clone(),
                format!("{}{}", sandbox.base_url(), self.path),
            )
            .query(&query);
        if let Some(token) = &self.token {
            request = request.header("x-tts-access-token", token);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if self.body.is_some() {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let answer = request.send().await.expect("tiktok request");
        let status = answer.status();
        let headers = answer.headers().clone();
        (
            status,
            headers,
            answer.json().await.expect("tiktok answers JSON"),
        )
    }
}

/// Polls `check` every 20 ms until it returns `Some`, failing after `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One webhook as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }
}

/// A tiny webhook receiver: answers 500 to the first `failures` deliveries, 200 after.
pub struct Receiver {
    pub url: String,
    pub deliveries: tokio::sync::mpsc::UnboundedReceiver<Received>,
}

impl Receiver {
    pub async fn start(failures: usize) -> Receiver {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let seen = Arc::new(AtomicUsize::new(0));
        let app = axum::Router::new().route(
            "/webhooks/shopify",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let tx = tx.clone();
                    let seen = seen.clone();
                    async move {
                        if seen.fetch_add(1, Ordering::SeqCst) < failures {
                            return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                        }
                        let _ = tx.send(Received {
                            headers,
                            body: body.to_vec(),
                        });
                        axum::http::StatusCode::OK
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks/shopify", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url,
            deliveries: rx,
        }
    }

    /// The next delivery; fails after 5 s.
    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(5), self.deliveries.recv())
            .await
            .expect("a webhook within 5 s")
            .expect("receiver open")
    }

    /// Nothing more arrives within `wait`.
    pub async fn nothing_within(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.deliveries.recv())
            .await
            .is_err()
    }
}

pub async fn start_with_receiver(failures: usize) -> (RunningSandbox, Receiver) {
    let receiver = Receiver::start(failures).await;
    let options = SandboxOptions {
        webhook_urls: vec![receiver.url.clone()],
        ..SandboxOptions::default()
    };
    (start_with(fixture(), options).await, receiver)
}
