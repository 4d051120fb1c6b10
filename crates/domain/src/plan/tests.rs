use crate::seed::*;
use crate::*;

fn rules_80_a_to_beta() -> ResolvedRules {
    resolved(&RuleSet {
        quantity_percent: pct(80.0),
        location_mappings: vec![listed(&["Location A"], Some("β"))],
        ..RuleSet::default()
    })
}

#[test]
fn plan_has_one_line_per_matched_sku_and_target_warehouse() {
    let variants = vec![variant(101, "TEE-RED-S", &[(1, 100), (2, 200)])];
    let tiktok = vec![tiktok(
        "9001",
        "90011",
        "TEE-RED-S",
        &[("7001", 0), ("7002", 0)],
    )];
    let plan = Plan::build(&resolved(&RuleSet::default()), &variants, &tiktok);
    assert_eq!(plan.lines.len(), 1);
    let line = &plan.lines[0];
    assert_eq!(
        (line.warehouse.as_str(), line.quantity.get(), line.current),
        ("7001", 300, Some(Quantity::ZERO))
    );
    assert_eq!(line.explanation, "Location A 100 + Location B 200 = 300");
    assert!(line.changed());
    assert_eq!(plan.summary.changed, 1);
    assert_eq!(plan.summary.matched, 1);
}

#[test]
fn write_restates_untargeted_warehouses_unchanged() {
    let variants = vec![variant(101, "TEE-RED-S", &[(1, 100), (2, 200)])];
    let tiktok = vec![tiktok(
        "9001",
        "90011",
        "TEE-RED-S",
        &[("7001", 17), ("7002", 0)],
    )];
    let plan = Plan::build(&rules_80_a_to_beta(), &variants, &tiktok);
    let writes = plan.writes(&tiktok);
    assert_eq!(writes.len(), 1);
    let stock: Vec<(&str, u32)> = writes[0].skus[0]
        .stock
        .iter()
        .map(|s| (s.warehouse.as_str(), s.quantity.get()))
        .collect();
    assert_eq!(
        stock,
        vec![("7001", 17), ("7002", 80)],
        "α untouched, β = 80"
    );
}

#[test]
fn unchanged_numbers_are_not_written() {
    let variants = vec![variant(101, "A", &[(1, 5)]), variant(102, "B", &[(1, 6)])];
    let tiktok = vec![
        tiktok("9001", "1", "A", &[("7001", 5)]),
        tiktok("9002", "2", "B", &[("7001", 0)]),
    ];
    let plan = Plan::build(&resolved(&RuleSet::default()), &variants, &tiktok);
    let writes = plan.writes(&tiktok);
    assert_eq!(writes.len(), 1, "only the product whose number changed");
    assert_eq!(writes[0].product_id.as_str(), "9002");
    assert_eq!(plan.summary.changed, 1);
}

#[test]
fn one_write_per_product_carries_all_its_changed_skus() {
    let variants = vec![
        variant(101, "S", &[(1, 1)]),
        variant(102, "M", &[(1, 2)]),
        variant(103, "L", &[(1, 3)]),
    ];
    let tiktok = vec![
        tiktok("9001", "1", "S", &[("7001", 0)]),
        tiktok("9001", "2", "M", &[("7001", 2)]),
        tiktok("9001", "3", "L", &[("7001", 0)]),
    ];
    let writes = Plan::build(&resolved(&RuleSet::default()), &variants, &tiktok).writes(&tiktok);
    assert_eq!(writes.len(), 1);
    let ids: Vec<&str> = writes[0].skus.iter().map(|s| s.sku_id.as_str()).collect();
    assert_eq!(ids, vec!["1", "3"]);
}

#[test]
fn sku_not_stocked_in_the_target_warehouse_gets_no_number_and_a_warning() {
    let variants = vec![variant(101, "A", &[(1, 100)])];
    let tiktok = vec![tiktok("9001", "90011", "A", &[("7001", 0)])];
    let plan = Plan::build(&rules_80_a_to_beta(), &variants, &tiktok);
    assert!(plan.lines.is_empty());
    assert!(plan.writes(&tiktok).is_empty());
    assert!(
        matches!(&plan.warnings[0], Warning::NotStockedInWarehouse { warehouse_name, .. } if warehouse_name == "β")
    );
}

#[test]
fn matching_trims_white_space_and_is_case_sensitive() {
    let variants = vec![variant(101, "TEE", &[(1, 4)])];
    let tiktok = vec![
        tiktok("9001", "1", "  TEE ", &[("7001", 0)]),
        tiktok("9002", "2", "tee", &[("7001", 0)]),
    ];
    let plan = Plan::build(&resolved(&RuleSet::default()), &variants, &tiktok);
    assert_eq!(plan.lines.len(), 1);
    assert_eq!(plan.lines[0].sku_id.as_str(), "1");
    assert_eq!(plan.summary.unmatched_tiktok_skus, 1);
}

