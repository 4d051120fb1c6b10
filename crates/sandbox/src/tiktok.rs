//! The TikTok Shop emulator (API 202309): TikTok's envelope and error codes, and the checks
//! every signed call passes: app key, timestamp window, signature, access token, shop cipher,
//! per-second request limit, injected faults.

mod auth;
mod catalog;
mod inventory;
pub(crate) mod limiter;
mod orders;
pub mod signing;

pub use catalog::SEARCH_RESULT_CAP;

pub(crate) use inventory::MAX_QUANTITY;

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use rand::Rng;
use serde_json::{json, Value};

use crate::clock;
use crate::faults::{ApiOutcome, Emulator};
use crate::server::{Hub, Shared, ShopOf};
use crate::store::tiktok::TokenCheck;

/// How far behind TikTok's clock a timestamp may be.
const MAX_BEHIND_SECONDS: i64 = 300;
/// How far ahead of TikTok's clock a timestamp may be.
const MAX_AHEAD_SECONDS: i64 = 30;

pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/authorization/202309/shops", only(get(catalog::shops)))
        .route(
            "/logistics/202309/warehouses",
            only(get(catalog::warehouses)),
        )
        .route(
            "/product/202309/products/search",
            only(post(catalog::search_products)),
        )
        .route(
            "/product/202502/products/search",
            only(post(catalog::search_products)),
        )
        .route(
            "/product/202309/inventory/search",
            only(post(inventory::search_inventory)),
        )
        .route(
            "/product/202309/products/{product_id}/inventory/update",
            only(post(inventory::update)),
        )
        .route("/order/202309/orders/search", only(post(orders::search)))
        .route("/api/v2/token/get", only(get(auth::token_get)))
        .route("/api/v2/token/refresh", only(get(auth::token_refresh)))
}

fn only(route: MethodRouter<Arc<Hub>>) -> MethodRouter<Arc<Hub>> {
    route.fallback(method_not_allowed)
}

/// An answer in TikTok's envelope.
pub(crate) struct Reply {
    status: StatusCode,
    code: i64,
    message: String,
    data: Option<Value>,
    retry_after: Option<u64>,
    /// Answer kind for the stats, when not derived from `code`.
    kind: Option<&'static str>,
}

impl Reply {
    pub(crate) fn ok(data: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            code: 0,
            message: "Success".to_owned(),
            data: Some(data),
            retry_after: None,
            kind: None,
        }
    }

    pub(crate) fn error(status: StatusCode, code: i64, message: impl Into<String>) -> Reply {
        Reply {
            status,
            code,
            message: message.into(),
            data: None,
            retry_after: None,
            kind: None,
        }
    }

    /// 36009004: the gateway's catch-all for bad credentials and parameters.
    pub(crate) fn invalid(status: StatusCode, message: impl Into<String>) -> Reply {
        Reply::error(status, 36009004, message)
    }

    pub(crate) fn with_kind(mut self, kind: &'static str) -> Reply {
        self.kind = Some(kind);
        self
    }

    fn rate_limited(wait_ms: u64) -> Reply {
        let mut reply = Reply::error(
            StatusCode::TOO_MANY_REQUESTS,
            36009002,
            "Too many requests. The request rate exceeds the limit; retry later.",
        );
        reply.retry_after = Some(wait_ms.div_ceil(1000).max(1));
        reply
    }

    fn kind(&self) -> &'static str {
        if let Some(kind) = self.kind {
            return kind;
        }
        match self.code {
            0 => "ok",
            36009002 => "rate_limited",
            36009003 => "error",
            106001 => "invalid_sign",
            105001 | 105002 => "unauthorized",
            _ => "rejected",
        }
    }

    fn into_response(self) -> Response {
        let mut body = json!({
            "code": self.code,
            "message": self.message,
            "request_id": request_id(),
        });
        if let Some(data) = self.data {
            body["data"] = data;
        }
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

fn request_id() -> String {
    let stamp: String = clock::rfc3339_seconds(clock::now_seconds())
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    format!("{stamp}{:018X}", rand::thread_rng().gen::<u64>() >> 8)
}

/// Records the answer in the stats and sends it.
pub(crate) fn finish(shared: &Shared, endpoint: &str, reply: Reply) -> Response {
    shared.stats.tiktok(endpoint, reply.kind());
    reply.into_response()
}

/// A signed call's checked query pairs.
pub(crate) struct Call {
    pub(crate) query: Vec<(String, String)>,
}

impl Call {
    pub(crate) fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// The parts of a request a signed endpoint's checks read besides its body: an extractor,
/// so that each endpoint takes it whole.
pub(crate) struct Incoming {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
}

impl<S: Send + Sync> FromRequestParts<S> for Incoming {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Incoming {
            method: parts.method.clone(),
            uri: parts.uri.clone(),
            headers: parts.headers.clone(),
        })
    }
}

