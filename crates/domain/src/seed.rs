//! The domain's own test helpers: the seed store of the examples, rules in a line, and the
//! builders of [`crate::testing`] under the short names these tests use.

use crate::*;

pub use crate::testing::{bundle, tiktok_sku as tiktok, variant, warehouse as wh};

/// A location, active or not.
pub fn loc(id: u64, name: &str, active: bool) -> Location {
    Location {
        active,
        ..crate::testing::location(id, name)
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