#[test]
fn variant_without_sku_matches_nothing() {
    let variants = vec![variant(101, "", &[(1, 4)])];
    let tiktok = vec![tiktok("9001", "1", "", &[("7001", 0)])];
    let plan = Plan::build(&resolved(&RuleSet::default()), &variants, &tiktok);
    assert!(plan.lines.is_empty());
    assert!(plan
        .warnings
        .iter()
        .any(|w| matches!(w, Warning::VariantsWithoutSku { count: 1, .. })));
}

#[test]
fn ambiguous_sku_is_never_guessed() {
    let variants = vec![
        variant(101, "DUP", &[(1, 4)]),
        variant(102, "DUP", &[(1, 9)]),
    ];
    let tiktok = vec![tiktok("9001", "1", "DUP", &[("7001", 3)])];
    let plan = Plan::build(&resolved(&RuleSet::default()), &variants, &tiktok);
    assert!(plan.lines.is_empty(), "the TikTok SKU is not touched");
    assert_eq!(plan.summary.ambiguous, 1);
    let w = plan
        .warnings
        .iter()
        .find(|w| matches!(w, Warning::AmbiguousSku { .. }))
        .unwrap();
    assert!(w.to_string().contains("101, 102"), "{w}");
}

#[test]
fn variant_matching_several_tiktok_skus_feeds_each_with_a_warning() {
    let variants = vec![variant(101, "A", &[(1, 4)])];
    let tiktok = vec![
        tiktok("9001", "1", "A", &[("7001", 0)]),
        tiktok("9002", "2", "A", &[("7001", 0)]),
    ];
    let plan = Plan::build(&resolved(&RuleSet::default()), &variants, &tiktok);
    assert_eq!(plan.lines.len(), 2);
    assert!(plan.lines.iter().all(|l| l.quantity.get() == 4));
    assert!(plan
        .warnings
        .iter()
        .any(|w| matches!(w, Warning::OfferedMoreThanOnce { .. })));
}

#[test]
fn unmatched_variants_and_tiktok_skus_are_reported_not_errors() {
    let variants = vec![variant(101, "ONLY-SHOPIFY", &[(1, 4)])];
    let tiktok = vec![tiktok("9001", "1", "ONLY-TIKTOK", &[("7001", 0)])];
    let plan = Plan::build(&resolved(&RuleSet::default()), &variants, &tiktok);
    assert_eq!(
        (
            plan.summary.unmatched_variants,
            plan.summary.unmatched_tiktok_skus
        ),
        (1, 1)
    );
    let text: Vec<String> = plan.warnings.iter().map(ToString::to_string).collect();
    assert!(text.iter().any(|t| t.contains("ONLY-SHOPIFY")), "{text:?}");
    assert!(
        text.iter().any(|t| t.contains("ONLY-TIKTOK (1)")),
        "{text:?}"
    );
}

#[test]
fn excluded_skus_get_no_line_and_are_counted() {
    let rules = resolved(&RuleSet {
        overrides: vec![Override {
            exclude: true,
            ..over(&["A"])
        }],
        ..RuleSet::default()
    });
    let variants = vec![variant(101, "A", &[(1, 4)])];
    let tiktok = vec![tiktok("9001", "1", "A", &[("7001", 0)])];
    let plan = Plan::build(&rules, &variants, &tiktok);
    assert!(plan.lines.is_empty());
    assert_eq!(plan.summary.excluded, 1);
}

#[test]
fn draft_and_archived_products_are_synced_like_any_other() {
    let mut v = variant(101, "A", &[(1, 4)]);
    v.product_status = ProductStatus::Archived;
    let tiktok = vec![tiktok("9001", "1", "A", &[("7001", 0)])];
    let plan = Plan::build(&resolved(&RuleSet::default()), &[v], &tiktok);
    assert_eq!(plan.lines[0].quantity.get(), 4);
}

#[test]
fn several_mappings_give_one_line_each() {
    let rules = resolved(&RuleSet {
        location_mappings: vec![
            listed(&["Location A"], Some("α")),
            listed(&["Location B"], Some("β")),
        ],
        ..RuleSet::default()
    });
    let variants = vec![variant(101, "A", &[(1, 100), (2, 200)])];
    let tiktok = vec![tiktok("9001", "1", "A", &[("7001", 0), ("7002", 0)])];
    let plan = Plan::build(&rules, &variants, &tiktok);
    let got: Vec<(&str, u32)> = plan
        .lines
        .iter()
        .map(|l| (l.warehouse.as_str(), l.quantity.get()))
        .collect();
    assert_eq!(got, vec![("7001", 100), ("7002", 200)]);
    let writes = plan.writes(&tiktok);
    assert_eq!(writes[0].skus[0].stock.len(), 2);
}

