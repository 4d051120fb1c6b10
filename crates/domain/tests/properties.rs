//! Properties of the computation that must hold for every rule set and every stock.

use proptest::prelude::*;
use stockbridge_domain::*;

fn locations() -> Vec<Location> {
    (1..=3)
        .map(|i| Location {
            id: LocationId::new(i).unwrap(),
            name: format!("L{i}"),
            active: true,
        })
        .collect()
}

fn warehouses() -> Vec<Warehouse> {
    vec![Warehouse {
        id: WarehouseId::new("7001").unwrap(),
        name: "Main".into(),
        kind: WarehouseKind::Sales,
        status: WarehouseStatus::Enabled,
        is_default: true,
    }]
}

fn variant(levels: &[(u64, i64)], tracked: bool, policy: InventoryPolicy) -> VariantSnapshot {
    VariantSnapshot {
        variant_id: VariantId::new(1).unwrap(),
        inventory_item_id: InventoryItemId::new(1).unwrap(),
        sku: Some(Sku::new("SKU").unwrap()),
        tracked,
        policy,
        product_status: ProductStatus::Active,
        levels: levels
            .iter()
            .map(|&(l, a)| StockLevel {
                location: LocationId::new(l).unwrap(),
                available: a,
            })
            .collect(),
    }
}

fn rule_set() -> impl Strategy<Value = RuleSet> {
    (
        0u32..=10_000,
        0u64..2_000,
        0u64..2_000,
        0i64..=999_999,
        0i64..=999_999,
        any::<bool>(),
    )
        .prop_map(|(p, reserve, zero_below, max, unlimited, ignore)| RuleSet {
            quantity_percent: Percent::from_hundredths(p).unwrap(),
            reserve_units: reserve,
            zero_below,
            max_quantity: Quantity::new(max).unwrap(),
            unlimited_quantity: Quantity::new(unlimited).unwrap(),
            negative_available: if ignore {
                NegativeAvailable::Ignore
            } else {
                NegativeAvailable::Subtract
            },
            ..RuleSet::default()
        })
}

fn levels() -> impl Strategy<Value = Vec<(u64, i64)>> {
    proptest::collection::vec((1u64..=3, -5_000i64..2_000_000), 0..6)
}

fn number(rules: &RuleSet, v: &VariantSnapshot) -> u32 {
    let r = resolve(rules, &locations(), &warehouses()).unwrap();
    r.evaluate(v, 0).quantity().unwrap().get()
}

proptest! {
    #[test]
    fn never_negative_and_never_above_the_cap(rules in rule_set(), levels in levels(), tracked: bool, cont: bool) {
        let policy = if cont { InventoryPolicy::Continue } else { InventoryPolicy::Deny };
        let n = number(&rules, &variant(&levels, tracked, policy));
        prop_assert!(n <= rules.max_quantity.get());
        prop_assert!(n <= Quantity::MAX.get());
    }

    #[test]
    fn monotone_in_stock(rules in rule_set(), levels in levels(), which in 0usize..6, more in 0i64..10_000) {
        let before = number(&rules, &variant(&levels, true, InventoryPolicy::Deny));
        let mut raised = levels.clone();
        if let Some(level) = raised.get_mut(which) {
            level.1 += more;
        } else {
            raised.push((1, more));
        }
        let after = number(&rules, &variant(&raised, true, InventoryPolicy::Deny));
        prop_assert!(after >= before, "{after} < {before}");
    }

    #[test]
    fn full_percent_without_reserve_equals_the_clamped_sum(levels in levels(), max in 0i64..=999_999) {
        let rules = RuleSet { max_quantity: Quantity::new(max).unwrap(), ..RuleSet::default() };
        let sum: i64 = levels.iter().map(|l| l.1).sum();
        let n = number(&rules, &variant(&levels, true, InventoryPolicy::Deny));
        prop_assert_eq!(i64::from(n), sum.clamp(0, max));
    }

    #[test]
    fn untracked_or_continue_always_gives_the_unlimited_value(rules in rule_set(), levels in levels(), untracked: bool) {
        let v = if untracked {
            variant(&levels, false, InventoryPolicy::Deny)
        } else {
            variant(&levels, true, InventoryPolicy::Continue)
        };
        let expected = rules.unlimited_quantity.get().min(rules.max_quantity.get());
        prop_assert_eq!(number(&rules, &v), expected);
    }

    #[test]
    fn location_order_is_irrelevant(rules in rule_set(), levels in levels()) {
        let mut reversed = levels.clone();
        reversed.reverse();
        prop_assert_eq!(
            number(&rules, &variant(&levels, true, InventoryPolicy::Deny)),
            number(&rules, &variant(&reversed, true, InventoryPolicy::Deny))
        );
    }

    #[test]
    fn percentage_is_the_exact_integer_floor(p in 0u32..=10_000, levels in levels()) {
        let rules = RuleSet { quantity_percent: Percent::from_hundredths(p).unwrap(), ..RuleSet::default() };
        let sum = levels.iter().map(|l| l.1).sum::<i64>().max(0) as u128;
        let n = u128::from(number(&rules, &variant(&levels, true, InventoryPolicy::Deny)));
        let exact = sum * u128::from(p);
        let expected = (exact / 10_000).min(999_999);
        prop_assert_eq!(n, expected);
        prop_assert!(n * 10_000 <= exact, "floor never exceeds the exact product");
    }

    #[test]
    fn sku_patterns_match_their_literal_text(text in "[A-Za-z0-9-]{1,12}") {
        prop_assert!(SkuPattern::new(&text).unwrap().matches(&text));
        let star = format!("{}*", &text[..1]);
        prop_assert!(SkuPattern::new(&star).unwrap().matches(&text));
    }

    #[test]
    fn held_units_never_raise_the_number(rules in rule_set(), levels in levels(), held in 0u64..3_000_000, more in 0u64..1_000) {
        let r = resolve(&rules, &locations(), &warehouses()).unwrap();
        let v = variant(&levels, true, InventoryPolicy::Deny);
        let free = r.evaluate(&v, 0).quantity().unwrap().get();
        let holding = r.evaluate_holding(&v, 0, held).quantity().unwrap().get();
        let holding_more = r.evaluate_holding(&v, 0, held + more).quantity().unwrap().get();
        prop_assert!(holding <= free, "{holding} > {free}");
        prop_assert!(holding_more <= holding, "{holding_more} > {holding}");
    }

    #[test]
    fn holding_units_is_the_same_as_having_that_much_less_stock(levels in levels(), held in 0u64..100_000) {
        let rules = RuleSet::default();
        let r = resolve(&rules, &locations(), &warehouses()).unwrap();
        let v = variant(&levels, true, InventoryPolicy::Deny);
        let mut less = levels.clone();
        less.push((1, -(held as i64)));
        prop_assert_eq!(
            r.evaluate_holding(&v, 0, held).quantity(),
            r.evaluate(&variant(&less, true, InventoryPolicy::Deny), 0).quantity()
        );
    }
}
