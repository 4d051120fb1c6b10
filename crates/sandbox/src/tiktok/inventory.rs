//! Inventory: Update Inventory (`POST /product/202309/products/{product_id}/inventory/update`),
//! absolute quantities per SKU and warehouse, each SKU checked on its own (valid SKUs applied,
//! refused ones reported in `data.errors` inside a `code: 0` answer); and Inventory Search.

use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

use super::catalog::string_list;
use super::{json_body, signed, Incoming, Reply};
use crate::clock;
use crate::fixture::{
    TikTokProductStatus, TikTokSku, Warehouse, WarehouseQuantity, WarehouseStatus, WarehouseType,
};
use crate::server::{Shared, ShopOf};
use crate::store::tiktok::TikTokStore;
use crate::store::writes::{TikTokWrite, WrittenSku, LEASE_HEADER};

/// Largest quantity accepted (spec: 999,999).
pub(crate) const MAX_QUANTITY: i64 = 999_999;

#[derive(Deserialize)]
struct UpdateBody {
    skus: Option<Vec<SkuWrite>>,
}

#[derive(Deserialize)]
struct SkuWrite {
    id: Option<String>,
    #[serde(default)]
    inventory: Vec<WarehouseWrite>,
}

#[derive(Deserialize)]
struct WarehouseWrite {
    warehouse_id: Option<String>,
    quantity: Option<Value>,
}

pub(crate) async fn update(
    ShopOf(shared): ShopOf,
    Path(product_id): Path<String>,
    request: Incoming,
    body: Bytes,
) -> Response {
    signed(&shared, "inventory_update", true, &request, &body, |_| {
        let lease = request
            .headers
            .get(LEASE_HEADER)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        apply(&shared, &product_id, &body, lease)
    })
    .await
}

/// One refused warehouse entry (or SKU, with an empty warehouse id).
struct Problem {
    warehouse_id: String,
    code: i64,
    message: String,
}

fn problem(warehouse_id: &str, code: i64, message: impl Into<String>) -> Problem {
    Problem {
        warehouse_id: warehouse_id.to_owned(),
        code,
        message: message.into(),
    }
}

fn apply(
    shared: &Shared,
    product_id: &str,
    body: &Bytes,
    lease: Option<String>,
) -> Result<Reply, Reply> {
    let parsed: UpdateBody = serde_json::from_slice(body).map_err(|err| {
        Reply::invalid(
            StatusCode::BAD_REQUEST,
            format!("Invalid request body: {err}"),
        )
    })?;
    let writes = parsed.skus.filter(|s| !s.is_empty()).ok_or_else(|| {
        Reply::invalid(
            StatusCode::BAD_REQUEST,
            "Invalid param: body.skus is missing.",
        )
    })?;
    let mut guard = shared.world();
    let world = &mut *guard;
    let store = &mut world.tiktok;
    let product = store.product_index(product_id).ok_or_else(|| {
        Reply::error(
            StatusCode::OK,
            12019150,
            format!("Product {product_id} does not exist."),
        )
    })?;
    let status = store.product_at(product).product.status;
    if matches!(
        status,
        TikTokProductStatus::Freeze | TikTokProductStatus::Deleted
    ) {
        return Err(Reply::error(
            StatusCode::OK,
            12019113,
            format!(
                "The product status {} does not allow this operation.",
                status.as_str()
            ),
        ));
    }
    let now = clock::now_seconds();
    let mut applied = Vec::new();
    let mut written = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for write in writes {
        let sku_id = write.id.clone().unwrap_or_default();
        let checked = if sku_id.is_empty() {
            Err(vec![problem("", 12052036, "The SKU ID is missing.")])
        } else if !seen.insert(sku_id.clone()) {
            Err(vec![problem(
                "",
                12052553,
                "Duplicate SKU ID in the request.",
            )])
        } else {
            check_sku(store, product, &sku_id, &write)
        };
        match checked {
            Ok((sku_index, quantities)) => {
                written.push(WrittenSku {
                    id: sku_id.clone(),
                    inventory: quantities
                        .iter()
                        .map(|(warehouse_id, quantity)| WarehouseQuantity {
                            warehouse_id: warehouse_id.clone(),
                            quantity: *quantity,
                        })
                        .collect(),
                });
                store.set_inventory(product, sku_index, quantities, now);
                applied.push(sku_id);
            }
            Err(problems) => errors.push(json!({
                "code": 12052990,
                "message": "Check failed",
                "detail": {
                    "sku_id": sku_id,
                    "extra_errors": problems.into_iter().map(|p| json!({
                        "warehouse_id": p.warehouse_id,
                        "code": p.code,
                        "message": p.message,
                    })).collect::<Vec<_>>(),
                },
            })),
        }
    }
    if !written.is_empty() {
        // Recorded under the store's lock: the order of the log is the order of the changes.
        world.writes.push(TikTokWrite {
            at: clock::rfc3339_millis(clock::now_millis()),
            lease,
            product_id: product_id.to_owned(),
            skus: written,
        });
    }
    drop(guard);
    shared.stats.inventory_update(&applied, errors.len() as u64);
    if errors.is_empty() {
        Ok(Reply::ok(json!({})))
    } else {
        Ok(Reply::ok(json!({"errors": errors})).with_kind("partial_failure"))
    }
}

