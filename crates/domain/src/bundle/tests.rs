//! Table tests of sync-rules.md §8: a bundle's number comes from its components.

use crate::seed::*;
use crate::*;

/// MUG (variant 1) and TEE (variant 2), stocked at Location A and B.
fn mug_and_tee(mug: &[(u64, i64)], tee: &[(u64, i64)]) -> Vec<VariantSnapshot> {
    vec![variant(1, "MUG", mug), variant(2, "TEE", tee)]
}

/// The decision and explanation for the last variant of `catalog` through mapping `m`.
fn decide(rules: &ResolvedRules, catalog: &[VariantSnapshot], m: usize) -> (Decision, String) {
    let components = Components::of(catalog);
    let target = catalog.last().unwrap();
    let decision = rules.evaluate_in(target, &components, m, 0).unwrap();
    let text = match &decision {
        Decision::Push(e) => rules.explain_in(target, &components, m, e, &[]).unwrap(),
        Decision::Excluded { .. } => "excluded".into(),
        Decision::Unreadable(why) => format!("unreadable: {why}"),
    };
    (decision, text)
}

fn number_and_text(rules: &RuleSet, catalog: &[VariantSnapshot]) -> (Option<u32>, String) {
    let (decision, text) = decide(&resolved(rules), catalog, 0);
    (decision.quantity().map(Quantity::get), text)
}

fn with(mut catalog: Vec<VariantSnapshot>, last: VariantSnapshot) -> Vec<VariantSnapshot> {
    catalog.push(last);
    catalog
}

#[test]
fn the_specs_example_is_limited_by_tee_at_9_over_2() {
    let catalog = with(
        mug_and_tee(&[(1, 7)], &[(1, 9)]),
        bundle(3, "BOX", &[(1, 1), (2, 2)]),
    );
    assert_eq!(
        number_and_text(&RuleSet::default(), &catalog),
        (Some(4), "bundle: min(MUG 7/1, TEE 9/2 = 4) = 4".into())
    );
}

#[test]
fn two_mugs_and_one_tee_are_limited_by_the_mugs() {
    let catalog = with(
        mug_and_tee(&[(1, 4), (2, 3)], &[(2, 9)]),
        bundle(3, "BOX", &[(1, 2), (2, 1)]),
    );
    assert_eq!(
        number_and_text(&RuleSet::default(), &catalog),
        (Some(3), "bundle: min(MUG 7/2 = 3, TEE 9/1) = 3".into())
    );
}

#[test]
fn the_bundles_own_percentage_reserve_and_cap_apply_after_the_count() {
    let catalog = with(
        mug_and_tee(&[(1, 40)], &[(1, 90)]),
        bundle(3, "BOX", &[(1, 1), (2, 2)]),
    );
    let rules = RuleSet {
        quantity_percent: pct(80.0),
        reserve_units: 2,
        max_quantity: Quantity::new(25).unwrap(),
        ..RuleSet::default()
    };
    assert_eq!(
        number_and_text(&rules, &catalog),
        (
            Some(25),
            "bundle: min(MUG 40/1 = 40, TEE 90/2) = 40; x 80% = 32; - reserve 2 = 30; cap 25 = 25"
                .into()
        )
    );
}

#[test]
fn a_component_override_does_not_change_the_bundle_but_the_bundles_own_does() {
    let catalog = with(
        mug_and_tee(&[(1, 10)], &[(1, 10)]),
        bundle(3, "BOX", &[(1, 1), (2, 1)]),
    );
    let on_components = RuleSet {
        overrides: vec![Override {
            quantity_percent: Some(pct(10.0)),
            fixed_quantity: None,
            ..over(&["MUG", "TEE"])
        }],
        ..RuleSet::default()
    };
    assert_eq!(number_and_text(&on_components, &catalog).0, Some(10));
    let on_bundle = RuleSet {
        overrides: vec![Override {
            quantity_percent: Some(pct(50.0)),
            ..over(&["BOX"])
        }],
        ..RuleSet::default()
    };
    assert_eq!(
        number_and_text(&on_bundle, &catalog),
        (
            Some(5),
            "override [BOX]: bundle: min(MUG 10/1 = 10, TEE 10/1) = 10; x 50% = 5".into()
        )
    );
}

