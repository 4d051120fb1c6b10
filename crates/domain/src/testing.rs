//! Builders for tests, of this crate and of the crates that use it (the `testing` feature):
//! a location, a warehouse, a stock level, a variant, a bundle or a TikTok SKU in a line
//! each. Each panics on a value the domain refuses (a test's own mistake).

use std::num::NonZeroU32;

use crate::bundle::Component;
use crate::catalog::{
    InventoryPolicy, Location, ProductStatus, StockLevel, TikTokSku, VariantSnapshot, Warehouse,
    WarehouseKind, WarehouseStatus, WarehouseStock,
};
use crate::ids::{InventoryItemId, LocationId, ProductId, Sku, SkuId, VariantId, WarehouseId};
use crate::quantity::Quantity;

/// An active location.
pub fn location(id: u64, name: &str) -> Location {
    Location {
        id: LocationId::new(id).expect("a location id above 0"),
        name: name.into(),
        active: true,
    }
}

/// An enabled sales warehouse.
pub fn warehouse(id: &str, name: &str, is_default: bool) -> Warehouse {
    Warehouse {
        id: WarehouseId::new(id).expect("a warehouse id"),
        name: name.into(),
        kind: WarehouseKind::Sales,
        status: WarehouseStatus::Enabled,
        is_default,
    }
}

/// `available` at a location.
pub fn level(location: u64, available: i64) -> StockLevel {
    StockLevel {
        location: LocationId::new(location).expect("a location id above 0"),
        available,
    }
}

/// A tracked, active variant that stops selling at 0, with `available` per location id; its
/// inventory item is `id × 10`. A blank `sku` is no SKU.
pub fn variant(id: u64, sku: &str, levels: &[(u64, i64)]) -> VariantSnapshot {
    VariantSnapshot {
        variant_id: VariantId::new(id).expect("a variant id above 0"),
        inventory_item_id: InventoryItemId::new(id * 10).expect("an item id above 0"),
        sku: Sku::parse_optional(Some(sku)),
        tracked: true,
        policy: InventoryPolicy::Deny,
        product_status: ProductStatus::Active,
        components: None,
        levels: levels.iter().map(|&(l, a)| level(l, a)).collect(),
    }
}

/// A bundle (no stock of its own) made of `(component variant id, units)`; otherwise as
/// [`variant`].
pub fn bundle(id: u64, sku: &str, parts: &[(u64, u32)]) -> VariantSnapshot {
    VariantSnapshot {
        components: Some(
            parts
                .iter()
                .map(|&(v, units)| Component {
                    variant_id: VariantId::new(v).expect("a variant id above 0"),
                    quantity: NonZeroU32::new(units).expect("units above 0"),
                })
                .collect(),
        ),
        ..variant(id, sku, &[])
    }
}

/// A TikTok SKU of `product` holding a quantity per warehouse id.
pub fn tiktok_sku(product: &str, id: &str, seller_sku: &str, stock: &[(&str, i64)]) -> TikTokSku {
    TikTokSku {
        product_id: ProductId::new(product).expect("a product id"),
        sku_id: SkuId::new(id).expect("a SKU id"),
        seller_sku: seller_sku.into(),
        stock: stock
            .iter()
            .map(|&(warehouse, quantity)| WarehouseStock {
                warehouse: WarehouseId::new(warehouse).expect("a warehouse id"),
                quantity: Quantity::new(quantity).expect("a quantity from 0 to 999999"),
            })
            .collect(),
    }
}