type Checked = (usize, Vec<(String, i64)>);

/// Whether a warehouse takes part in a SKU's writes (sales warehouses that are enabled).
fn writable(store: &TikTokStore, warehouse_id: &str) -> bool {
    store.warehouse(warehouse_id).is_some_and(|w| {
        w.kind == WarehouseType::SalesWarehouse && w.effect_status == WarehouseStatus::Enabled
    })
}

/// Why a warehouse cannot take a new number for this SKU, if it cannot.
fn refusal(warehouse: &Warehouse, sku: &TikTokSku, warehouse_id: &str) -> Option<Problem> {
    if warehouse.kind != WarehouseType::SalesWarehouse {
        return Some(problem(
            warehouse_id,
            12052532,
            "The warehouse is not a delivery (sales) warehouse.",
        ));
    }
    if warehouse.effect_status != WarehouseStatus::Enabled {
        return Some(problem(
            warehouse_id,
            12052531,
            "The warehouse is disabled.",
        ));
    }
    if !sku.inventory.iter().any(|e| e.warehouse_id == warehouse_id) {
        return Some(problem(
            warehouse_id,
            12052533,
            "The SKU does not use this warehouse; its warehouses cannot be changed by an inventory update.",
        ));
    }
    None
}

fn check_sku(
    store: &TikTokStore,
    product: usize,
    sku_id: &str,
    write: &SkuWrite,
) -> Result<Checked, Vec<Problem>> {
    let sku_index = match store.sku_position(sku_id) {
        Some((p, s)) if p == product => s,
        _ => {
            return Err(vec![problem(
                "",
                12052557,
                format!("The SKU {sku_id} does not belong to the product."),
            )])
        }
    };
    let sku: &TikTokSku = &store.product_at(product).product.skus[sku_index];
    let mut problems = Vec::new();
    let mut quantities = Vec::new();
    let mut named = HashSet::new();
    for entry in &write.inventory {
        let warehouse_id = match entry.warehouse_id.as_deref().filter(|w| !w.is_empty()) {
            Some(id) => id.to_owned(),
            None if sku.inventory.len() == 1 => sku.inventory[0].warehouse_id.clone(),
            None => {
                problems.push(problem(
                    "",
                    12019028,
                    "Multiple warehouses detected. Include all warehouse IDs of the SKU.",
                ));
                continue;
            }
        };
        let quantity = entry.quantity.as_ref().and_then(Value::as_i64);
        let Some(quantity) = quantity.filter(|q| (0..=MAX_QUANTITY).contains(q)) else {
            problems.push(problem(
                &warehouse_id,
                12019024,
                format!("The SKU stock must be between [0,{MAX_QUANTITY}]."),
            ));
            continue;
        };
        let Some(warehouse) = store.warehouse(&warehouse_id) else {
            problems.push(problem(
                &warehouse_id,
                12052097,
                "The warehouse does not exist",
            ));
            continue;
        };
        // A warehouse that cannot take numbers may still be restated at the number it holds
        // (an update restates every warehouse of the SKU); changing it is refused.
        let holds = sku
            .inventory
            .iter()
            .any(|e| e.warehouse_id == warehouse_id && e.quantity == quantity);
        let restated_only = !writable(store, &warehouse_id) && holds;
        if !restated_only {
            if let Some(refusal) = refusal(warehouse, sku, &warehouse_id) {
                problems.push(refusal);
                continue;
            }
        }
        if !named.insert(warehouse_id.clone()) {
            problems.push(problem(
                &warehouse_id,
                12052555,
                "Duplicate warehouse in the SKU's inventory.",
            ));
            continue;
        }
        if !restated_only {
            quantities.push((warehouse_id, quantity));
        }
    }
    for entry in &sku.inventory {
        let mentioned = write
            .inventory
            .iter()
            .any(|w| w.warehouse_id.as_deref() == Some(entry.warehouse_id.as_str()))
            || (sku.inventory.len() == 1
                && write.inventory.iter().any(|w| w.warehouse_id.is_none()));
        if !mentioned && writable(store, &entry.warehouse_id) {
            problems.push(problem(
                &entry.warehouse_id,
                12019028,
                "Multiple warehouses detected. Include all warehouse IDs of the SKU.",
            ));
        }
    }
    if problems.is_empty() {
        Ok((sku_index, quantities))
    } else {
        Err(problems)
    }
}