#[test]
fn writes_that_may_lower_a_number_go_out_first_each_with_its_changed_lines() {
    let (rules, variants, tiktok) = shop();
    let plan = Plan::build(&rules, &variants, &tiktok);
    let jobs = plan.write_jobs(&tiktok);
    let order: Vec<(&str, bool)> = jobs
        .iter()
        .map(|j| (j.write.product_id.as_str(), j.lowers_stock()))
        .collect();
    assert_eq!(
        order,
        vec![("9002", true), ("9001", false)],
        "CAP falls 40 -> 3 and goes before TEE's rise, though 9001 sorts first"
    );
    let skus: Vec<&str> = jobs[0].lines.iter().map(|l| l.sku.as_str()).collect();
    assert_eq!(
        skus,
        vec!["CAP"],
        "MUG is restated in the write, not a line"
    );
    assert_eq!(jobs[0].write.skus.len(), 1);
}

#[test]
fn writes_made_a_batch_at_a_time_come_in_the_order_of_all_at_once() {
    let variants: Vec<VariantSnapshot> = (1..=30)
        .map(|i| variant(i, &format!("S-{i}"), &[(1, (i % 5) as i64)]))
        .collect();
    let tiktok: Vec<TikTokSku> = (1..=30u64)
        .map(|i| {
            let product = format!("{}", 900 + i / 3);
            let stock = [("7001", (i % 4) as i64), ("7002", 1)];
            tiktok(
                &product,
                &format!("{}", 9000 + i),
                &format!("S-{i}"),
                &stock,
            )
        })
        .collect();
    let plan = Plan::build(&resolved(&RuleSet::default()), &variants, &tiktok);
    let all = plan.write_jobs(&tiktok);
    assert!(all.len() > 5, "{} jobs", all.len());
    assert!(all.iter().any(WriteJob::lowers_stock) && !all.iter().all(WriteJob::lowers_stock));
    let mut writes: Vec<ProductWrite> = all.iter().map(|j| j.write.clone()).collect();
    writes.sort_by(|a, b| a.product_id.cmp(&b.product_id));
    assert_eq!(writes, plan.writes(&tiktok), "one job per write");
    for size in [1, 2, 3, 7, 1000] {
        let mut batches = plan.write_batches(&tiktok, |_| false, size);
        assert_eq!(batches.jobs_left(), all.len());
        let lines: usize = all.iter().map(|j| j.lines.len()).sum();
        assert_eq!(batches.lines_left(), lines);
        let mut joined = Vec::new();
        for batch in batches.by_ref() {
            assert!(!batch.is_empty() && batch.len() <= size, "size {size}");
            joined.extend(batch);
        }
        assert_eq!(joined, all, "batches of {size}");
        assert_eq!((batches.jobs_left(), batches.lines_left()), (0, 0));
    }
    let without_first = plan.write_jobs_except(&tiktok, |l| l.sku == "S-1");
    assert_eq!(
        without_first,
        plan.without(|l| l.sku == "S-1").write_jobs(&tiktok)
    );
}

#[test]
fn a_plan_without_some_lines_counts_only_the_lines_kept() {
    let (rules, variants, tiktok) = shop();
    let plan = Plan::build(&rules, &variants, &tiktok);
    assert_eq!((plan.summary.lines, plan.summary.changed), (3, 2));
    let kept = plan.without(|l| l.sku == "CAP");
    assert_eq!((kept.summary.lines, kept.summary.changed), (2, 1));
    assert_eq!((kept.summary.up, kept.summary.down), (1, 0));
    assert_eq!(kept.write_jobs(&tiktok).len(), 1);
    assert_eq!(plan.summary.lines, 3, "the plan itself is left as built");
}

// §8, bundles in the plan.

fn bundle_store() -> (Vec<VariantSnapshot>, Vec<TikTokSku>) {
    let variants = vec![
        variant(1, "MUG", &[(1, 7)]),
        variant(2, "TEE", &[(1, 9)]),
        bundle(3, "BOX", &[(1, 2), (2, 1)]),
        bundle(4, "GIFT", &[(1, 1)]),
    ];
    let tiktok = vec![
        tiktok("9001", "90011", "MUG", &[("7001", 0)]),
        tiktok("9002", "90021", "BOX", &[("7001", 0)]),
        tiktok("9003", "90031", "GIFT", &[("7001", 0)]),
    ];
    (variants, tiktok)
}

#[test]
fn bundle_lines_are_marked_and_computed_from_their_components() {
    let (variants, tiktok) = bundle_store();
    let plan = Plan::build(&resolved(&RuleSet::default()), &variants, &tiktok);
    let lines: Vec<(&str, u32, bool)> = plan
        .lines
        .iter()
        .map(|l| (l.sku.as_str(), l.quantity.get(), l.bundle))
        .collect();
    assert_eq!(
        lines,
        [("MUG", 7, false), ("BOX", 3, true), ("GIFT", 7, true)]
    );
    assert_eq!(
        plan.lines[1].explanation,
        "bundle: min(MUG 7/2 = 3, TEE 9/1) = 3"
    );
}

