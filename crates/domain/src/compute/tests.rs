use crate::seed::*;
use crate::*;

mod overrides;

fn explained(rules: &RuleSet, v: &VariantSnapshot) -> String {
    let r = resolved(rules);
    match r.evaluate(v, 0).unwrap() {
        Decision::Push(e) => r.explain(v, 0, &e).unwrap(),
        Decision::Excluded { .. } => "excluded".into(),
        Decision::Unreadable(why) => format!("unreadable: {why}"),
    }
}

// §2.1, the seed's examples.

#[test]
fn floors_985_at_80_percent_to_788() {
    let rules = RuleSet {
        quantity_percent: pct(80.0),
        ..RuleSet::default()
    };
    assert_eq!(number(&rules, &variant(1, "A", &[(1, 985)])), Some(788));
}

#[test]
fn untracked_item_pushes_999999_at_any_percent() {
    for p in [0.0, 50.0, 80.0, 100.0] {
        let rules = RuleSet {
            quantity_percent: pct(p),
            ..RuleSet::default()
        };
        let mut v = variant(1, "A", &[(1, 3)]);
        v.tracked = false;
        assert_eq!(number(&rules, &v), Some(999_999), "at {p}%");
    }
}

#[test]
fn continue_selling_item_pushes_999999_at_any_percent() {
    for p in [0.0, 33.33, 100.0] {
        let rules = RuleSet {
            quantity_percent: pct(p),
            ..RuleSet::default()
        };
        let mut v = variant(1, "A", &[(1, -4)]);
        v.policy = InventoryPolicy::Continue;
        assert_eq!(number(&rules, &v), Some(999_999), "at {p}%");
    }
}

#[test]
fn all_active_locations_sum_into_the_default_warehouse() {
    let r = resolved(&RuleSet::default());
    assert_eq!(r.mappings().len(), 1);
    assert_eq!(r.mappings()[0].warehouse().as_str(), "7001");
    let v = variant(1, "A", &[(1, 100), (2, 200)]);
    assert_eq!(r.evaluate(&v, 0).unwrap().quantity().unwrap().get(), 300);
}

#[test]
fn location_a_at_80_percent_into_beta_gives_80() {
    let rules = RuleSet {
        quantity_percent: pct(80.0),
        location_mappings: vec![listed(&["Location A"], Some("β"))],
        ..RuleSet::default()
    };
    let r = resolved(&rules);
    assert_eq!(r.mappings()[0].warehouse().as_str(), "7002");
    let v = variant(1, "A", &[(1, 100), (2, 200)]);
    assert_eq!(r.evaluate(&v, 0).unwrap().quantity().unwrap().get(), 80);
}

// §2, one test per step.

#[test]
fn excluded_sku_gets_no_number() {
    let rules = RuleSet {
        overrides: vec![Override {
            exclude: true,
            ..over(&["TEE-*"])
        }],
        ..RuleSet::default()
    };
    let r = resolved(&rules);
    assert_eq!(
        r.evaluate(&variant(1, "TEE-RED", &[(1, 5)]), 0).unwrap(),
        Decision::Excluded { override_index: 0 }
    );
    assert_eq!(
        r.evaluate(&variant(2, "MUG", &[(1, 5)]), 0)
            .unwrap()
            .quantity()
            .unwrap()
            .get(),
        5
    );
}

#[test]
fn exclusion_wins_even_for_untracked_items() {
    let rules = RuleSet {
        overrides: vec![Override {
            exclude: true,
            ..over(&["*"])
        }],
        ..RuleSet::default()
    };
    let mut v = variant(1, "A", &[]);
    v.tracked = false;
    assert_eq!(number(&rules, &v), None);
}