pub(crate) async fn search_inventory(
    ShopOf(shared): ShopOf,
    request: Incoming,
    body: Bytes,
) -> Response {
    signed(&shared, "inventory_search", true, &request, &body, |_| {
        inventory(&shared, &body)
    })
    .await
}

fn inventory(shared: &Shared, body: &Bytes) -> Result<Reply, Reply> {
    let body = json_body(body)?;
    let product_ids = string_list(&body, "product_ids")?;
    let sku_ids = string_list(&body, "sku_ids")?;
    let world = shared.world();
    let store = &world.tiktok;
    // (product index, SKU indexes) in request order.
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    if let Some(ids) = sku_ids.filter(|ids| !ids.is_empty()) {
        if ids.len() > 600 {
            return Err(Reply::error(
                StatusCode::OK,
                12019015,
                "Too many SKUs: at most 600 sku_ids.",
            ));
        }
        for (product, sku) in ids.iter().filter_map(|id| store.sku_position(id)) {
            match groups.iter_mut().find(|(p, _)| *p == product) {
                Some((_, skus)) if !skus.contains(&sku) => skus.push(sku),
                Some(_) => {}
                None => groups.push((product, vec![sku])),
            }
        }
    } else if let Some(ids) = product_ids.filter(|ids| !ids.is_empty()) {
        if ids.len() > 100 {
            return Err(Reply::invalid(
                StatusCode::BAD_REQUEST,
                "Invalid param: at most 100 product_ids.",
            ));
        }
        for product in ids.iter().filter_map(|id| store.product_index(id)) {
            if !groups.iter().any(|(p, _)| *p == product) {
                let count = store.product_at(product).product.skus.len();
                groups.push((product, (0..count).collect()));
            }
        }
    } else {
        return Err(Reply::invalid(
            StatusCode::BAD_REQUEST,
            "Invalid param: product_ids or sku_ids is required.",
        ));
    }
    let inventory: Vec<Value> = groups
        .into_iter()
        .map(|(product, skus)| {
            let record = store.product_at(product);
            let skus: Vec<Value> = skus
                .into_iter()
                .map(|s| sku_inventory(&record.product.skus[s]))
                .collect();
            json!({"product_id": record.product.id, "skus": skus})
        })
        .collect();
    Ok(Reply::ok(json!({"inventory": inventory})))
}

fn sku_inventory(sku: &TikTokSku) -> Value {
    let total: i64 = sku.inventory.iter().map(|e| e.quantity).sum();
    let warehouses: Vec<Value> = sku
        .inventory
        .iter()
        .map(|e| json!({"warehouse_id": e.warehouse_id, "available_quantity": e.quantity, "committed_quantity": 0}))
        .collect();
    json!({
        "id": sku.id,
        "seller_sku": sku.seller_sku,
        "total_available_quantity": total,
        "total_committed_quantity": 0,
        "warehouse_inventory": warehouses,
    })
}
