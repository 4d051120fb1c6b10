use proptest::prelude::*;

use crate::seed::*;
use crate::*;

/// A line of product `n` going from `current` (None: unknown) to `quantity`.
fn line(n: usize, current: Option<i64>, quantity: i64) -> PlanLine {
    PlanLine {
        sku: format!("SKU-{n}"),
        variant_id: VariantId::new(n as u64 + 1).unwrap(),
        inventory_item_id: InventoryItemId::new(n as u64 + 1).unwrap(),
        product_id: ProductId::new(format!("9{n}")).unwrap(),
        sku_id: SkuId::new(format!("9{n}1")).unwrap(),
        warehouse: WarehouseId::new("7001").unwrap(),
        warehouse_name: "α".into(),
        quantity: Quantity::new(quantity).unwrap(),
        current: current.map(|c| Quantity::new(c).unwrap()),
        explanation: String::new(),
        held: 0,
        held_orders: Vec::new(),
        bundle: false,
    }
}

/// `zeroing` lines from 5 to 0, then `kept` lines from 5 to 6.
fn lines(zeroing: usize, kept: usize) -> Vec<PlanLine> {
    (0..zeroing)
        .map(|n| line(n, Some(5), 0))
        .chain((zeroing..zeroing + kept).map(|n| line(n, Some(5), 6)))
        .collect()
}

#[test]
fn the_defaults_trip_on_21_of_40_lines_zeroed_and_not_on_20() {
    let breaker = Breaker::default();
    // (zeroing lines, other lines above 0, trips)
    let table = [
        (21, 19, true),   // 52.5% and 21 lines
        (20, 20, false),  // exactly 50% is allowed
        (19, 0, false),   // 100% but fewer than 20 lines
        (20, 0, true),    // 100% and 20 lines
        (200, 199, true), // 50.1%
        (0, 40, false),
    ];
    for (zeroing, kept, trips) in table {
        let verdict = breaker.judge(&lines(zeroing, kept));
        assert_eq!(
            (verdict.zeroed, verdict.above_zero, verdict.tripped),
            (zeroing, zeroing + kept, trips),
            "{zeroing} zeroed of {}",
            zeroing + kept
        );
    }
}

#[test]
fn lines_at_0_or_unknown_do_not_count_as_above_0_and_staying_at_0_is_not_zeroing() {
    let mut all = lines(20, 0);
    all.push(line(100, Some(0), 0));
    all.push(line(101, None, 0));
    all.push(line(102, Some(0), 7));
    let verdict = Breaker::default().judge(&all);
    assert_eq!((verdict.zeroed, verdict.above_zero), (20, 20));
    assert!(verdict.tripped);
}

#[test]
fn a_breaker_turned_off_never_trips() {
    let verdict = Breaker::off().judge(&lines(1000, 0));
    assert_eq!(verdict.zeroed, 1000);
    assert!(!verdict.tripped);
}

#[test]
fn max_zeroed_percent_0_trips_on_min_lines_zeroed_and_100_never_trips() {
    let strict = Breaker::new(0, 1).unwrap();
    assert!(strict.judge(&lines(1, 99)).tripped);
    assert!(!strict.judge(&lines(0, 99)).tripped);
    let lax = Breaker::new(100, 1).unwrap();
    assert!(!lax.judge(&lines(50, 0)).tripped);
}

#[test]
fn a_share_above_100_percent_is_refused_naming_the_value() {
    let err = Breaker::new(101, 20).unwrap_err();
    assert_eq!(
        err.to_string(),
        "101 is not a valid share of lines (allowed: an integer from 0 to 100)"
    );
}

