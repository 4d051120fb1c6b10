//! The Stockbridge domain: the merchant's sync rules, how Shopify variants map onto TikTok
//! SKUs and warehouses, the number each (SKU, warehouse) must hold and why, and the write
//! plan that gets TikTok there.
//!
//! This crate owns the semantics of `spec/sync-rules.md` and nothing else: it does no I/O,
//! has no clock, no async and no dependencies. Callers pass in what the stores hold.
//!
//! The flow: build a [`RuleSet`] (from configuration), [`resolve`] it against the shop's
//! [`Location`]s and TikTok's [`Warehouse`]s, then [`Plan::build`] from
//! [`VariantSnapshot`]s and [`TikTokSku`]s, and send [`Plan::writes`]. A bundle's
//! components are variants of the same catalog ([`Components`]).

#![deny(missing_docs)]

pub mod breaker;
pub mod bundle;
pub mod catalog;
pub mod compute;
pub mod hold;
pub mod ids;
pub mod live;
pub mod matching;
pub mod orders;
pub mod outcome;
pub mod pattern;
pub mod plan;
pub mod quantity;
pub mod resolved;
pub mod rules;
pub mod validation;
pub mod warning;
pub mod write;

pub use breaker::{Breaker, BreakerError, Verdict};
pub use bundle::{BundleIndex, Component, Components, UnreadableBundle, MAX_COMPONENTS};
pub use catalog::{
    InventoryPolicy, Location, ProductStatus, StockLevel, TikTokSku, VariantSnapshot, Warehouse,
    WarehouseKind, WarehouseStatus, WarehouseStock,
};
pub use compute::{Decision, Evaluation, Steps, UnlimitedReason};
pub use hold::{Held, HoldLine, Holds};
pub use ids::{
    IdError, InventoryItemId, LocationId, OrderId, ProductId, Sku, SkuId, VariantId, WarehouseId,
};
pub use live::{LivePlan, LiveView};
pub use matching::{match_skus, Matching};
pub use orders::{
    HeldOrder, HoldEnd, MatchField, OrderLine, OrderStatus, ShopifyOrderMarks, TikTokOrder,
};
pub use outcome::{LineCounts, LineOutcome, LineStatus, NOT_WRITTEN, NO_OUTCOME};
pub use pattern::{EmptyPattern, SkuPattern};
pub use plan::{Plan, PlanLine, PlanSummary, WriteBatches};
pub use quantity::{NumberError, Percent, Quantity};
pub use resolved::{ResolvedMapping, ResolvedRules};
pub use rules::{
    LocationMapping, LocationRef, LocationSelector, NegativeAvailable, Override, RuleSet,
};
pub use validation::{check_structure, resolve, RuleError};
pub use warning::Warning;
pub use write::{ProductWrite, SkuWrite, WarehouseOutcome, WriteJob, WriteOutcome};

#[cfg(test)]
mod seed;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

/// The examples of the crate's README, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
