use crate::seed::*;
use crate::*;

fn line(order: &str, sku: &str, warehouse: Option<&str>, quantity: u64) -> HoldLine {
    HoldLine {
        order: OrderId::new(order).unwrap(),
        sku_id: SkuId::new(format!("{sku}-id")).unwrap(),
        seller_sku: Sku::parse_optional(Some(sku)),
        warehouse: warehouse.map(|w| WarehouseId::new(w).unwrap()),
        quantity,
    }
}

/// Location A into α (7001), Location B into β (7002).
fn two_mappings() -> ResolvedRules {
    resolved(&RuleSet {
        location_mappings: vec![
            listed(&["Location A"], Some("α")),
            listed(&["Location B"], Some("β")),
        ],
        ..RuleSet::default()
    })
}

fn units(holds: &Holds, v: &VariantSnapshot, rules: &ResolvedRules, m: usize) -> u64 {
    holds.held(v, rules, m).units
}

#[test]
fn a_line_shipping_from_a_warehouse_holds_only_from_its_mapping() {
    let rules = two_mappings();
    let holds = Holds::new([line("576", "TEE", Some("7002"), 3)], &[]);
    let v = variant(1, "TEE", &[(1, 10), (2, 10)]);
    assert_eq!(units(&holds, &v, &rules, 0), 0, "α keeps its number");
    assert_eq!(units(&holds, &v, &rules, 1), 3, "β holds the 3 units");
}

#[test]
fn a_line_with_no_warehouse_holds_from_every_mapping() {
    let rules = two_mappings();
    let holds = Holds::new([line("576", "TEE", None, 2)], &[]);
    let v = variant(1, "TEE", &[(1, 10), (2, 10)]);
    assert_eq!(units(&holds, &v, &rules, 0), 2);
    assert_eq!(units(&holds, &v, &rules, 1), 2);
}

#[test]
fn a_line_from_an_untargeted_warehouse_holds_from_every_mapping() {
    let rules = resolved(&RuleSet {
        location_mappings: vec![listed(&["Location A"], Some("α"))],
        ..RuleSet::default()
    });
    let holds = Holds::new([line("576", "TEE", Some("7002"), 4)], &[]);
    let v = variant(1, "TEE", &[(1, 10)]);
    assert_eq!(units(&holds, &v, &rules, 0), 4);
}

#[test]
fn lines_of_other_skus_hold_nothing_for_a_variant() {
    let rules = two_mappings();
    let holds = Holds::new([line("576", "MUG", None, 2)], &[]);
    let v = variant(1, "TEE", &[(1, 10)]);
    assert_eq!(holds.held(&v, &rules, 0), Held::default());
}

#[test]
fn several_lines_add_up_and_name_each_order_once_in_id_order() {
    let rules = two_mappings();
    let holds = Holds::new(
        [
            line("577", "TEE", None, 1),
            line("576", "TEE", None, 2),
            line("576", "TEE", Some("7001"), 3),
        ],
        &[],
    );
    let held = holds.held(&variant(1, "TEE", &[]), &rules, 0);
    assert_eq!(held.units, 6);
    let orders: Vec<&str> = held.orders.iter().map(OrderId::as_str).collect();
    assert_eq!(orders, ["576", "577"]);
}

#[test]
fn a_line_without_seller_sku_is_found_through_its_tiktok_sku() {
    let rules = two_mappings();
    let mut l = line("576", "TEE", None, 2);
    l.seller_sku = None;
    l.sku_id = SkuId::new("90011").unwrap();
    let catalog = [tiktok("9001", "90011", " TEE ", &[("7001", 0)])];
    let v = variant(1, "TEE", &[]);

    let mut holds = Holds::new([l.clone()], &[]);
    assert!(!holds.is_empty(), "kept aside, not dropped");
    assert_eq!(units(&holds, &v, &rules, 0), 0);
    holds.resolve(&catalog);
    assert_eq!(units(&holds, &v, &rules, 0), 2);

    assert_eq!(units(&Holds::new([l], &catalog), &v, &rules, 0), 2);
}

#[test]
fn held_units_are_subtracted_before_the_percentage_and_explained() {
    let rules = resolved(&RuleSet {
        quantity_percent: pct(80.0),
        ..RuleSet::default()
    });
    let v = variant(1, "TEE", &[(1, 10)]);
    let holds = Holds::new(
        [line("576", "TEE", None, 2), line("577", "TEE", None, 1)],
        &[],
    );
    let held = holds.held(&v, &rules, 0);
    let Decision::Push(e) = rules.evaluate_holding(&v, 0, held.units).unwrap() else {
        panic!("pushed")
    };
    assert_eq!(e.quantity.get(), 5, "floor(7 x 80%)");
    assert_eq!(
        rules.explain_holding(&v, 0, &e, &held.orders).unwrap(),
        "Location A 10 - held 3 (TikTok orders 576, 577) = 7; x 80% = 5"
    );
}

