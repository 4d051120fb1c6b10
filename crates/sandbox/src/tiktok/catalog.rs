//! Reading the shop: authorized shops, warehouses and product search.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};

use super::{json_body, signed, Call, Incoming, Reply};
use crate::fixture::{WarehouseStatus, WarehouseType};
use crate::server::{Shared, ShopOf};
use crate::store::tiktok::{ProductRecord, TikTokStore};

/// TikTok's product search serves at most this many results of one filter; a page reaching
/// past them is answered 12052180 (narrow the search, e.g. by `update_time` windows).
pub const SEARCH_RESULT_CAP: usize = 10_000;

/// TikTok's code for a search page past [`SEARCH_RESULT_CAP`].
const SEARCH_RESULTS_CAPPED: i64 = 12052180;

pub(crate) async fn shops(ShopOf(shared): ShopOf, request: Incoming) -> Response {
    signed(&shared, "shops", false, &request, &Bytes::new(), |_| {
        Ok(Reply::ok(json!({"shops": [{
            "id": shared.credentials.tiktok_shop_id,
            "name": "Stockbridge Sandbox Shop",
            "region": "US",
            "seller_type": "LOCAL",
            "cipher": shared.credentials.tiktok_shop_cipher,
            "code": "USSANDBOX01",
        }]})))
    })
    .await
}

pub(crate) async fn warehouses(ShopOf(shared): ShopOf, request: Incoming) -> Response {
    signed(
        &shared,
        "warehouses",
        true,
        &request,
        &Bytes::new(),
        |_| {
            let world = shared.world();
            let list: Vec<Value> = world
                .tiktok
                .warehouses()
                .iter()
                .map(|w| {
                    json!({
                        "id": w.id,
                        "name": w.name,
                        "effect_status": match w.effect_status {
                            WarehouseStatus::Enabled => "ENABLED",
                            WarehouseStatus::Disabled => "DISABLED",
                            WarehouseStatus::Restricted => "RESTRICTED",
                        },
                        "type": match w.kind {
                            WarehouseType::SalesWarehouse => "SALES_WAREHOUSE",
                            WarehouseType::ReturnWarehouse => "RETURN_WAREHOUSE",
                        },
                        "sub_type": "DOMESTIC_WAREHOUSE",
                        "is_default": w.is_default,
                        "entity_id": w.id,
                        "address": {"region": "US", "region_code": "US", "full_address": format!("{} (sandbox)", w.name)},
                    })
                })
                .collect();
            Ok(Reply::ok(json!({"warehouses": list})))
        },
    )
    .await
}

pub(crate) async fn search_products(
    ShopOf(shared): ShopOf,
    request: Incoming,
    body: Bytes,
) -> Response {
    signed(&shared, "product_search", true, &request, &body, |call| {
        products_page(
            &shared,
            call,
            request.uri.path().contains("/202502/"),
            &body,
        )
    })
    .await
}

pub(super) fn string_list(body: &Value, key: &str) -> Result<Option<Vec<String>>, Reply> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| {
                Reply::invalid(
                    StatusCode::BAD_REQUEST,
                    format!("Invalid param: {key} must be an array of strings."),
                )
            }),
        Some(_) => Err(Reply::invalid(
            StatusCode::BAD_REQUEST,
            format!("Invalid param: {key} must be an array of strings."),
        )),
    }
}

pub(super) fn encode_token(position: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("offset={position}"))
}

pub(super) fn decode_token(token: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("offset=")?
        .parse()
        .ok()
}

struct Filter {
    status: Option<String>,
    update_ge: Option<i64>,
    update_le: Option<i64>,
    create_ge: Option<i64>,
    create_le: Option<i64>,
}

impl Filter {
    fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.update_ge.is_none()
            && self.update_le.is_none()
            && self.create_ge.is_none()
            && self.create_le.is_none()
    }

    fn matches(&self, record: &ProductRecord) -> bool {
        self.status
            .as_deref()
            .is_none_or(|s| s == record.product.status.as_str())
            && self.update_ge.is_none_or(|t| record.update_time >= t)
            && self.update_le.is_none_or(|t| record.update_time <= t)
            && self.create_ge.is_none_or(|t| record.create_time >= t)
            && self.create_le.is_none_or(|t| record.create_time <= t)
    }
}

