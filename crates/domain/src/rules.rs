//! The merchant's rule set (sync-rules.md §1), as configured and before it is checked
//! against the live stores. `crate::validation` turns it into [`crate::ResolvedRules`].

use crate::pattern::SkuPattern;
use crate::quantity::{Percent, Quantity};

/// How a location whose `available` is negative counts in a sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NegativeAvailable {
    /// Counts as itself (the default): an oversold location lowers the total.
    #[default]
    Subtract,
    /// Counts as 0.
    Ignore,
}

/// A location named in the configuration: by numeric id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocationRef {
    /// A numeric Shopify location id.
    Id(u64),
    /// A location name, matched exactly.
    Name(String),
}

/// Which Shopify locations feed a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocationSelector {
    /// Every location active at the moment of the sync, including ones added later.
    All,
    /// These locations.
    Listed(Vec<LocationRef>),
}

/// Shopify locations summed into one TikTok warehouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationMapping {
    /// The source locations.
    pub locations: LocationSelector,
    /// The target warehouse by name or id; `None` means TikTok's default warehouse.
    pub warehouse: Option<String>,
}

/// A per-SKU exception; the first override whose pattern matches a SKU wins.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Override {
    /// SKU patterns (`*` any run, `?` one character).
    pub skus: Vec<SkuPattern>,
    /// Replaces the shop-wide percentage.
    pub quantity_percent: Option<Percent>,
    /// Replaces the shop-wide reserve.
    pub reserve_units: Option<u64>,
    /// Replaces the shop-wide threshold.
    pub zero_below: Option<u64>,
    /// Replaces the shop-wide cap.
    pub max_quantity: Option<Quantity>,
    /// Push exactly this (still capped).
    pub fixed_quantity: Option<Quantity>,
    /// Never touch these SKUs on TikTok.
    pub exclude: bool,
}

/// The whole rule set of one shop.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    /// Share of the available stock offered on TikTok.
    pub quantity_percent: Percent,
    /// Pushed when Shopify does not limit sales.
    pub unlimited_quantity: Quantity,
    /// Hard cap on every pushed number.
    pub max_quantity: Quantity,
    /// Units held back, after the percentage.
    pub reserve_units: u64,
    /// Below this, push 0.
    pub zero_below: u64,
    /// How negative `available` counts.
    pub negative_available: NegativeAvailable,
    /// Which locations feed which warehouse.
    pub location_mappings: Vec<LocationMapping>,
    /// Per-SKU exceptions, in order.
    pub overrides: Vec<Override>,
}

impl Default for RuleSet {
    /// The seed's behaviour: 100%, 999,999 for unlimited items, all active locations into the
    /// default warehouse.
    fn default() -> Self {
        RuleSet {
            quantity_percent: Percent::FULL,
            unlimited_quantity: Quantity::MAX,
            max_quantity: Quantity::MAX,
            reserve_units: 0,
            zero_below: 0,
            negative_available: NegativeAvailable::Subtract,
            location_mappings: vec![LocationMapping {
                locations: LocationSelector::All,
                warehouse: None,
            }],
            overrides: Vec::new(),
        }
    }
}
