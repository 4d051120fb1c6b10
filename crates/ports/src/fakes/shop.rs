//! Short ways for tests to write what the stores hold: locations, warehouses, variants and
//! TikTok SKUs. Each panics on a value the domain refuses (a test's own mistake).

use stockbridge_domain::{
    InventoryItemId, InventoryPolicy, Location, LocationId, ProductId, ProductStatus, Quantity,
    Sku, SkuId, StockLevel, TikTokSku, VariantId, VariantSnapshot, Warehouse, WarehouseId,
    WarehouseKind, WarehouseStatus, WarehouseStock,
};

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

/// A tracked, active variant that stops selling at 0, with `available` per location id; its
/// inventory item is `id × 10`.
pub fn variant(id: u64, sku: &str, levels: &[(u64, i64)]) -> VariantSnapshot {
    VariantSnapshot {
        variant_id: VariantId::new(id).expect("a variant id above 0"),
        inventory_item_id: InventoryItemId::new(id * 10).expect("an item id above 0"),
        sku: Some(Sku::new(sku).expect("a SKU")),
        tracked: true,
        policy: InventoryPolicy::Deny,
        product_status: ProductStatus::Active,
        components: None,
        levels: levels
            .iter()
            .map(|&(location, available)| StockLevel {
                location: LocationId::new(location).expect("a location id above 0"),
                available,
                updated_at: None,
            })
            .collect(),
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
