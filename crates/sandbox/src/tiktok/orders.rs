//! Order search (`POST /order/202309/orders/search`): TikTok's filters (`order_status`,
//! `create_time_ge/lt`, `update_time_ge/lt`), paging (`page_size` up to 100, `page_token`),
//! sorting (`sort_field` `create_time` or `update_time`, `sort_order` `ASC` or `DESC`, default
//! `create_time` `DESC`) and envelope (`orders`, `next_page_token`, `total_count`). Each line
//! item is one unit, as on TikTok.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::catalog::{decode_token, encode_token};
use super::{json_body, signed, Call, Incoming, Reply};
use crate::fixture::TikTokOrder;
use crate::server::{Shared, ShopOf};

pub(crate) async fn search(ShopOf(shared): ShopOf, request: Incoming, body: Bytes) -> Response {
    signed(&shared, "order_search", true, &request, &body, |call| {
        orders_page(&shared, call, &body)
    })
    .await
}

fn bad(message: impl Into<String>) -> Reply {
    Reply::invalid(StatusCode::BAD_REQUEST, message)
}

fn orders_page(shared: &Shared, call: &Call, body: &Bytes) -> Result<Reply, Reply> {
    let page_size = call
        .param("page_size")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| (1..=100).contains(p))
        .ok_or_else(|| {
            bad("Invalid param: page_size is required and must be between 1 and 100.")
        })?;
    let start = match call.param("page_token").filter(|t| !t.is_empty()) {
        Some(token) => decode_token(token).ok_or_else(|| bad("Invalid param: page_token."))?,
        None => 0,
    };
    let by_update = match call.param("sort_field").unwrap_or("create_time") {
        "create_time" => false,
        "update_time" => true,
        other => {
            return Err(bad(format!(
                "Invalid param: sort_field {other}; allowed: create_time, update_time."
            )))
        }
    };
    let descending = match call.param("sort_order").unwrap_or("DESC") {
        "DESC" => true,
        "ASC" => false,
        other => {
            return Err(bad(format!(
                "Invalid param: sort_order {other}; allowed: ASC, DESC."
            )))
        }
    };
    let body = json_body(body)?;
    let time = |key: &str| -> Result<Option<i64>, Reply> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| bad(format!("Invalid param: {key} must be Unix seconds."))),
        }
    };
    let status = match body.get("order_status") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(bad("Invalid param: order_status must be a string.")),
    };
    let (create_ge, create_lt) = (time("create_time_ge")?, time("create_time_lt")?);
    let (update_ge, update_lt) = (time("update_time_ge")?, time("update_time_lt")?);
    let world = shared.world();
    let mut matching: Vec<&TikTokOrder> = world
        .orders
        .tiktok_orders()
        .iter()
        .filter(|o| {
            let created = o.create_time.unwrap_or(0);
            let updated = o.update_time.unwrap_or(created);
            status.as_deref().is_none_or(|s| s == o.status.as_str())
                && create_ge.is_none_or(|t| created >= t)
                && create_lt.is_none_or(|t| created < t)
                && update_ge.is_none_or(|t| updated >= t)
                && update_lt.is_none_or(|t| updated < t)
        })
        .collect();
    matching.sort_by(|a, b| {
        let key = |o: &TikTokOrder| {
            let t = if by_update {
                o.update_time
            } else {
                o.create_time
            };
            (t.unwrap_or(0), o.id.clone())
        };
        let order = key(a).cmp(&key(b));
        if descending {
            order.reverse()
        } else {
            order
        }
    });
    let total = matching.len();
    let end = start.saturating_add(page_size).min(total);
    let page: Vec<Value> = matching
        .get(start.min(total)..end)
        .unwrap_or(&[])
        .iter()
        .map(|o| order_json(&world.tiktok, o))
        .collect();
    Ok(Reply::ok(json!({
        "orders": page,
        "next_page_token": if end < total { encode_token(end) } else { String::new() },
        "total_count": total,
    })))
}

fn order_json(store: &crate::store::tiktok::TikTokStore, order: &TikTokOrder) -> Value {
    let mut items = Vec::new();
    for (i, line) in order.lines.iter().enumerate() {
        let product_id = store
            .sku_position(&line.sku_id)
            .map(|(p, _)| store.product_at(p).product.id.clone());
        for unit in 0..line.quantity {
            items.push(json!({
                "id": format!("{}{:02}{:04}", order.id, i, unit),
                "sku_id": line.sku_id,
                "seller_sku": line.seller_sku,
                "product_id": product_id,
                "display_status": order.status.as_str(),
                "warehouse_id": line.warehouse_id,
            }));
        }
    }
    let mut warehouses: Vec<&str> = order
        .lines
        .iter()
        .filter_map(|l| l.warehouse_id.as_deref())
        .collect();
    warehouses.sort_unstable();
    warehouses.dedup();
    let mut json = json!({
        "id": order.id,
        "status": order.status.as_str(),
        "create_time": order.create_time,
        "update_time": order.update_time,
        "is_on_hold_order": order.status.as_str() == "ON_HOLD",
        "line_items": items,
    });
    if let [only] = warehouses.as_slice() {
        json["warehouse_id"] = json!(only);
    }
    json
}
