//! The Stockbridge domain: the merchant's sync rules, how Shopify variants map onto TikTok
//! SKUs and warehouses, the number each (SKU, warehouse) must hold and why, and the write
//! plan that gets TikTok there.
//!
//! This crate owns the semantics of `spec/sync-rules.md` and nothing else: it does no I/O,
//! has no clock, no async and no dependencies. Callers pass in what the stores hold.

#![deny(missing_docs)]

pub mod catalog;
pub mod ids;
pub mod pattern;
pub mod quantity;
pub mod rules;
pub mod write;

pub use catalog::{
    InventoryPolicy, Location, ProductStatus, StockLevel, TikTokSku, VariantSnapshot, Warehouse,
    WarehouseKind, WarehouseStatus, WarehouseStock,
};
pub use ids::{IdError, InventoryItemId, LocationId, ProductId, Sku, SkuId, VariantId, WarehouseId};
pub use pattern::SkuPattern;
pub use quantity::{NumberError, Percent, Quantity};
pub use rules::{LocationMapping, LocationRef, LocationSelector, NegativeAvailable, Override, RuleSet};
pub use write::{ProductWrite, SkuWrite, WarehouseOutcome, WriteOutcome};