#[test]
fn a_component_listed_on_its_own_and_in_bundles_is_warned_once() {
    let (variants, tiktok) = bundle_store();
    let plan = Plan::build(&resolved(&RuleSet::default()), &variants, &tiktok);
    let shared: Vec<String> = plan
        .warnings
        .iter()
        .filter(|w| matches!(w, Warning::SharedComponent { .. }))
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        shared,
        ["SKU \"MUG\" is listed on its own and inside bundle(s) BOX, GIFT: each listing offers its full stock, so it is offered more than once"]
    );
}

#[test]
fn a_component_not_listed_on_its_own_is_not_warned() {
    let (variants, mut tiktok) = bundle_store();
    tiktok.remove(0);
    let plan = Plan::build(&resolved(&RuleSet::default()), &variants, &tiktok);
    assert!(!plan
        .warnings
        .iter()
        .any(|w| matches!(w, Warning::SharedComponent { .. })));
}

#[test]
fn an_unreadable_bundle_gets_no_line_and_one_warning_across_mappings_and_listings() {
    let rules = resolved(&RuleSet {
        location_mappings: vec![
            listed(&["Location A"], Some("α")),
            listed(&["Location B"], Some("β")),
        ],
        ..RuleSet::default()
    });
    let variants = vec![
        variant(2, "TEE", &[(1, 9)]),
        bundle(3, "BOX", &[(1, 2), (2, 1)]),
    ];
    let tiktok = vec![
        tiktok("9002", "90021", "BOX", &[("7001", 5), ("7002", 5)]),
        tiktok("9004", "90041", "BOX", &[("7001", 5), ("7002", 5)]),
    ];
    let plan = Plan::build(&rules, &variants, &tiktok);
    assert!(plan.lines.is_empty());
    let unreadable: Vec<String> = plan
        .warnings
        .iter()
        .filter(|w| matches!(w, Warning::BundleUnreadable { .. }))
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        unreadable,
        ["bundle \"BOX\" (variant 3) gets no number: its component variant 1 could not be read; its TikTok stock is left as it is"]
    );
    assert!(plan.writes(&tiktok).is_empty());
}

#[test]
fn units_held_of_a_component_or_by_a_bundle_order_lower_every_listing_made_of_it() {
    let (variants, tiktok) = bundle_store();
    let hold = |order: &str, sku: &str, quantity| HoldLine {
        order: OrderId::new(order).unwrap(),
        sku_id: SkuId::new("1").unwrap(),
        seller_sku: Sku::parse_optional(Some(sku)),
        warehouse: None,
        quantity,
    };
    let holds = Holds::new([hold("576", "MUG", 2), hold("577", "BOX", 1)], &[]);
    let plan = Plan::build_holding(&resolved(&RuleSet::default()), &variants, &tiktok, &holds);
    let lines: Vec<(&str, u32, &str)> = plan
        .lines
        .iter()
        .map(|l| (l.sku.as_str(), l.quantity.get(), l.explanation.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            (
                "MUG",
                3,
                "Location A 7 - held 4 (TikTok orders 576, 577) = 3"
            ),
            (
                "BOX",
                1,
                "bundle: min(MUG (7 - held 2)/2 = 2, TEE 9/1) - held 1 (TikTok order 577) = 1"
            ),
            ("GIFT", 3, "bundle: min(MUG (7 - held 4)/1 = 3) = 3"),
        ]
    );
}

#[test]
fn a_restating_write_takes_only_its_own_skus_lines() {
    let variants = vec![variant(101, "TEE-RED-S", &[(1, 100), (2, 200)])];
    let tiktok = vec![tiktok(
        "9001",
        "90011",
        "TEE-RED-S",
        &[("7001", 0), ("7002", 5)],
    )];
    let plan = Plan::build(&resolved(&RuleSet::default()), &variants, &tiktok);
    let own = &plan.lines[0];
    // Another SKU's line for the other warehouse must not be taken for this SKU's.
    let mut other = own.clone();
    other.sku_id = SkuId::new("90012").unwrap();
    other.warehouse = WarehouseId::new("7002").unwrap();
    other.quantity = Quantity::new(9).unwrap();
    let write = crate::plan::restating_write(&tiktok[0], &[&other, own]);
    assert_eq!(write.sku_id.as_str(), "90011");
    let stock: Vec<(&str, u32)> = write
        .stock
        .iter()
        .map(|s| (s.warehouse.as_str(), s.quantity.get()))
        .collect();
    assert_eq!(stock, [("7001", 300), ("7002", 5)]);
}
