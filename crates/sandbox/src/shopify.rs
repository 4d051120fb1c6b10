//! The Shopify Admin GraphQL emulator: `POST /admin/api/{version}/graphql.json` with token
//! check, calculated query cost, leaky-bucket throttling and bulk operations.

pub(crate) mod bulk;
pub(crate) mod cost;
pub(crate) mod gid;
pub(crate) mod schema;
mod search;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::faults::{ApiOutcome, Emulator};
use crate::server::{Hub, Shared, ShopOf};
use crate::webhooks::random_id;

/// Shopify's limit on the components of one bundle.
pub(crate) const MAX_COMPONENTS: usize = 30;

const INVALID_TOKEN: &str =
    "[API] Invalid API key or access token (unrecognized login or wrong password)";
const THROTTLE_DOCS: &str = "https://shopify.dev/api/usage/rate-limits";

pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/admin/api/{version}/{file}", post(graphql))
        .route(
            "/shops/{shop}/admin/api/{version}/{file}",
            post(shop_graphql),
        )
        .route("/_sandbox/bulk/{file}", get(bulk_file))
}

/// The endpoint under a shop's prefix: a Shopify `base_url` of `http://ADDR/shops/{domain}`
/// addresses that shop (the prefix stands for the shop's own host, `https://{domain}`).
async fn shop_graphql(
    shop: ShopOf,
    Path((_shop, version, file)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    graphql(shop, Path((version, file)), headers, body).await
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

fn cost_extension(shared: &Shared, requested: u64, actual: Option<u64>) -> Value {
    let status = shared.bucket.lock().expect("bucket lock").status();
    json!({"cost": {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": status,
    }})
}

fn throttled(shared: &Shared, requested: u64) -> Response {
    shared.stats.shopify("graphql", "throttled");
    answer(
        StatusCode::OK,
        json!({
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": THROTTLE_DOCS}}],
            "extensions": cost_extension(shared, requested, None),
        }),
    )
}

async fn graphql(
    ShopOf(shared): ShopOf,
    Path((_version, file)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if file != "graphql.json" {
        return answer(StatusCode::NOT_FOUND, json!({"errors": "Not Found"}));
    }
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok());
    if token != Some(shared.credentials.shopify_access_token.as_str()) {
        shared.stats.shopify("graphql", "unauthorized");
        return answer(StatusCode::UNAUTHORIZED, json!({"errors": INVALID_TOKEN}));
    }
    let (delay, outcome) = shared.faults.api(Emulator::Shopify, "graphql");
    if !delay.is_zero() {
        // Counted on arrival: a caller that gives up waiting never sees an answer counted.
        shared.stats.shopify("graphql", "delayed");
        tokio::time::sleep(delay).await;
    }
    if outcome == ApiOutcome::Error {
        shared.stats.shopify("graphql", "error");
        let request_id = random_id();
        return answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"errors": [{
                "message": format!("Internal error. Looks like something went wrong on our end.\nRequest ID: {request_id} (include this in support requests)."),
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }]}),
        );
    }
    // An injected throttle is answered below, once the query's cost is known.
    let mut request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(_) => {
            shared.stats.shopify("graphql", "bad_request");
            return answer(
                StatusCode::BAD_REQUEST,
                json!({"errors": {"query": "Required parameter missing or invalid"}}),
            );
        }
    };
    let requested = match request.parsed_query() {
        Ok(doc) => {
            let doc = doc.clone();
            cost::requested_cost(&doc, request.operation_name.as_deref(), &request.variables)
        }
        Err(_) => 0,
    };
    let max_cost = shared.bucket.lock().expect("bucket lock").max_query_cost();
    if requested > max_cost {
        shared.stats.shopify("graphql", "max_cost_exceeded");
        let message = format!(
            "Query cost is {requested}, which exceeds the single query max cost limit ({max_cost}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n",
        );
        return answer(
            StatusCode::OK,
            json!({
                "errors": [{"message": message, "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": max_cost}}],
                "extensions": cost_extension(&shared, requested, None),
            }),
        );
    }
    let taken = {
        let mut bucket = shared.bucket.lock().expect("bucket lock");
        if outcome == ApiOutcome::Throttle {
            // An injected throttle looks like a real one: the bucket lacks the query's cost.
            bucket.fall_short_of(requested);
            false
        } else {
            bucket.try_take(requested)
        }
    };
    if !taken {
        return throttled(&shared, requested);
    }
    let response = shared.schema.execute(request.data(shared.clone())).await;
    let has_errors = !response.errors.is_empty();
    let mut body = serde_json::to_value(&response).unwrap_or_else(|_| json!({}));
    let actual = body.get("data").map_or(0, cost::actual_cost).min(requested);
    shared
        .bucket
        .lock()
        .expect("bucket lock")
        .refund(requested - actual);
    shared.stats.shopify_cost(actual);
    if let Value::Object(map) = &mut body {
        map.insert(
            "extensions".to_owned(),
            cost_extension(&shared, requested, Some(actual)),
        );
    }
    shared
        .stats
        .shopify("graphql", if has_errors { "graphql_error" } else { "ok" });
    answer(StatusCode::OK, body)
}

async fn bulk_file(ShopOf(shared): ShopOf, Path(file): Path<String>) -> Response {
    let id = file
        .strip_suffix(".jsonl")
        .and_then(|id| id.parse::<u64>().ok());
    match id.and_then(|id| bulk::file(&shared, id)) {
        Some(jsonl) => {
            shared.stats.shopify("bulk_download", "ok");
            (
                [(header::CONTENT_TYPE, "application/jsonl")],
                jsonl.as_ref().clone(),
            )
                .into_response()
        }
        None => {
            shared.stats.shopify("bulk_download", "not_found");
            (StatusCode::NOT_FOUND, "no such bulk operation result").into_response()
        }
    }
}
