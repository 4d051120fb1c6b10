//! The control API under `/_sandbox/`: change a store as a merchant would (with the matching
//! webhooks), read the state and the stats, and set faults. No auth. Bodies and answers are
//! JSON; a bad body is 400 and an unknown id 404, both `{"error": "..."}`, with no webhook.
//!
//! | call | body | effect |
//! |---|---|---|
//! | `POST /_sandbox/shopify/inventory_levels` | `{"inventory_item_id", "location_id", "available"}` | sets a level; webhook `inventory_levels/update`, or `inventory_levels/connect` when the item was not stocked there |
//! | `POST /_sandbox/shopify/inventory_items/{id}` | `{"tracked"}` | `inventory_items/update` |
//! | `POST /_sandbox/shopify/variants/{id}` | `{"inventory_policy": "DENY" \| "CONTINUE"}` | `products/update` |
//! | `POST /_sandbox/shopify/products/{id}` | `{"status": "ACTIVE" \| "DRAFT" \| "ARCHIVED" \| "UNLISTED"}` | `products/update` |
//! | `POST /_sandbox/shopify/locations/{id}` | `{"active"}` | `locations/activate` or `locations/deactivate`, and `locations/update` |
//! | `POST /_sandbox/tiktok/skus/{sku_id}` | `{"quantity", "warehouse_id"?}` | a hand edit in Seller Center (no webhook); `quantity` 0 to 999,999; `warehouse_id` may be left out when the SKU has one warehouse |
//! | `POST /_sandbox/tiktok/token/expire` | none | the current TikTok access token expires now |
//! | `POST /_sandbox/tiktok/orders` | `{"id"?, "status"?, "lines": [{"sku_id", "quantity", "warehouse_id"?}]}` | a buyer orders on TikTok: TikTok's stock drops (409 when out of stock), `ORDER_STATUS_CHANGE` to every TikTok webhook URL |
//! | `POST /_sandbox/tiktok/orders/{id}/status` | `{"status"}` | a status change; `CANCELLED` gives the units back; with its TikTok webhook |
//! | `POST /_sandbox/shopify/orders` | `{"tiktok_order_id"?, "marker"?, "lines": [{"variant_id", "quantity", "location_id"}]}` | an order-sync app copies an order into Shopify: available drops; `inventory_levels/update` per line, then `orders/create` |
//! | `GET /_sandbox/state` | | the whole state in the fixture format |
//! | `GET /_sandbox/stats` | | [`Stats`](crate::Stats) |
//! | `POST /_sandbox/stats/reset` | none | zeroes the stats |
//! | `GET /_sandbox/faults` | | the [`Faults`] in force |
//! | `POST /_sandbox/faults` | [`Faults`] | replaces the faults in force (`{}` clears them) |
//! | `GET /_sandbox/writes?shop_cipher=C` | | the shop's TikTok inventory writes in arrival order, each with its `X-Stockbridge-Lease` |
//! | `GET /_sandbox/shops` | | `{"count", "built"}`: shops served, shops built so far |
//!
//! Every call but the last is about one shop: `?shop=DOMAIN` chooses it (404 for a domain no
//! shop has), shop 1 without it (see `shops` for how emulator requests find theirs).
//!
//! Bulk results are served beside them, at `GET /_sandbox/bulk/{id}.jsonl` (see `shopify`).

mod orders;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use crate::clock;
use crate::faults::Faults;
use crate::fixture::{InventoryPolicy, ProductStatus};
use crate::server::{Hub, Shared, ShopOf};
use crate::store::shopify::LevelSet;
use crate::tiktok::MAX_QUANTITY;
use crate::webhooks::{self, payloads, Event};

pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/_sandbox/shopify/inventory_levels", post(set_level))
        .route("/_sandbox/shopify/inventory_items/{id}", post(set_tracked))
        .route("/_sandbox/shopify/variants/{id}", post(set_policy))
        .route("/_sandbox/shopify/products/{id}", post(set_product_status))
        .route("/_sandbox/shopify/locations/{id}", post(set_location))
        .route("/_sandbox/tiktok/skus/{sku_id}", post(edit_sku))
        .route("/_sandbox/tiktok/token/expire", post(expire_token))
        .route("/_sandbox/state", get(state))
        .route("/_sandbox/stats", get(stats))
        .route("/_sandbox/stats/reset", post(reset_stats))
        .route("/_sandbox/faults", get(get_faults).post(set_faults))
        .route("/_sandbox/writes", get(writes))
        .route("/_sandbox/shops", get(shops))
        .merge(orders::routes())
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|err| format!("invalid body: {err}"))
}