#[test]
fn a_hold_larger_than_the_stock_gives_0_and_says_so() {
    let rules = resolved(&RuleSet::default());
    let v = variant(1, "TEE", &[(1, 2)]);
    let orders = [OrderId::new("576").unwrap()];
    let Decision::Push(e) = rules.evaluate_holding(&v, 0, 5).unwrap() else {
        panic!("pushed")
    };
    assert_eq!(e.quantity.get(), 0);
    assert_eq!(
        rules.explain_holding(&v, 0, &e, &orders).unwrap(),
        "Location A 2 - held 5 (TikTok order 576) = -3 -> 0"
    );
}

#[test]
fn many_orders_are_named_up_to_five_and_the_rest_counted() {
    let rules = resolved(&RuleSet::default());
    let v = variant(1, "TEE", &[(1, 20)]);
    let orders: Vec<OrderId> = (1..=7)
        .map(|i| OrderId::new(format!("{i}")).unwrap())
        .collect();
    let Decision::Push(e) = rules.evaluate_holding(&v, 0, 7).unwrap() else {
        panic!("pushed")
    };
    assert_eq!(
        rules.explain_holding(&v, 0, &e, &orders).unwrap(),
        "Location A 20 - held 7 (TikTok orders 1, 2, 3, 4, 5 and 2 more) = 13"
    );
}

#[test]
fn unlimited_and_fixed_numbers_ignore_held_units() {
    let rules = resolved(&RuleSet {
        overrides: vec![Override {
            fixed_quantity: Some(Quantity::new(4).unwrap()),
            ..over(&["FIX-*"])
        }],
        ..RuleSet::default()
    });
    let mut untracked = variant(1, "TEE", &[(1, 3)]);
    untracked.tracked = false;
    let fixed = variant(2, "FIX-1", &[(1, 3)]);
    assert_eq!(
        rules
            .evaluate_holding(&untracked, 0, 50)
            .unwrap()
            .quantity()
            .unwrap()
            .get(),
        999_999
    );
    assert_eq!(
        rules
            .evaluate_holding(&fixed, 0, 50)
            .unwrap()
            .quantity()
            .unwrap()
            .get(),
        4
    );
}

#[test]
fn plan_lines_carry_the_held_units_and_their_orders() {
    let rules = two_mappings();
    let variants = vec![variant(101, "TEE", &[(1, 10), (2, 10)])];
    let catalog = vec![tiktok(
        "9001",
        "90011",
        "TEE",
        &[("7001", 10), ("7002", 10)],
    )];
    let holds = Holds::new([line("576", "TEE", Some("7002"), 3)], &catalog);
    let plan = Plan::build_holding(&rules, &variants, &catalog, &holds);
    let lines: Vec<(&str, u32, u64, usize)> = plan
        .lines
        .iter()
        .map(|l| {
            (
                l.warehouse.as_str(),
                l.quantity.get(),
                l.held,
                l.held_orders.len(),
            )
        })
        .collect();
    assert_eq!(lines, [("7001", 10, 0, 0), ("7002", 7, 3, 1)]);
    assert_eq!(
        plan.lines[1].explanation,
        "Location B 10 - held 3 (TikTok order 576) = 7"
    );
}

#[test]
fn a_variant_offered_as_two_tiktok_skus_holds_an_order_of_either_from_both() {
    let rules = resolved(&RuleSet::default());
    let variants = vec![variant(101, "TEE", &[(1, 10)])];
    let catalog = vec![
        tiktok("9001", "1", "TEE", &[("7001", 10)]),
        tiktok("9002", "2", "TEE", &[("7001", 10)]),
    ];
    let mut l = line("576", "TEE", None, 2);
    l.sku_id = SkuId::new("1").unwrap();
    let plan = Plan::build_holding(&rules, &variants, &catalog, &Holds::new([l], &catalog));
    let numbers: Vec<u32> = plan.lines.iter().map(|l| l.quantity.get()).collect();
    assert_eq!(numbers, [8, 8]);
}

#[test]
fn plan_lines_of_unlimited_variants_report_nothing_held() {
    let rules = resolved(&RuleSet::default());
    let mut v = variant(101, "TEE", &[(1, 10)]);
    v.tracked = false;
    let catalog = vec![tiktok("9001", "90011", "TEE", &[("7001", 0)])];
    let holds = Holds::new([line("576", "TEE", None, 3)], &catalog);
    let plan = Plan::build_holding(&rules, &[v], &catalog, &holds);
    assert_eq!(
        (plan.lines[0].held, plan.lines[0].held_orders.len()),
        (0, 0)
    );
}
