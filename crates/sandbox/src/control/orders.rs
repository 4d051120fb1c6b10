//! Orders through the control API (spec/sandbox.md, version 2): a buyer orders on TikTok, an
//! order changes status on TikTok, an order-sync app copies an order into Shopify.
//!
//! A TikTok order counts its oversold units (see [`Stats::oversold`](crate::Stats)) before it
//! takes TikTok's stock.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{error, parse, published};
use crate::clock;
use crate::fixture::{
    Attribute, InventoryPolicy, ShopifyOrder, ShopifyOrderLine, TikTokOrder, TikTokOrderLine,
    TikTokOrderStatus,
};
use crate::server::{Hub, ShopOf};
use crate::store::orders::stock_moves;
use crate::store::World;
use crate::tiktok::MAX_QUANTITY;
use crate::webhooks::{self, payloads, Event};

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/_sandbox/tiktok/orders", post(place_tiktok_order))
        .route(
            "/_sandbox/tiktok/orders/{id}/status",
            post(set_tiktok_status),
        )
        .route("/_sandbox/shopify/orders", post(copy_into_shopify))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTikTokOrder {
    id: Option<String>,
    status: Option<TikTokOrderStatus>,
    lines: Vec<NewTikTokLine>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTikTokLine {
    sku_id: String,
    quantity: u64,
    warehouse_id: Option<String>,
}

/// Why a control call is refused: its status and message.
type Refusal = (StatusCode, String);

async fn place_tiktok_order(ShopOf(shared): ShopOf, body: Bytes) -> Response {
    let new: NewTikTokOrder = match parse(&body) {
        Ok(n) => n,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let placed = {
        let mut world = shared.world();
        place(&mut world, new)
    };
    let (order, oversold) = match placed {
        Ok(done) => done,
        Err((status, message)) => return error(status, message),
    };
    shared.stats.oversold(oversold);
    let update_time = order.update_time.unwrap_or_default();
    let notification =
        webhooks::publish_tiktok_order(&shared, &order.id, order.status.as_str(), update_time);
    Json(json!({"order": order, "oversold": oversold, "notification_ids": [notification]}))
        .into_response()
}

/// Checks the order, counts what it oversells, takes TikTok's stock and records it.
fn place(world: &mut World, new: NewTikTokOrder) -> Result<(TikTokOrder, u64), Refusal> {
    let bad = |message: String| (StatusCode::BAD_REQUEST, message);
    if new.lines.is_empty() {
        return Err(bad("lines is empty; allowed: at least one line".to_owned()));
    }
    let status = new.status.unwrap_or_default();
    if !status.takes_stock() {
        return Err(bad(format!(
            "status is {}; a new order takes stock, so allowed: any other status",
            status.as_str()
        )));
    }
    let id = match new.id {
        Some(id) if id.trim().is_empty() => return Err(bad("id is empty".to_owned())),
        Some(id) if world.orders.tiktok_order(&id).is_some() => {
            return Err((StatusCode::CONFLICT, format!("order {id} exists already")))
        }
        Some(id) => id,
        None => world.orders.new_tiktok_id(),
    };
    // Units taken per (SKU, warehouse) by this order's earlier lines.
    let mut taken: HashMap<(String, String), u64> = HashMap::new();
    let mut lines = Vec::with_capacity(new.lines.len());
    for (i, line) in new.lines.iter().enumerate() {
        if line.quantity == 0 {
            return Err(bad(format!("lines[{i}].quantity is 0; allowed: 1 or more")));
        }
        let store = &world.tiktok;
        let Some((product, index)) = store.sku_position(&line.sku_id) else {
            return Err((
                StatusCode::NOT_FOUND,
                format!("unknown SKU {}", line.sku_id),
            ));
        };
        let sku = &store.product_at(product).product.skus[index];
        let left = |warehouse: &str| {
            let stock = sku
                .inventory
                .iter()
                .find(|e| e.warehouse_id == warehouse)
                .map_or(0, |e| e.quantity.max(0) as u64);
            let used = taken
                .get(&(sku.id.clone(), warehouse.to_owned()))
                .copied()
                .unwrap_or(0);
            stock.saturating_sub(used)
        };
        let warehouse = match &line.warehouse_id {
            Some(w) if sku.inventory.iter().any(|e| &e.warehouse_id == w) => w.clone(),
            Some(w) => {
                return Err(bad(format!(
                    "lines[{i}].warehouse_id {w}: SKU {} is not stocked there",
                    sku.id
                )))
            }
            None => sku
                .inventory
                .iter()
                .find(|e| left(&e.warehouse_id) >= line.quantity)
                .or(sku.inventory.first())
                .map(|e| e.warehouse_id.clone())
                .ok_or_else(|| bad(format!("SKU {} is stocked in no warehouse", sku.id)))?,
        };
        if left(&warehouse) < line.quantity {
            return Err((
                StatusCode::CONFLICT,
                format!(
                    "out of stock: SKU {} has {} left in warehouse {warehouse}; the order asks {}",
                    sku.id,
                    left(&warehouse),
                    line.quantity
                ),
            ));
        }
        *taken
            .entry((sku.id.clone(), warehouse.clone()))
            .or_default() += line.quantity;
        lines.push(TikTokOrderLine {
            sku_id: sku.id.clone(),
            seller_sku: sku.seller_sku.clone(),
            quantity: line.quantity,
            warehouse_id: Some(warehouse),
        });
    }
    let oversold = oversold_by(world, &lines);
    let now = clock::now_seconds();
    for line in &lines {
        move_stock(world, line, false, now);
    }
    let order = TikTokOrder {
        id,
        status,
        create_time: Some(now),
        update_time: Some(now),
        lines,
    };
    world.orders.add_tiktok(order.clone());
    Ok((order, oversold))
}

/// Units of `lines` that Shopify could not fulfil now: per seller SKU, Shopify's available
/// over active locations minus the TikTok orders it does not know yet. Variants Shopify does
/// not limit (untracked, continue selling) oversell nothing.
fn oversold_by(world: &World, lines: &[TikTokOrderLine]) -> u64 {
    let mut asked: HashMap<&str, u64> = HashMap::new();
    let mut oversold = 0;
    for line in lines {
        let Some(&index) = world.shopify.indexes_by_sku(&line.seller_sku).first() else {
            continue;
        };
        let variant = &world.shopify.variant_at(index).variant;
        if !variant.tracked || variant.inventory_policy == InventoryPolicy::Continue {
            continue;
        }
        let available: i64 = variant
            .levels
            .iter()
            .filter(|l| {
                world
                    .shopify
                    .location(l.location_id)
                    .is_some_and(|loc| loc.active)
            })
            .fold(0i64, |sum, l| sum.saturating_add(l.available));
        let before = asked.entry(line.seller_sku.as_str()).or_default();
        let pending = world.orders.pending_units(&line.seller_sku) + *before;
        let can = u64::try_from(available)
            .unwrap_or(0)
            .saturating_sub(pending);
        oversold += line.quantity.saturating_sub(can);
        *before += line.quantity;
    }
    oversold
}

/// Takes a line's units out of TikTok's stock, or gives them back.
fn move_stock(world: &mut World, line: &TikTokOrderLine, back: bool, now: i64) {
    let Some(warehouse) = &line.warehouse_id else {
        return;
    };
    let store = &mut world.tiktok;
    let Some((product, index)) = store.sku_position(&line.sku_id) else {
        return;
    };
    let sku = &store.product_at(product).product.skus[index];
    let Some(current) = sku
        .inventory
        .iter()
        .find(|e| &e.warehouse_id == warehouse)
        .map(|e| e.quantity)
    else {
        return;
    };
    let units = i64::try_from(line.quantity).unwrap_or(i64::MAX);
    let new = if back {
        current.saturating_add(units).min(MAX_QUANTITY)
    } else {
        current.saturating_sub(units).max(0)
    };
    store.edit_by_hand(product, index, warehouse.clone(), new, now);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    status: TikTokOrderStatus,
}

async fn set_tiktok_status(
    ShopOf(shared): ShopOf,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let change: StatusChange = match parse(&body) {
        Ok(c) => c,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let order = {
        let mut world = shared.world();
        let Some(order) = world.orders.tiktok_order(&id).cloned() else {
            return error(StatusCode::NOT_FOUND, format!("unknown TikTok order {id}"));
        };
        let now = clock::now_seconds().max(order.update_time.unwrap_or(0));
        match stock_moves(order.status, change.status) {
            Some(false) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "order {id} is {}; a cancelled order stays cancelled",
                        order.status.as_str()
                    ),
                )
            }
            Some(true) => {
                for line in &order.lines {
                    move_stock(&mut world, line, true, now);
                }
            }
            None => {}
        }
        let stored = world.orders.tiktok_order_mut(&id).expect("found above");
        stored.status = change.status;
        stored.update_time = Some(now);
        stored.clone()
    };
    let update_time = order.update_time.unwrap_or_default();
    let notification =
        webhooks::publish_tiktok_order(&shared, &order.id, order.status.as_str(), update_time);
    Json(json!({"order": order, "notification_ids": [notification]})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewShopifyOrder {
    tiktok_order_id: Option<String>,
    lines: Vec<NewShopifyLine>,
    #[serde(default)]
    marker: Marker,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewShopifyLine {
    variant_id: u64,
    quantity: u64,
    location_id: u64,
}

/// Where the order-sync app writes the TikTok order id.
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Marker {
    #[default]
    SourceIdentifier,
    Tag,
    CustomAttribute,
    Note,
}

/// The custom attribute key the sandbox's order-sync app writes the TikTok order id under.
const ATTRIBUTE_KEY: &str = "tiktok_order_id";

async fn copy_into_shopify(ShopOf(shared): ShopOf, body: Bytes) -> Response {
    let new: NewShopifyOrder = match parse(&body) {
        Ok(n) => n,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    if new.lines.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "lines is empty; allowed: at least one line",
        );
    }
    let (events, order) = {
        let mut world = shared.world();
        match copy(&mut world, new) {
            Ok(done) => done,
            Err((status, message)) => return error(status, message),
        }
    };
    published(&shared, events, json!({"order": order}))
}

/// Records the Shopify order and lowers Shopify's available at each line's location; the
/// events are the `inventory_levels/update` of each line, then `orders/create`.
fn copy(world: &mut World, new: NewShopifyOrder) -> Result<(Vec<Event>, ShopifyOrder), Refusal> {
    for (i, line) in new.lines.iter().enumerate() {
        if line.quantity == 0 {
            return Err((
                StatusCode::BAD_REQUEST,
                format!("lines[{i}].quantity is 0; allowed: 1 or more"),
            ));
        }
        let Some(record) = world.shopify.variant(line.variant_id) else {
            return Err((
                StatusCode::NOT_FOUND,
                format!("unknown variant {}", line.variant_id),
            ));
        };
        if world.shopify.location(line.location_id).is_none() {
            return Err((
                StatusCode::NOT_FOUND,
                format!("unknown location {}", line.location_id),
            ));
        }
        let _ = record;
    }
    let now = clock::now_millis();
    let mut events = Vec::with_capacity(new.lines.len() + 1);
    for line in &new.lines {
        let record = world.shopify.variant(line.variant_id).expect("checked");
        let item = record.variant.inventory_item_id;
        let current = record
            .level(line.location_id)
            .map_or(0, |(l, _)| l.available);
        let units = i64::try_from(line.quantity).unwrap_or(i64::MAX);
        let (_, record) = world
            .shopify
            .set_available(item, line.location_id, current.saturating_sub(units), now)
            .map_err(|err| (StatusCode::NOT_FOUND, err.to_string()))?;
        events.push(Event {
            topic: "inventory_levels/update",
            body: payloads::inventory_level(record, line.location_id),
        });
    }
    let mut order = ShopifyOrder {
        id: 0,
        created_at: Some(clock::rfc3339_millis(now)),
        source_identifier: None,
        tags: Vec::new(),
        custom_attributes: Vec::new(),
        note: None,
        lines: new
            .lines
            .iter()
            .map(|l| ShopifyOrderLine {
                variant_id: l.variant_id,
                quantity: l.quantity,
            })
            .collect(),
    };
    if let Some(id) = new.tiktok_order_id {
        match new.marker {
            Marker::SourceIdentifier => order.source_identifier = Some(id),
            Marker::Tag => order.tags = vec!["TikTok".to_owned(), id],
            Marker::CustomAttribute => {
                order.custom_attributes = vec![Attribute {
                    key: ATTRIBUTE_KEY.to_owned(),
                    value: id,
                }]
            }
            Marker::Note => order.note = Some(format!("TikTok Shop order {id}")),
        }
    }
    let order = world.orders.add_shopify(order).clone();
    events.push(Event {
        topic: "orders/create",
        body: payloads::order(&world.shopify, &order),
    });
    Ok((events, order))
}
