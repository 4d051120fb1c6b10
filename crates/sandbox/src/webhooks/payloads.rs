//! REST-shaped webhook bodies with numeric ids (shopify-api.md §6.2). Their timestamps have
//! Shopify's resolution, whole seconds, like GraphQL's `updatedAt`: two changes within one
//! second carry the same `updated_at`.

use serde_json::{json, Value};

use crate::clock;
use crate::fixture::{InventoryPolicy, Location, ProductStatus};
use crate::shopify::gid::{gid, level_gid};
use crate::store::shopify::{ShopifyStore, VariantRecord};

/// `inventory_levels/update` and `inventory_levels/connect`; `available` is null for an
/// untracked item.
pub(crate) fn inventory_level(record: &VariantRecord, location_id: u64) -> Value {
    let v = &record.variant;
    let (available, at) = match record.level(location_id) {
        Some((level, at)) => (Some(level.available), at),
        None => (None, record.updated_at),
    };
    json!({
        "inventory_item_id": v.inventory_item_id,
        "location_id": location_id,
        "available": if v.tracked { available } else { None },
        "updated_at": stamp(at),
        "admin_graphql_api_id": level_gid(v.inventory_item_id, location_id),
    })
}

/// `inventory_items/update`.
pub(crate) fn inventory_item(record: &VariantRecord) -> Value {
    let v = &record.variant;
    json!({
        "id": v.inventory_item_id,
        "sku": v.sku,
        "tracked": v.tracked,
        "requires_shipping": true,
        "cost": null,
        "country_code_of_origin": null,
        "province_code_of_origin": null,
        "harmonized_system_code": null,
        "updated_at": stamp(record.updated_at),
        "admin_graphql_api_id": gid("InventoryItem", v.inventory_item_id),
    })
}

/// `products/update`, with every variant of the product.
pub(crate) fn product(store: &ShopifyStore, product_id: u64) -> Value {
    let records = store.variants_of_product(product_id);
    let status = records
        .first()
        .map_or(ProductStatus::Active, |r| r.variant.product_status);
    let updated_at = records.iter().map(|r| r.updated_at).max().unwrap_or(0);
    let variants: Vec<Value> = records
        .iter()
        .map(|r| {
            let v = &r.variant;
            json!({
                "id": v.id,
                "product_id": v.product_id,
                "title": v.sku.clone().unwrap_or_else(|| "Default Title".to_owned()),
                "sku": v.sku,
                "inventory_policy": match v.inventory_policy {
                    InventoryPolicy::Deny => "deny",
                    InventoryPolicy::Continue => "continue",
                },
                "inventory_management": if v.tracked { Some("shopify") } else { None },
                "inventory_item_id": v.inventory_item_id,
                "inventory_quantity": v.total_available(),
                "updated_at": stamp(r.updated_at),
                "admin_graphql_api_id": gid("ProductVariant", v.id),
            })
        })
        .collect();
    json!({
        "id": product_id,
        "title": format!("Product {product_id}"),
        "status": match status {
            ProductStatus::Active => "active",
            ProductStatus::Draft => "draft",
            ProductStatus::Archived => "archived",
            ProductStatus::Unlisted => "unlisted",
        },
        "updated_at": stamp(updated_at),
        "admin_graphql_api_id": gid("Product", product_id),
        "variants": variants,
    })
}

/// `locations/activate`, `locations/deactivate` and `locations/update`.
pub(crate) fn location(location: &Location, now: i64) -> Value {
    json!({
        "id": location.id,
        "name": location.name,
        "active": location.active,
        "legacy": false,
        "updated_at": stamp(now),
        "admin_graphql_api_id": gid("Location", location.id),
    })
}

/// `orders/create`: the REST order, with the fields an order-sync app writes the TikTok order
/// id to (`source_identifier`, `tags` as one comma-separated text, `note_attributes`, `note`).
pub(crate) fn order(store: &ShopifyStore, order: &crate::fixture::ShopifyOrder) -> Value {
    let line_items: Vec<Value> = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let variant = store.variant(line.variant_id).map(|r| &r.variant);
            json!({
                "id": order.id * 1000 + i as u64 + 1,
                "variant_id": line.variant_id,
                "product_id": variant.map(|v| v.product_id),
                "sku": variant.and_then(|v| v.sku.clone()),
                "quantity": line.quantity,
            })
        })
        .collect();
    let attributes: Vec<Value> = order
        .custom_attributes
        .iter()
        .map(|a| json!({"name": a.key, "value": a.value}))
        .collect();
    json!({
        "id": order.id,
        "admin_graphql_api_id": gid("Order", order.id),
        "name": format!("#{}", order.id),
        "created_at": order.created_at,
        "source_identifier": order.source_identifier,
        "tags": order.tags.join(", "),
        "note": order.note,
        "note_attributes": attributes,
        "line_items": line_items,
    })
}

/// A REST timestamp: the instant's second (Shopify's resolution), in UTC.
fn stamp(millis: i64) -> String {
    clock::rfc3339_seconds(millis.div_euclid(1000))
}