#[test]
fn negative_component_stock_counts_per_the_negative_rule_and_never_below_zero() {
    let catalog = with(
        mug_and_tee(&[(1, 10), (2, -4)], &[(1, 9)]),
        bundle(3, "BOX", &[(1, 1), (2, 1)]),
    );
    assert_eq!(number_and_text(&RuleSet::default(), &catalog).0, Some(6));
    let ignore = RuleSet {
        negative_available: NegativeAvailable::Ignore,
        ..RuleSet::default()
    };
    assert_eq!(number_and_text(&ignore, &catalog).0, Some(9));
    let oversold = with(
        mug_and_tee(&[(1, -3)], &[(1, 9)]),
        bundle(3, "BOX", &[(1, 1), (2, 1)]),
    );
    assert_eq!(
        number_and_text(&RuleSet::default(), &oversold),
        (Some(0), "bundle: min(MUG 0/1 = 0, TEE 9/1) = 0".into())
    );
}

#[test]
fn each_mapping_counts_only_its_own_locations_of_each_component() {
    let rules = RuleSet {
        location_mappings: vec![
            listed(&["Location A"], Some("α")),
            listed(&["Location B"], Some("β")),
        ],
        ..RuleSet::default()
    };
    let catalog = with(
        mug_and_tee(&[(1, 8), (2, 1)], &[(1, 2), (2, 5)]),
        bundle(3, "BOX", &[(1, 2), (2, 1)]),
    );
    let r = resolved(&rules);
    assert_eq!(decide(&r, &catalog, 0).0.quantity().unwrap().get(), 2);
    assert_eq!(decide(&r, &catalog, 1).0.quantity().unwrap().get(), 0);
}

#[test]
fn an_untracked_or_continue_selling_component_does_not_limit() {
    let mut catalog = with(
        mug_and_tee(&[(1, 0)], &[(1, 9)]),
        bundle(3, "BOX", &[(1, 1), (2, 2)]),
    );
    catalog[0].tracked = false;
    assert_eq!(
        number_and_text(&RuleSet::default(), &catalog),
        (
            Some(4),
            "bundle: min(MUG untracked, TEE 9/2 = 4) = 4".into()
        )
    );
    catalog[0].tracked = true;
    catalog[0].policy = InventoryPolicy::Continue;
    assert_eq!(
        number_and_text(&RuleSet::default(), &catalog),
        (
            Some(4),
            "bundle: min(MUG continue selling, TEE 9/2 = 4) = 4".into()
        )
    );
}

#[test]
fn a_bundle_whose_components_are_all_unlimited_is_unlimited_and_capped() {
    let mut catalog = with(
        mug_and_tee(&[(1, 0)], &[(1, 0)]),
        bundle(3, "BOX", &[(1, 1), (2, 2)]),
    );
    catalog[0].tracked = false;
    catalog[1].policy = InventoryPolicy::Continue;
    assert_eq!(
        number_and_text(&RuleSet::default(), &catalog),
        (
            Some(999_999),
            "bundle: every component untracked or continue selling -> 999999".into()
        )
    );
    let capped = RuleSet {
        max_quantity: Quantity::new(40).unwrap(),
        quantity_percent: pct(10.0),
        ..RuleSet::default()
    };
    assert_eq!(number_and_text(&capped, &catalog).0, Some(40));
}

#[test]
fn the_bundles_own_track_and_continue_switches_are_ignored() {
    let catalog = mug_and_tee(&[(1, 6)], &[(1, 9)]);
    for (tracked, policy) in [
        (false, InventoryPolicy::Deny),
        (true, InventoryPolicy::Continue),
    ] {
        let mut b = bundle(3, "BOX", &[(1, 3), (2, 1)]);
        b.tracked = tracked;
        b.policy = policy;
        b.levels = vec![StockLevel {
            location: LocationId::new(1).unwrap(),
            available: 500,
            updated_at: None,
        }];
        let catalog = with(catalog.clone(), b);
        assert_eq!(number_and_text(&RuleSet::default(), &catalog).0, Some(2));
    }
}