/// A signed endpoint: runs the checks (`gate`) on the request and its `body`, answers a call
/// that passes them with `respond`, and records the answer in the stats (`finish`).
pub(crate) async fn signed(
    shared: &Shared,
    endpoint: &str,
    shop_scoped: bool,
    request: &Incoming,
    body: &Bytes,
    respond: impl FnOnce(&Call) -> Result<Reply, Reply>,
) -> Response {
    let checked = gate(
        shared,
        endpoint,
        shop_scoped,
        &request.method,
        &request.uri,
        &request.headers,
        body,
    )
    .await;
    let reply = match checked {
        Err(reply) => reply,
        Ok(call) => respond(&call).unwrap_or_else(|r| r),
    };
    finish(shared, endpoint, reply)
}

/// Every check a signed endpoint makes before its handler runs.
async fn gate(
    shared: &Shared,
    endpoint: &str,
    shop_scoped: bool,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Call, Reply> {
    let call = Call {
        query: query_pairs(uri),
    };
    let credentials = &shared.credentials;
    match call.param("app_key") {
        None => {
            return Err(Reply::invalid(
                StatusCode::UNAUTHORIZED,
                "Invalid credentials. The app_key query parameter is missing.",
            ))
        }
        Some(key) if key != credentials.tiktok_app_key => {
            return Err(Reply::invalid(
                StatusCode::UNAUTHORIZED,
                format!("Invalid credentials. The app_key {key} is invalid."),
            ))
        }
        Some(_) => {}
    }
    let Some(presented) = call.param("sign") else {
        return Err(Reply::invalid(
            StatusCode::UNAUTHORIZED,
            "Invalid credentials. The sign query parameter is missing.",
        ));
    };
    let Some(timestamp) = call.param("timestamp").and_then(|t| t.parse::<i64>().ok()) else {
        return Err(Reply::invalid(
            StatusCode::BAD_REQUEST,
            "Invalid timestamp. The timestamp query parameter must be Unix seconds.",
        ));
    };
    let now = clock::now_seconds();
    // The timestamp is the client's: any i64, so the differences saturate.
    if now.saturating_sub(timestamp) > MAX_BEHIND_SECONDS
        || timestamp.saturating_sub(now) > MAX_AHEAD_SECONDS
    {
        return Err(Reply::invalid(
            StatusCode::BAD_REQUEST,
            format!("Invalid timestamp {timestamp}. It must be at most 5 minutes behind and 30 seconds ahead of the server time {now}."),
        ));
    }
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let signed_body: &[u8] = if multipart { b"" } else { body };
    let expected = signing::sign(
        &credentials.tiktok_app_secret,
        uri.path(),
        &call.query,
        signed_body,
    );
    if !signing::matches(&expected, presented) {
        return Err(Reply::error(
            StatusCode::UNAUTHORIZED,
            106001,
            "Invalid credentials. The signature is invalid.",
        ));
    }
    let Some(token) = headers
        .get("x-tts-access-token")
        .and_then(|v| v.to_str().ok())
    else {
        return Err(Reply::invalid(
            StatusCode::UNAUTHORIZED,
            "Invalid credentials. The x-tts-access-token header is missing.",
        ));
    };
    let check = shared.world().tokens.check(token, clock::now_millis());
    match check {
        TokenCheck::Valid => {}
        TokenCheck::Unknown => {
            return Err(Reply::error(
                StatusCode::UNAUTHORIZED,
                105001,
                "Invalid credentials. The access token is invalid.",
            ))
        }
        TokenCheck::Expired => {
            return Err(Reply::error(
                StatusCode::UNAUTHORIZED,
                105002,
                "Expired credentials. The access token has expired; refresh it.",
            ))
        }
    }
    match (shop_scoped, call.param("shop_cipher")) {
        (true, None) => {
            return Err(Reply::error(StatusCode::BAD_REQUEST, 106013, "The shop_cipher query parameter is required for this API."))
        }
        (true, Some(cipher)) if cipher != credentials.tiktok_shop_cipher => {
            return Err(Reply::invalid(StatusCode::BAD_REQUEST, format!("Invalid shop_cipher {cipher}: no authorized shop has it.")))
        }
        (false, Some(_)) => {
            return Err(Reply::invalid(
                StatusCode::BAD_REQUEST,
                "Unexpected identifier. The `shop_cipher` query parameter is not required for this API.",
            ))
        }
        _ => {}
    }
    if *method == Method::POST && !body.is_empty() {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json {
            return Err(Reply::error(
                StatusCode::BAD_REQUEST,
                36009022,
                "Invalid Content-Type. It must be application/json.",
            ));
        }
    }
    if let Some(limit) = shared.options.tiktok_requests_per_second {
        if let Err(wait) = shared.limiter.lock().expect("limiter lock").admit(limit) {
            return Err(Reply::rate_limited(wait.as_millis() as u64));
        }
    }
    let (delay, outcome) = shared.faults.api(Emulator::TikTok, endpoint);
    if !delay.is_zero() {
        // Counted on arrival: a caller that gives up waiting never sees an answer counted.
        shared.stats.tiktok(endpoint, "delayed");
        tokio::time::sleep(delay).await;
    }
    match outcome {
        ApiOutcome::Normal => Ok(call),
        ApiOutcome::Throttle => Err(Reply::rate_limited(1000)),
        ApiOutcome::Error => Err(Reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            36009003,
            "Internal error. Please retry later.",
        )),
    }
}

