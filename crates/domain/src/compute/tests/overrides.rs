//! Overrides replace the shop-wide values they set, and only those (sync-rules.md §1).

use super::explained;
use crate::seed::*;
use crate::*;

#[test]
fn override_replaces_only_the_keys_it_sets() {
    let rules = RuleSet {
        quantity_percent: pct(50.0),
        reserve_units: 10,
        overrides: vec![Override {
            quantity_percent: Some(pct(100.0)),
            ..over(&["VIP-*"])
        }],
        ..RuleSet::default()
    };
    assert_eq!(number(&rules, &variant(1, "VIP-1", &[(1, 100)])), Some(90));
    assert_eq!(number(&rules, &variant(2, "STD-1", &[(1, 100)])), Some(40));
}

#[test]
fn first_matching_override_wins() {
    let rules = RuleSet {
        overrides: vec![
            Override {
                fixed_quantity: Some(Quantity::new(1).unwrap()),
                ..over(&["TEE-RED-*"])
            },
            Override {
                fixed_quantity: Some(Quantity::new(2).unwrap()),
                ..over(&["TEE-*"])
            },
        ],
        ..RuleSet::default()
    };
    assert_eq!(number(&rules, &variant(1, "TEE-RED-S", &[])), Some(1));
    assert_eq!(number(&rules, &variant(2, "TEE-BLUE-S", &[])), Some(2));
}

#[test]
fn override_reserve_and_threshold_replace_the_shop_wide_ones() {
    let rules = RuleSet {
        reserve_units: 0,
        zero_below: 0,
        overrides: vec![Override {
            reserve_units: Some(5),
            zero_below: Some(10),
            ..over(&["LOW-*"])
        }],
        ..RuleSet::default()
    };
    assert_eq!(number(&rules, &variant(1, "LOW-1", &[(1, 14)])), Some(0));
    assert_eq!(number(&rules, &variant(1, "LOW-1", &[(1, 20)])), Some(15));
    assert_eq!(number(&rules, &variant(2, "STD-1", &[(1, 14)])), Some(14));
    assert_eq!(
        explained(&rules, &variant(1, "LOW-1", &[(1, 14)])),
        "override [LOW-*]: Location A 14 = 14; - reserve 5 = 9; below 10 -> 0"
    );
}

#[test]
fn override_reserve_and_threshold_of_zero_lift_the_shop_wide_ones() {
    let rules = RuleSet {
        reserve_units: 5,
        zero_below: 10,
        overrides: vec![Override {
            reserve_units: Some(0),
            zero_below: Some(0),
            ..over(&["ALL-IN-*"])
        }],
        ..RuleSet::default()
    };
    assert_eq!(number(&rules, &variant(1, "ALL-IN-1", &[(1, 3)])), Some(3));
    assert_eq!(number(&rules, &variant(2, "STD-1", &[(1, 14)])), Some(0));
    assert_eq!(number(&rules, &variant(2, "STD-1", &[(1, 20)])), Some(15));
}

#[test]
fn override_max_quantity_caps_a_computed_number_and_lifts_the_shop_wide_cap() {
    let rules = RuleSet {
        max_quantity: Quantity::new(50).unwrap(),
        overrides: vec![
            Override {
                max_quantity: Some(Quantity::new(10).unwrap()),
                ..over(&["SCARCE-*"])
            },
            Override {
                max_quantity: Some(Quantity::MAX),
                ..over(&["BULK-*"])
            },
        ],
        ..RuleSet::default()
    };
    assert_eq!(
        number(&rules, &variant(1, "SCARCE-1", &[(1, 80)])),
        Some(10)
    );
    assert_eq!(number(&rules, &variant(2, "BULK-1", &[(1, 80)])), Some(80));
    assert_eq!(number(&rules, &variant(3, "STD-1", &[(1, 80)])), Some(50));
    assert_eq!(
        explained(&rules, &variant(1, "SCARCE-1", &[(1, 80)])),
        "override [SCARCE-*]: Location A 80 = 80; cap 10 = 10"
    );
}

#[test]
fn override_max_quantity_caps_unlimited_items() {
    let rules = RuleSet {
        overrides: vec![Override {
            max_quantity: Some(Quantity::new(30).unwrap()),
            ..over(&["PRINT-*"])
        }],
        ..RuleSet::default()
    };
    let mut v = variant(1, "PRINT-1", &[]);
    v.tracked = false;
    assert_eq!(number(&rules, &v), Some(30));
}

#[test]
fn override_percentage_applies_before_the_shop_wide_reserve() {
    let rules = RuleSet {
        quantity_percent: pct(100.0),
        reserve_units: 2,
        overrides: vec![Override {
            quantity_percent: Some(pct(50.0)),
            ..over(&["HALF-*"])
        }],
        ..RuleSet::default()
    };
    assert_eq!(number(&rules, &variant(1, "HALF-1", &[(1, 11)])), Some(3));
    assert_eq!(
        explained(&rules, &variant(1, "HALF-1", &[(1, 11)])),
        "override [HALF-*]: Location A 11 = 11; x 50% = 5; - reserve 2 = 3"
    );
}