#[test]
fn exclude_and_fixed_look_at_the_bundles_own_sku() {
    let catalog = with(
        mug_and_tee(&[(1, 6)], &[(1, 9)]),
        bundle(3, "BOX", &[(1, 1), (2, 1)]),
    );
    let excluded = RuleSet {
        overrides: vec![Override {
            exclude: true,
            ..over(&["BOX"])
        }],
        ..RuleSet::default()
    };
    assert!(matches!(
        decide(&resolved(&excluded), &catalog, 0).0,
        Decision::Excluded { override_index: 0 }
    ));
    let fixed = RuleSet {
        overrides: vec![Override {
            fixed_quantity: Some(Quantity::new(12).unwrap()),
            ..over(&["BOX"])
        }],
        ..RuleSet::default()
    };
    assert_eq!(
        number_and_text(&fixed, &catalog),
        (Some(12), "override [BOX]: fixed 12".into())
    );
    let component_excluded = RuleSet {
        overrides: vec![Override {
            exclude: true,
            ..over(&["MUG"])
        }],
        ..RuleSet::default()
    };
    assert_eq!(number_and_text(&component_excluded, &catalog).0, Some(6));
}

#[test]
fn a_missing_component_gives_no_number_never_999999() {
    let catalog = vec![
        variant(2, "TEE", &[(1, 9)]),
        bundle(3, "BOX", &[(1, 1), (2, 1)]),
    ];
    let (decision, text) = decide(&resolved(&RuleSet::default()), &catalog, 0);
    assert_eq!(
        decision,
        Decision::Unreadable(UnreadableBundle::MissingComponent {
            variant: VariantId::new(1).unwrap()
        })
    );
    assert_eq!(
        text,
        "unreadable: its component variant 1 could not be read"
    );
}

#[test]
fn a_bundle_is_unreadable_without_its_catalog() {
    let b = bundle(3, "BOX", &[(1, 1)]);
    assert_eq!(
        resolved(&RuleSet::default())
            .evaluate(&b, 0)
            .unwrap()
            .quantity(),
        None
    );
}

#[test]
fn a_bundle_without_components_too_many_or_nested_is_unreadable() {
    let r = resolved(&RuleSet::default());
    let empty = vec![bundle(3, "BOX", &[])];
    assert_eq!(
        decide(&r, &empty, 0).0,
        Decision::Unreadable(UnreadableBundle::NoComponents)
    );
    let parts: Vec<(u64, u32)> = (1..=31).map(|i| (i, 1)).collect();
    let mut many: Vec<VariantSnapshot> = (1..=31).map(|i| variant(i, "C", &[(1, 5)])).collect();
    many.push(bundle(100, "BIG", &parts));
    assert_eq!(
        decide(&r, &many, 0).0,
        Decision::Unreadable(UnreadableBundle::TooManyComponents { count: 31 })
    );
    let thirty = with(many[..30].to_vec(), bundle(100, "BIG", &parts[..30]));
    assert_eq!(decide(&r, &thirty, 0).0.quantity().unwrap().get(), 5);
    let nested = vec![
        variant(1, "MUG", &[(1, 5)]),
        bundle(2, "INNER", &[(1, 1)]),
        bundle(3, "OUTER", &[(2, 1)]),
    ];
    assert_eq!(
        decide(&r, &nested, 0).0,
        Decision::Unreadable(UnreadableBundle::NestedBundle {
            variant: VariantId::new(2).unwrap()
        })
    );
}

#[test]
fn a_component_listed_twice_takes_both_quantities() {
    let catalog = with(
        mug_and_tee(&[(1, 9)], &[(1, 9)]),
        bundle(3, "BOX", &[(1, 1), (2, 1), (1, 2)]),
    );
    assert_eq!(
        number_and_text(&RuleSet::default(), &catalog),
        (Some(3), "bundle: min(MUG 9/3 = 3, TEE 9/1) = 3".into())
    );
}

#[test]
fn a_component_without_a_sku_is_named_by_its_variant() {
    let mut catalog = with(
        mug_and_tee(&[(1, 2)], &[(1, 9)]),
        bundle(3, "BOX", &[(1, 1), (2, 1)]),
    );
    catalog[0].sku = None;
    assert_eq!(
        number_and_text(&RuleSet::default(), &catalog).1,
        "bundle: min(variant 1 2/1 = 2, TEE 9/1) = 2"
    );
}

#[test]
fn huge_component_quantities_give_zero_not_a_panic() {
    let catalog = with(
        mug_and_tee(&[(1, i64::MAX), (2, i64::MAX)], &[(1, 1)]),
        bundle(3, "BOX", &[(1, u32::MAX), (2, u32::MAX)]),
    );
    assert_eq!(number_and_text(&RuleSet::default(), &catalog).0, Some(0));
}
