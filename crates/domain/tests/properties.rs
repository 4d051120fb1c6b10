//! Properties of the computation that must hold for every rule set and every stock.

use proptest::prelude::*;
use stockbridge_domain::testing::{self, bundle, location, tiktok_sku, warehouse};
use stockbridge_domain::*;

fn locations() -> Vec<Location> {
    (1..=3).map(|i| location(i, &format!("L{i}"))).collect()
}

fn warehouses() -> Vec<Warehouse> {
    vec![warehouse("7001", "Main", true)]
}

fn variant(levels: &[(u64, i64)], tracked: bool, policy: InventoryPolicy) -> VariantSnapshot {
    VariantSnapshot {
        tracked,
        policy,
        ..testing::variant(1, "SKU", levels)
    }
}

/// A TikTok SKU for each variant of `catalog` (its id the variant's), holding 0 in 7001.
fn listed_at_zero(catalog: &[VariantSnapshot]) -> Vec<TikTokSku> {
    catalog
        .iter()
        .map(|v| {
            let seller_sku = v.sku.as_ref().unwrap().as_str();
            tiktok_sku("1", &v.variant_id.to_string(), seller_sku, &[("7001", 0)])
        })
        .collect()
}

/// A component with its levels, units per bundle and whether it is tracked.
type Part = (Vec<(u64, i64)>, u32, bool);

fn parts() -> impl Strategy<Value = Vec<Part>> {
    proptest::collection::vec((levels(), 1u32..=6, proptest::bool::weighted(0.8)), 1..5)
}

/// Components 1..=n from `parts`, then the bundle (variant 100) made of them.
fn bundle_catalog(parts: &[Part]) -> Vec<VariantSnapshot> {
    let mut catalog: Vec<VariantSnapshot> = parts
        .iter()
        .enumerate()
        .map(|(i, (levels, _, tracked))| VariantSnapshot {
            variant_id: VariantId::new(i as u64 + 1).unwrap(),
            sku: Some(Sku::new(format!("C{i}")).unwrap()),
            ..variant(levels, *tracked, InventoryPolicy::Deny)
        })
        .collect();
    let components: Vec<(u64, u32)> = parts
        .iter()
        .enumerate()
        .map(|(i, (_, units, _))| (i as u64 + 1, *units))
        .collect();
    catalog.push(bundle(100, "BUNDLE", &components));
    catalog
}

fn bundle_number(rules: &RuleSet, catalog: &[VariantSnapshot]) -> u32 {
    let r = resolve(rules, &locations(), &warehouses()).unwrap();
    let components = Components::of(catalog);
    r.evaluate_in(catalog.last().unwrap(), &components, 0, 0)
        .unwrap()
        .quantity()
        .unwrap()
        .get()
}