#[test]
fn a_tripped_plan_writes_the_other_warehouse_of_a_held_sku_and_restates_the_held_one() {
    let variants: Vec<VariantSnapshot> = (0..20)
        .map(|n| variant(100 + n, &format!("S{n}"), &[(1, 0), (2, 9)]))
        .collect();
    let tiktok: Vec<TikTokSku> = (0..20)
        .map(|n| {
            tiktok(
                &format!("9{n}"),
                &format!("9{n}1"),
                &format!("S{n}"),
                &[("7001", 4), ("7002", 1)],
            )
        })
        .collect();
    let rules = resolved(&RuleSet {
        location_mappings: vec![
            listed(&["Location A"], Some("α")),
            listed(&["Location B"], Some("β")),
        ],
        ..RuleSet::default()
    });
    let plan = Plan::build(&rules, &variants, &tiktok);
    let verdict = Breaker::default().judge(&plan.lines);
    assert!(
        !verdict.tripped,
        "20 of 40 lines above 0 is 50%, allowed: {verdict:?}"
    );
    let verdict = Breaker::new(49, 20).unwrap().judge(&plan.lines);
    assert!(verdict.tripped);
    let writes = verdict.writable(&plan).writes(&tiktok);
    assert_eq!(writes.len(), 20);
    let jobs = verdict.write_jobs(&plan, &tiktok);
    assert_eq!(jobs, verdict.writable(&plan).write_jobs(&tiktok));
    let mut written: Vec<ProductWrite> = jobs.into_iter().map(|j| j.write).collect();
    written.sort_by(|a, b| a.product_id.cmp(&b.product_id));
    assert_eq!(written, writes, "the same writes, without copying the plan");
    let stock: Vec<(&str, u32)> = writes[0].skus[0]
        .stock
        .iter()
        .map(|s| (s.warehouse.as_str(), s.quantity.get()))
        .collect();
    assert_eq!(stock, vec![("7001", 4), ("7002", 9)], "α held at 4, β to 9");
}

#[test]
fn the_summary_counts_lines_up_down_and_to_zero_and_units_before_and_after() {
    let variants = vec![
        variant(101, "UP", &[(1, 10)]),
        variant(102, "DOWN", &[(1, 3)]),
        variant(103, "ZERO", &[(1, 0)]),
        variant(104, "SAME", &[(1, 7)]),
    ];
    let tiktok = vec![
        tiktok("91", "911", "UP", &[("7001", 2)]),
        tiktok("92", "921", "DOWN", &[("7001", 5)]),
        tiktok("93", "931", "ZERO", &[("7001", 8)]),
        tiktok("94", "941", "SAME", &[("7001", 7)]),
    ];
    let plan = Plan::build(&resolved(&RuleSet::default()), &variants, &tiktok);
    let s = plan.summary;
    assert_eq!(
        (s.up, s.down, s.zeroed, s.units_before, s.units_after),
        (1, 2, 1, 22, 20)
    );
}

proptest! {
    #[test]
    fn a_trip_needs_min_lines_and_more_than_the_share_and_holds_only_zeroing_lines(
        moves in proptest::collection::vec((proptest::option::of(0i64..5), 0i64..5), 0..80),
        percent in 0u32..=100,
        min_lines in 0usize..40,
    ) {
        let all: Vec<PlanLine> = moves
            .iter()
            .enumerate()
            .map(|(n, &(current, quantity))| line(n, current, quantity))
            .collect();
        let breaker = Breaker::new(percent, min_lines).unwrap();
        let verdict = breaker.judge(&all);
        let plan = Plan { lines: all.clone(), ..Plan::default() };
        let writable = verdict.writable(&plan);
        if verdict.tripped {
            prop_assert!(verdict.zeroed >= min_lines);
            prop_assert!(verdict.zeroed as f64 / verdict.above_zero as f64 > f64::from(percent) / 100.0);
            prop_assert!(writable.lines.iter().all(|l| !l.zeroes()));
            prop_assert_eq!(writable.lines.len(), all.len() - verdict.zeroed);
        } else {
            prop_assert_eq!(writable.lines, all);
        }
        prop_assert!(!Breaker::off().judge(&plan.lines).tripped);
    }
}
