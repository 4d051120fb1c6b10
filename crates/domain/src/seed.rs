//! Builders for tests: short ways to write locations, warehouses, variants and TikTok SKUs.

use crate::*;

pub fn loc(id: u64, name: &str, active: bool) -> Location {
    Location {
        id: LocationId::new(id).unwrap(),
        name: name.into(),
        active,
    }
}

pub fn wh(id: &str, name: &str, default: bool) -> Warehouse {
    Warehouse {
        id: WarehouseId::new(id).unwrap(),
        name: name.into(),
        kind: WarehouseKind::Sales,
        status: WarehouseStatus::Enabled,
        is_default: default,
    }
}

pub fn variant(id: u64, sku: &str, levels: &[(u64, i64)]) -> VariantSnapshot {
    VariantSnapshot {
        variant_id: VariantId::new(id).unwrap(),
        inventory_item_id: InventoryItemId::new(id * 10).unwrap(),
        sku: Sku::parse_optional(Some(sku)),
        tracked: true,
        policy: InventoryPolicy::Deny,
        product_status: ProductStatus::Active,
        components: None,
        levels: levels
            .iter()
            .map(|&(l, a)| StockLevel {
                location: LocationId::new(l).unwrap(),
                available: a,
                updated_at: None,
            })
            .collect(),
    }
}

/// A bundle (no stock of its own) made of `(component variant id, units)`.
pub fn bundle(id: u64, sku: &str, parts: &[(u64, u32)]) -> VariantSnapshot {
    VariantSnapshot {
        components: Some(
            parts
                .iter()
                .map(|&(v, q)| Component {
                    variant_id: VariantId::new(v).unwrap(),
                    quantity: std::num::NonZeroU32::new(q).unwrap(),
                })
                .collect(),
        ),
        ..variant(id, sku, &[])
    }
}

pub fn tiktok(product: &str, id: &str, seller_sku: &str, stock: &[(&str, i64)]) -> TikTokSku {
    TikTokSku {
        product_id: ProductId::new(product).unwrap(),
        sku_id: SkuId::new(id).unwrap(),
        seller_sku: seller_sku.into(),
        stock: stock
            .iter()
            .map(|&(w, q)| WarehouseStock {
                warehouse: WarehouseId::new(w).unwrap(),
                quantity: Quantity::new(q).unwrap(),
            })
            .collect(),
    }
}

/// The seed's example store: Location A 100, Location B 200; warehouses α (default) and β.
pub fn seed_locations() -> Vec<Location> {
    vec![loc(1, "Location A", true), loc(2, "Location B", true)]
}

pub fn seed_warehouses() -> Vec<Warehouse> {
    vec![wh("7001", "α", true), wh("7002", "β", false)]
}

pub fn pct(p: f64) -> Percent {
    Percent::from_f64(p).unwrap()
}

pub fn listed(names: &[&str], warehouse: Option<&str>) -> LocationMapping {
    LocationMapping {
        locations: LocationSelector::Listed(
            names
                .iter()
                .map(|n| LocationRef::Name((*n).into()))
                .collect(),
        ),
        warehouse: warehouse.map(Into::into),
    }
}

pub fn over(patterns: &[&str]) -> Override {
    Override {
        skus: patterns
            .iter()
            .map(|p| SkuPattern::new(p).unwrap())
            .collect(),
        ..Override::default()
    }
}

/// Resolves rules against the seed store; panics on errors.
pub fn resolved(rules: &RuleSet) -> ResolvedRules {
    resolve(rules, &seed_locations(), &seed_warehouses()).unwrap()
}

/// The number for the variant through mapping 0.
pub fn number(rules: &RuleSet, v: &VariantSnapshot) -> Option<u32> {
    resolved(rules)
        .evaluate(v, 0)
        .unwrap()
        .quantity()
        .map(Quantity::get)
}

/// A small shop at the default rules: TEE-RED-S goes up (0 → 300), MUG is right (985),
/// CAP goes down (40 → 3), SOCK is shared by two variants (ambiguous).
pub fn shop() -> (ResolvedRules, Vec<VariantSnapshot>, Vec<TikTokSku>) {
    let variants = vec![
        variant(101, "TEE-RED-S", &[(1, 100), (2, 200)]),
        variant(102, "MUG", &[(1, 985)]),
        variant(103, "CAP", &[(1, 3)]),
        variant(104, "SOCK", &[(1, 7)]),
        variant(105, "SOCK", &[(2, 1)]),
    ];
    let tiktok = vec![
        tiktok("9001", "90011", "TEE-RED-S", &[("7001", 0), ("7002", 0)]),
        tiktok("9002", "90021", "MUG", &[("7001", 985)]),
        tiktok("9002", "90022", " CAP ", &[("7001", 40)]),
        tiktok("9003", "90031", "SOCK", &[("7001", 1)]),
    ];
    (resolved(&RuleSet::default()), variants, tiktok)
}