/// A component's step-4 sum, computed here independently of the domain.
fn component_sum(levels: &[(u64, i64)], ignore: bool) -> i64 {
    levels
        .iter()
        .map(|l| if ignore { l.1.max(0) } else { l.1 })
        .sum::<i64>()
        .max(0)
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
    r.evaluate(v, 0).unwrap().quantity().unwrap().get()
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
    fn a_bundle_never_offers_more_than_any_component_allows(rules in rule_set(), parts in parts()) {
        let n = u64::from(bundle_number(&rules, &bundle_catalog(&parts)));
        let ignore = rules.negative_available == NegativeAvailable::Ignore;
        for (levels, units, tracked) in &parts {
            if *tracked {
                let allowed = component_sum(levels, ignore) as u64 / u64::from(*units);
                prop_assert!(n <= allowed, "{n} bundles but the component allows {allowed}");
            }
        }
        prop_assert!(n <= u64::from(rules.max_quantity.get()));
    }

    #[test]
    fn a_bundle_at_full_percent_is_its_least_component_count(parts in parts(), max in 0i64..=999_999) {
        let rules = RuleSet { max_quantity: Quantity::new(max).unwrap(), ..RuleSet::default() };
        let least = parts
            .iter()
            .filter(|p| p.2)
            .map(|(levels, units, _)| component_sum(levels, false) / i64::from(*units))
            .min();
        let expected = match least {
            Some(count) => count.min(max),
            None => 999_999.min(max),
        };
        prop_assert_eq!(i64::from(bundle_number(&rules, &bundle_catalog(&parts))), expected);
    }

    #[test]
    fn a_bundle_is_monotone_in_component_stock(rules in rule_set(), parts in parts(), which in 0usize..5, more in 0i64..10_000) {
        let before = bundle_number(&rules, &bundle_catalog(&parts));
        let mut raised = parts.clone();
        let i = which % raised.len();
        raised[i].0.push((1, more));
        let after = bundle_number(&rules, &bundle_catalog(&raised));
        prop_assert!(after >= before, "{after} < {before}");
    }

    #[test]
    fn any_components_give_a_plan_without_panicking(
        ids in proptest::collection::vec((1u64..=8, 1u32..=u32::MAX), 0..40),
        stock in proptest::collection::vec(-10i64..i64::MAX / 4, 8),
        nested in 0usize..8,
    ) {
        let mut catalog: Vec<VariantSnapshot> = stock
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 != 2)
            .map(|(i, &s)| VariantSnapshot {
                variant_id: VariantId::new(i as u64 + 1).unwrap(),
                sku: Some(Sku::new(format!("C{i}")).unwrap()),
                ..variant(&[(1, s), (2, s)], true, InventoryPolicy::Deny)
            })
            .collect();
        if let Some(v) = catalog.get_mut(nested) {
            v.components = Some(Vec::new());
        }
        catalog.push(bundle(100, "BUNDLE", &ids));
        let tiktok = listed_at_zero(&catalog);
        let r = resolve(&RuleSet::default(), &locations(), &warehouses()).unwrap();
        let plan = Plan::build(&r, &catalog, &tiktok);
        let bundle_line = plan.lines.iter().find(|l| l.sku == "BUNDLE");
        let unreadable = plan.warnings.iter().any(|w| {
            matches!(w, Warning::BundleUnreadable { variant, .. } if variant.get() == 100)
        });
        prop_assert!(bundle_line.is_some() != unreadable);
    }

    #[test]
    fn held_units_never_raise_the_number(rules in rule_set(), levels in levels(), held in 0u64..3_000_000, more in 0u64..1_000) {
        let r = resolve(&rules, &locations(), &warehouses()).unwrap();
        let v = variant(&levels, true, InventoryPolicy::Deny);
        let free = r.evaluate(&v, 0).unwrap().quantity().unwrap().get();
        let holding = r.evaluate_holding(&v, 0, held).unwrap().quantity().unwrap().get();
        let holding_more = r.evaluate_holding(&v, 0, held + more).unwrap().quantity().unwrap().get();
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
            r.evaluate_holding(&v, 0, held).unwrap().quantity(),
            r.evaluate(&variant(&less, true, InventoryPolicy::Deny), 0).unwrap().quantity()
        );
    }

    #[test]
    fn orders_of_a_bundle_or_its_components_never_raise_any_listing(
        parts in parts(),
        held in proptest::collection::vec(0u64..20, 6),
    ) {
        let catalog = bundle_catalog(&parts);
        let tiktok = listed_at_zero(&catalog);
        let lines = catalog.iter().zip(&held).map(|(v, &quantity)| HoldLine {
            order: OrderId::new(format!("o{}", v.variant_id)).unwrap(),
            sku_id: SkuId::new(v.variant_id.to_string()).unwrap(),
            seller_sku: v.sku.clone(),
            warehouse: None,
            quantity,
        });
        let holds = Holds::new(lines, &tiktok);
        let r = resolve(&RuleSet::default(), &locations(), &warehouses()).unwrap();
        let free = Plan::build(&r, &catalog, &tiktok);
        let holding = Plan::build_holding(&r, &catalog, &tiktok, &holds);
        for (f, h) in free.lines.iter().zip(&holding.lines) {
            prop_assert_eq!(&f.sku, &h.sku);
            prop_assert!(h.quantity <= f.quantity, "{}: {} > {}", h.sku, h.quantity, f.quantity);
        }
    }
}