fn products_page(
    shared: &Shared,
    call: &Call,
    v202502: bool,
    body: &Bytes,
) -> Result<Reply, Reply> {
    let page_size = call
        .param("page_size")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| (1..=100).contains(p))
        .ok_or_else(|| {
            Reply::invalid(
                StatusCode::BAD_REQUEST,
                "Invalid param: page_size is required and must be between 1 and 100.",
            )
        })?;
    let start = match call.param("page_token").filter(|t| !t.is_empty()) {
        Some(token) => decode_token(token)
            .ok_or_else(|| Reply::invalid(StatusCode::BAD_REQUEST, "Invalid param: page_token."))?,
        None => 0,
    };
    let body = json_body(body)?;
    let seller_skus = string_list(&body, "seller_skus")?;
    if seller_skus.as_ref().is_some_and(|s| s.len() > 10) {
        return Err(Reply::error(
            StatusCode::OK,
            12019027,
            "At most 10 seller_skus per search.",
        ));
    }
    let sku_ids = string_list(&body, "sku_ids")?;
    if sku_ids.as_ref().is_some_and(|s| s.len() > 10) {
        return Err(Reply::error(
            StatusCode::OK,
            12019087,
            "At most 10 sku_ids per search.",
        ));
    }
    let status = body
        .get("status")
        .and_then(Value::as_str)
        .filter(|s| *s != "ALL")
        .map(str::to_owned);
    let time = |key: &str| body.get(key).and_then(Value::as_i64);
    let filter = Filter {
        status,
        update_ge: time("update_time_ge"),
        update_le: time("update_time_le"),
        create_ge: time("create_time_ge"),
        create_le: time("create_time_le"),
    };
    let world = shared.world();
    let store = &world.tiktok;
    let domain = candidates(store, seller_skus.as_deref(), sku_ids.as_deref());
    let len = domain.as_ref().map_or(store.products().len(), Vec::len);
    let at = |pos: usize| domain.as_ref().map_or(pos, |d| d[pos]);
    let matching = |pos: usize| filter.matches(store.product_at(at(pos)));
    // How many results the filter has, and how many of them come before this page.
    let (total, rank) = if filter.is_empty() {
        (len, start.min(len))
    } else {
        let rank = (0..start.min(len)).filter(|&p| matching(p)).count();
        (
            rank + (start.min(len)..len).filter(|&p| matching(p)).count(),
            rank,
        )
    };
    let cap = shared.options.tiktok_search_result_cap;
    if (rank + page_size).min(total) > cap {
        return Err(Reply::error(
            StatusCode::OK,
            SEARCH_RESULTS_CAPPED,
            format!("The total number of search results can not exceed {cap}."),
        ));
    }
    let mut page = Vec::with_capacity(page_size);
    let mut pos = start;
    while pos < len && page.len() < page_size {
        if matching(pos) {
            page.push(at(pos));
        }
        pos += 1;
    }
    let more = rank + page.len() < total;
    let products: Vec<Value> = page
        .iter()
        .map(|&i| product_json(store.product_at(i), v202502))
        .collect();
    Ok(Reply::ok(json!({
        "products": products,
        "next_page_token": if more { encode_token(pos) } else { String::new() },
        "total_count": total,
    })))
}

fn candidates(
    store: &TikTokStore,
    seller_skus: Option<&[String]>,
    sku_ids: Option<&[String]>,
) -> Option<Vec<usize>> {
    let mut out: Option<Vec<usize>> = None;
    if let Some(skus) = seller_skus {
        let found = skus
            .iter()
            .flat_map(|s| store.products_with_seller_sku(s).iter().copied());
        out = Some(found.collect());
    }
    if let Some(ids) = sku_ids {
        let found: Vec<usize> = ids
            .iter()
            .filter_map(|id| store.sku_position(id).map(|(p, _)| p))
            .collect();
        out = Some(match out {
            Some(prev) => prev.into_iter().filter(|p| found.contains(p)).collect(),
            None => found,
        });
    }
    out.map(|mut list| {
        list.sort_unstable();
        list.dedup();
        list
    })
}

fn product_json(record: &ProductRecord, v202502: bool) -> Value {
    let p = &record.product;
    let skus: Vec<Value> = p
        .skus
        .iter()
        .map(|sku| {
            let inventory: Vec<Value> = sku
                .inventory
                .iter()
                .map(|e| json!({"warehouse_id": e.warehouse_id, "quantity": e.quantity}))
                .collect();
            json!({
                "id": sku.id,
                "seller_sku": sku.seller_sku,
                "price": {"currency": "USD", "tax_exclusive_price": "10.00"},
                "inventory": inventory,
            })
        })
        .collect();
    let mut product = json!({
        "id": p.id,
        "title": p.title.clone().unwrap_or_else(|| format!("Product {}", p.id)),
        "status": p.status.as_str(),
        "has_draft": false,
        "is_not_for_sale": false,
        "create_time": record.create_time,
        "update_time": record.update_time,
        "sales_regions": ["US"],
        "skus": skus,
    });
    if v202502 {
        product["audit"] = json!({"status": "APPROVED"});
    }
    product
}