fn published(shared: &Arc<Shared>, events: Vec<Event>, extra: serde_json::Value) -> Response {
    let ids = webhooks::publish(shared, events);
    let mut body = json!({"event_ids": ids});
    if let (Some(map), serde_json::Value::Object(more)) = (body.as_object_mut(), extra) {
        map.extend(more);
    }
    Json(body).into_response()
}

/// Delivers one webhook about `payload` and answers with it under `key`.
fn published_one(
    shared: &Arc<Shared>,
    topic: &'static str,
    key: &str,
    payload: serde_json::Value,
) -> Response {
    let mut extra = serde_json::Map::new();
    extra.insert(key.to_owned(), payload.clone());
    let events = vec![Event {
        topic,
        body: payload,
    }];
    published(shared, events, serde_json::Value::Object(extra))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelChange {
    inventory_item_id: u64,
    location_id: u64,
    available: i64,
}

async fn set_level(ShopOf(shared): ShopOf, body: Bytes) -> Response {
    let change: LevelChange = match parse(&body) {
        Ok(c) => c,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let (set, payload) = {
        let mut world = shared.world();
        let now = clock::now_millis();
        match world.shopify.set_available(
            change.inventory_item_id,
            change.location_id,
            change.available,
            now,
        ) {
            Ok((set, record)) => (set, payloads::inventory_level(record, change.location_id)),
            Err(err) => return error(StatusCode::NOT_FOUND, err.to_string()),
        }
    };
    // A level that did not exist means the item got stocked at the location: Shopify tells
    // that with `connect`, not `update`.
    let topic = match set {
        LevelSet::Updated => "inventory_levels/update",
        LevelSet::Connected => "inventory_levels/connect",
    };
    published_one(&shared, topic, "inventory_level", payload)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackedChange {
    tracked: bool,
}

async fn set_tracked(ShopOf(shared): ShopOf, Path(id): Path<u64>, body: Bytes) -> Response {
    let change: TrackedChange = match parse(&body) {
        Ok(c) => c,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let payload = {
        let mut world = shared.world();
        match world
            .shopify
            .set_tracked(id, change.tracked, clock::now_millis())
        {
            Ok(record) => payloads::inventory_item(record),
            Err(err) => return error(StatusCode::NOT_FOUND, err.to_string()),
        }
    };
    published_one(&shared, "inventory_items/update", "inventory_item", payload)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyChange {
    inventory_policy: InventoryPolicy,
}

async fn set_policy(ShopOf(shared): ShopOf, Path(id): Path<u64>, body: Bytes) -> Response {
    let change: PolicyChange = match parse(&body) {
        Ok(c) => c,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let payload = {
        let mut world = shared.world();
        let product_id =
            match world
                .shopify
                .set_policy(id, change.inventory_policy, clock::now_millis())
            {
                Ok(record) => record.variant.product_id,
                Err(err) => return error(StatusCode::NOT_FOUND, err.to_string()),
            };
        payloads::product(&world.shopify, product_id)
    };
    published_one(&shared, "products/update", "product", payload)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    status: ProductStatus,
}

async fn set_product_status(ShopOf(shared): ShopOf, Path(id): Path<u64>, body: Bytes) -> Response {
    let change: StatusChange = match parse(&body) {
        Ok(c) => c,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let payload = {
        let mut world = shared.world();
        if let Err(err) = world
            .shopify
            .set_product_status(id, change.status, clock::now_millis())
        {
            return error(StatusCode::NOT_FOUND, err.to_string());
        }
        payloads::product(&world.shopify, id)
    };
    published_one(&shared, "products/update", "product", payload)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActiveChange {
    active: bool,
}

async fn set_location(ShopOf(shared): ShopOf, Path(id): Path<u64>, body: Bytes) -> Response {
    let change: ActiveChange = match parse(&body) {
        Ok(c) => c,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let payload = {
        let mut world = shared.world();
        match world.shopify.set_location_active(id, change.active) {
            Ok(location) => payloads::location(location, clock::now_millis()),
            Err(err) => return error(StatusCode::NOT_FOUND, err.to_string()),
        }
    };
    let topic = if change.active {
        "locations/activate"
    } else {
        "locations/deactivate"
    };
    let events = vec![
        Event {
            topic,
            body: payload.clone(),
        },
        Event {
            topic: "locations/update",
            body: payload.clone(),
        },
    ];
    published(&shared, events, json!({"location": payload}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SkuEdit {
    warehouse_id: Option<String>,
    quantity: i64,
}

/// A hand edit in Seller Center: no webhook.
async fn edit_sku(ShopOf(shared): ShopOf, Path(sku_id): Path<String>, body: Bytes) -> Response {
    let edit: SkuEdit = match parse(&body) {
        Ok(e) => e,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    // Seller Center takes what the API takes, and a state dump must load again as a fixture.
    if !(0..=MAX_QUANTITY).contains(&edit.quantity) {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "quantity is {}; allowed: 0 to {MAX_QUANTITY}",
                edit.quantity
            ),
        );
    }
    let mut world = shared.world();
    let store = &mut world.tiktok;
    let Some((product, sku)) = store.sku_position(&sku_id) else {
        return error(StatusCode::NOT_FOUND, format!("unknown SKU {sku_id}"));
    };
    let current = &store.product_at(product).product.skus[sku];
    let warehouse_id = match edit.warehouse_id {
        Some(id) => id,
        None if current.inventory.len() == 1 => current.inventory[0].warehouse_id.clone(),
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "warehouse_id is required: the SKU has several warehouses",
            )
        }
    };
    if store.warehouse(&warehouse_id).is_none() {
        return error(
            StatusCode::NOT_FOUND,
            format!("unknown warehouse {warehouse_id}"),
        );
    }
    store.edit_by_hand(
        product,
        sku,
        warehouse_id,
        edit.quantity,
        clock::now_seconds(),
    );
    let sku = store.product_at(product).product.skus[sku].clone();
    Json(json!({"sku": sku})).into_response()
}

async fn expire_token(ShopOf(shared): ShopOf) -> Response {
    shared.world().tokens.access_expires_at = clock::now_millis();
    Json(json!({"expired": true})).into_response()
}

async fn state(ShopOf(shared): ShopOf) -> Response {
    // Copy under the lock, print after releasing it: printing a large store takes a while and
    // every emulator call waits for the lock.
    let snapshot = shared.world().snapshot();
    let text = snapshot.to_json_pretty();
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        text,
    )
        .into_response()
}

/// The writes of the shop with `shop_cipher` (or `?shop=DOMAIN`; shop 1 with neither).
async fn writes(ShopOf(shared): ShopOf, uri: Uri) -> Response {
    let query = crate::tiktok::query_pairs(&uri);
    let cipher = query.iter().find(|(k, _)| k == "shop_cipher");
    if let Some((_, cipher)) = cipher {
        if *cipher != shared.credentials.tiktok_shop_cipher {
            return error(
                StatusCode::NOT_FOUND,
                format!("unknown shop_cipher {cipher}: no shop of this sandbox has it"),
            );
        }
    }
    let writes = shared.world().writes.clone();
    Json(writes).into_response()
}

async fn shops(State(hub): State<Arc<Hub>>) -> Response {
    Json(json!({"count": hub.shops.len(), "built": hub.shops.built()})).into_response()
}

async fn stats(ShopOf(shared): ShopOf) -> Response {
    Json(shared.stats.snapshot()).into_response()
}

async fn reset_stats(ShopOf(shared): ShopOf) -> Response {
    shared.stats.reset();
    Json(json!({"reset": true})).into_response()
}

async fn get_faults(ShopOf(shared): ShopOf) -> Response {
    Json(shared.faults.get()).into_response()
}

async fn set_faults(ShopOf(shared): ShopOf, body: Bytes) -> Response {
    let faults: Faults = match parse(&body) {
        Ok(f) => f,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    if let Err(message) = faults.validate() {
        return error(StatusCode::BAD_REQUEST, message);
    }
    shared.faults.set(faults.clone());
    Json(faults).into_response()
}