#[test]
fn unlimited_quantity_is_capped_by_max_quantity() {
    let rules = RuleSet {
        unlimited_quantity: Quantity::new(5_000).unwrap(),
        max_quantity: Quantity::new(100).unwrap(),
        ..RuleSet::default()
    };
    let mut v = variant(1, "A", &[]);
    v.tracked = false;
    assert_eq!(number(&rules, &v), Some(100));
    assert_eq!(explained(&rules, &v), "untracked -> 5000; cap 100 = 100");
}

#[test]
fn unlimited_skips_percentage_reserve_and_threshold() {
    let rules = RuleSet {
        quantity_percent: pct(10.0),
        reserve_units: 50,
        zero_below: 1_000_000,
        unlimited_quantity: Quantity::new(500).unwrap(),
        ..RuleSet::default()
    };
    let mut v = variant(1, "A", &[]);
    v.policy = InventoryPolicy::Continue;
    assert_eq!(number(&rules, &v), Some(500));
    assert_eq!(
        explained(&rules, &v),
        "continue selling when out of stock -> 500"
    );
}

#[test]
fn fixed_quantity_is_pushed_and_capped() {
    let rules = RuleSet {
        reserve_units: 10,
        overrides: vec![Override {
            fixed_quantity: Some(Quantity::new(40).unwrap()),
            max_quantity: Some(Quantity::new(25).unwrap()),
            ..over(&["BUNDLE-?"])
        }],
        ..RuleSet::default()
    };
    assert_eq!(number(&rules, &variant(1, "BUNDLE-1", &[(1, 0)])), Some(25));
    assert_eq!(
        explained(&rules, &variant(1, "BUNDLE-1", &[(1, 0)])),
        "override [BUNDLE-?]: fixed 40; cap 25 = 25"
    );
}

#[test]
fn untracked_beats_fixed_quantity() {
    let rules = RuleSet {
        overrides: vec![Override {
            fixed_quantity: Some(Quantity::new(7).unwrap()),
            ..over(&["A"])
        }],
        ..RuleSet::default()
    };
    let mut v = variant(1, "A", &[]);
    v.tracked = false;
    assert_eq!(number(&rules, &v), Some(999_999));
}

#[test]
fn unstocked_location_counts_zero() {
    assert_eq!(
        number(&RuleSet::default(), &variant(1, "A", &[(2, 7)])),
        Some(7)
    );
    assert_eq!(number(&RuleSet::default(), &variant(1, "A", &[])), Some(0));
}

#[test]
fn negative_available_is_subtracted_by_default() {
    assert_eq!(
        number(&RuleSet::default(), &variant(1, "A", &[(1, 10), (2, -4)])),
        Some(6)
    );
}

#[test]
fn negative_available_counts_zero_with_ignore() {
    let rules = RuleSet {
        negative_available: NegativeAvailable::Ignore,
        ..RuleSet::default()
    };
    let v = variant(1, "A", &[(1, 10), (2, -4)]);
    assert_eq!(number(&rules, &v), Some(10));
    assert_eq!(
        explained(&rules, &v),
        "Location A 10 + Location B -4 (ignored) 0 = 10"
    );
}

#[test]
fn negative_sum_becomes_zero() {
    let v = variant(1, "A", &[(1, -10), (2, 3)]);
    assert_eq!(number(&RuleSet::default(), &v), Some(0));
    assert_eq!(
        explained(&RuleSet::default(), &v),
        "Location A -10 + Location B 3 = -7 -> 0"
    );
}

#[test]
fn percentage_never_rounds_up() {
    let rules = RuleSet {
        quantity_percent: pct(33.33),
        ..RuleSet::default()
    };
    assert_eq!(number(&rules, &variant(1, "A", &[(1, 3)])), Some(0));
    assert_eq!(number(&rules, &variant(1, "A", &[(1, 301)])), Some(100));
    let rules = RuleSet {
        quantity_percent: pct(99.99),
        ..RuleSet::default()
    };
    assert_eq!(
        number(&rules, &variant(1, "A", &[(1, 10_000)])),
        Some(9_999)
    );
}