/// Parses a JSON body, answering 36009004 naming the problem when it is not.
pub(crate) fn json_body(body: &Bytes) -> Result<Value, Reply> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|err| {
        Reply::invalid(
            StatusCode::BAD_REQUEST,
            format!("Invalid request body: {err}"),
        )
    })
}

async fn method_not_allowed(ShopOf(shared): ShopOf, uri: Uri) -> Response {
    finish(
        &shared,
        "unknown",
        Reply::error(
            StatusCode::METHOD_NOT_ALLOWED,
            36009010,
            format!("The HTTP method is not supported by {}.", uri.path()),
        ),
    )
}

/// Unknown paths: TikTok's 36009009 under TikTok's prefixes, a plain 404 elsewhere.
pub(crate) async fn unknown_path(ShopOf(shared): ShopOf, uri: Uri) -> Response {
    const PREFIXES: [&str; 8] = [
        "/api/",
        "/product/",
        "/logistics/",
        "/authorization/",
        "/seller/",
        "/order/",
        "/event/",
        "/fulfillment/",
    ];
    if PREFIXES.iter().any(|p| uri.path().starts_with(p)) {
        finish(
            &shared,
            "unknown",
            Reply::error(
                StatusCode::NOT_FOUND,
                36009009,
                format!("Path {} not found.", uri.path()),
            ),
        )
    } else {
        (StatusCode::NOT_FOUND, "not found").into_response()
    }
}