#[test]
fn reserve_is_subtracted_after_the_percentage_and_never_below_zero() {
    let rules = RuleSet {
        quantity_percent: pct(80.0),
        reserve_units: 5,
        ..RuleSet::default()
    };
    let v = variant(1, "A", &[(1, 100), (2, 200)]);
    assert_eq!(number(&rules, &v), Some(235));
    assert_eq!(
        explained(&rules, &v),
        "Location A 100 + Location B 200 = 300; x 80% = 240; - reserve 5 = 235"
    );
    assert_eq!(number(&rules, &variant(1, "A", &[(1, 3)])), Some(0));
}

#[test]
fn result_below_zero_below_becomes_zero() {
    let rules = RuleSet {
        zero_below: 5,
        ..RuleSet::default()
    };
    assert_eq!(number(&rules, &variant(1, "A", &[(1, 4)])), Some(0));
    assert_eq!(number(&rules, &variant(1, "A", &[(1, 5)])), Some(5));
    assert_eq!(
        explained(&rules, &variant(1, "A", &[(1, 4)])),
        "Location A 4 = 4; below 5 -> 0"
    );
}

#[test]
fn cap_applies_last() {
    let rules = RuleSet {
        max_quantity: Quantity::new(50).unwrap(),
        ..RuleSet::default()
    };
    assert_eq!(number(&rules, &variant(1, "A", &[(1, 80)])), Some(50));
    assert_eq!(
        explained(&rules, &variant(1, "A", &[(1, 80)])),
        "Location A 80 = 80; cap 50 = 50"
    );
}

#[test]
fn inactive_location_counts_zero_and_is_explained() {
    let locations = vec![loc(1, "Location A", true), loc(2, "Location B", false)];
    let rules = RuleSet {
        location_mappings: vec![listed(&["Location A", "Location B"], None)],
        ..RuleSet::default()
    };
    let r = resolve(&rules, &locations, &seed_warehouses()).unwrap();
    let v = variant(1, "A", &[(1, 100), (2, 200)]);
    let Decision::Push(e) = r.evaluate(&v, 0).unwrap() else {
        panic!("excluded")
    };
    assert_eq!(e.quantity.get(), 100);
    assert_eq!(
        r.explain(&v, 0, &e).unwrap(),
        "Location A 100 + Location B (inactive) 0 = 100"
    );
}

#[test]
fn all_skips_inactive_locations() {
    let locations = vec![loc(1, "Location A", true), loc(2, "Location B", false)];
    let r = resolve(&RuleSet::default(), &locations, &seed_warehouses()).unwrap();
    assert_eq!(
        r.evaluate(&variant(1, "A", &[(1, 100), (2, 200)]), 0)
            .unwrap()
            .quantity()
            .unwrap()
            .get(),
        100
    );
}

#[test]
fn explanation_of_no_stock_says_so() {
    assert_eq!(
        explained(&RuleSet::default(), &variant(1, "A", &[])),
        "no stock at the mapped locations = 0"
    );
}

#[test]
fn a_mapping_or_override_the_rules_do_not_have_gives_none_not_a_panic() {
    let rules = resolved(&RuleSet::default());
    let v = variant(101, "TEE-RED-S", &[(1, 100), (2, 200)]);
    assert_eq!(rules.evaluate(&v, 1), None);
    assert_eq!(rules.evaluate(&v, usize::MAX), None);
    let Some(Decision::Push(e)) = rules.evaluate(&v, 0) else {
        panic!("mapping 0 pushes a number")
    };
    assert_eq!(
        rules.explain(&v, 0, &e).as_deref(),
        Some("Location A 100 + Location B 200 = 300")
    );
    assert_eq!(rules.explain(&v, 1, &e), None);
    let foreign = Evaluation {
        override_index: Some(3),
        ..e
    };
    assert_eq!(rules.explain(&v, 0, &foreign), None, "no override 3 here");
    assert_eq!(Holds::none().held(&v, &rules, 9), Held::default());
}
