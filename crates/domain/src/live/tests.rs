use crate::seed::*;
use crate::*;

/// The view after a reconciliation of the seed shop where every changed line was updated,
/// or failed for the SKU ids in `failing`.
fn view_after(failing: &[&str]) -> LiveView {
    let (rules, variants, tiktok) = shop();
    let plan = Plan::build(&rules, &variants, &tiktok);
    let statuses: Vec<LineStatus> = plan
        .lines
        .iter()
        .map(
            |l| match (l.changed(), failing.contains(&l.sku_id.as_str())) {
                (false, _) => LineStatus::Unchanged,
                (true, false) => LineStatus::Updated,
                (true, true) => LineStatus::Failed("HTTP 503".into()),
            },
        )
        .collect();
    LiveView::after_reconcile(rules, &variants, tiktok, &plan, &statuses)
}

fn line<'a>(planned: &'a LivePlan, sku: &str) -> &'a PlanLine {
    planned
        .plan
        .lines
        .iter()
        .find(|l| l.sku == sku)
        .unwrap_or_else(|| panic!("no line for {sku}: {:?}", planned.plan.lines))
}

#[test]
fn a_changed_item_is_planned_against_the_number_the_reconciliation_wrote() {
    let mut view = view_after(&[]);
    let planned = view.plan(&[variant(101, "TEE-RED-S", &[(1, 90), (2, 200)])]);
    let tee = line(&planned, "TEE-RED-S");
    assert_eq!(tee.current, Some(Quantity::new(300).unwrap()));
    assert_eq!(tee.quantity.get(), 290);
    assert_eq!(planned.plan.summary.changed, 1);
    let jobs = planned.write_jobs();
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0].lowers_stock());
}

#[test]
fn a_line_whose_write_failed_is_restated_even_when_the_number_is_the_same() {
    let mut view = view_after(&["90011"]);
    // The same levels as at the reconciliation: the rules give 300 again.
    let planned = view.plan(&[variant(101, "TEE-RED-S", &[(1, 100), (2, 200)])]);
    let tee = line(&planned, "TEE-RED-S");
    assert_eq!(tee.current, None, "TikTok may hold 0 or 300");
    assert!(tee.changed());
    assert_eq!(
        planned.plan.summary.changed, 1,
        "the summary counts the restated line"
    );
    assert_eq!(planned.write_jobs().len(), 1);
}

#[test]
fn an_item_whose_number_has_not_moved_plans_no_write() {
    let mut view = view_after(&[]);
    let planned = view.plan(&[variant(102, "MUG", &[(1, 985)])]);
    assert_eq!(planned.plan.summary.lines, 1);
    assert_eq!(planned.plan.summary.changed, 0);
    assert!(planned.write_jobs().is_empty());
}

#[test]
fn an_sku_ambiguous_at_the_reconciliation_is_never_planned() {
    let mut view = view_after(&[]);
    let planned = view.plan(&[variant(104, "SOCK", &[(1, 0)])]);
    assert!(planned.plan.lines.is_empty());
    assert!(planned.tiktok.is_empty());
}

#[test]
fn a_seller_sku_with_spaces_matches_as_in_a_full_plan() {
    let mut view = view_after(&[]);
    let planned = view.plan(&[variant(103, "CAP", &[(1, 1)])]);
    let cap = line(&planned, "CAP");
    assert_eq!(
        (cap.current.map(Quantity::get), cap.quantity.get()),
        (Some(3), 1),
        "the reconciliation wrote 3"
    );
}

#[test]
fn recorded_outcomes_become_the_known_numbers_and_clear_or_mark_unsure_lines() {
    let mut view = view_after(&["90011"]);
    let planned = view.plan(&[variant(101, "TEE-RED-S", &[(1, 50), (2, 50)])]);
    view.record(&planned, &[LineStatus::Updated]);
    let next = view.plan(&[variant(101, "TEE-RED-S", &[(1, 50), (2, 50)])]);
    let tee = line(&next, "TEE-RED-S");
    assert_eq!(
        tee.current.map(Quantity::get),
        Some(100),
        "written and sure"
    );
    assert!(next.write_jobs().is_empty());

    let planned = view.plan(&[variant(101, "TEE-RED-S", &[(1, 60), (2, 50)])]);
    view.record(&planned, &[LineStatus::Failed("HTTP 503".into())]);
    let next = view.plan(&[variant(101, "TEE-RED-S", &[(1, 60), (2, 50)])]);
    let tee = line(&next, "TEE-RED-S");
    assert_eq!(tee.current, None, "failed: unsure again");
}

#[test]
fn a_hint_below_the_level_last_seen_is_a_fall() {
    let mut view = view_after(&[]);
    let tee = InventoryItemId::new(1010).unwrap();
    let a = LocationId::new(1).unwrap();
    let c = LocationId::new(3).unwrap();
    assert!(view.note_level(tee, a, 99), "100 -> 99");
    assert!(!view.note_level(tee, a, 99), "no change");
    assert!(!view.note_level(tee, a, 120), "a rise");
    assert!(!view.note_level(tee, c, 5), "a new location counted 0");
    assert!(view.note_level(tee, c, 4), "and is remembered");
    assert!(
        !view.note_level(InventoryItemId::new(999).unwrap(), a, 0),
        "an item never seen has not fallen"
    );
}

#[test]
fn the_view_keeps_the_levels_a_flush_read() {
    let mut view = view_after(&[]);
    let tee = InventoryItemId::new(1010).unwrap();
    let a = LocationId::new(1).unwrap();
    view.plan(&[variant(101, "TEE-RED-S", &[(1, 10), (2, 200)])]);
    assert!(!view.note_level(tee, a, 10), "10 was read, not 100");
}

#[test]
fn a_changed_component_is_read_and_planned_with_the_bundles_made_of_it() {
    let variants = vec![
        variant(1, "MUG", &[(1, 7)]),
        variant(2, "TEE", &[(1, 9)]),
        bundle(3, "BOX", &[(1, 2), (2, 1)]),
    ];
    let tiktok = vec![
        tiktok("9001", "90011", "MUG", &[("7001", 7)]),
        tiktok("9003", "90031", "BOX", &[("7001", 3)]),
    ];
    let rules = resolved(&RuleSet::default());
    let plan = Plan::build(&rules, &variants, &tiktok);
    let statuses = vec![LineStatus::Unchanged; plan.lines.len()];
    let mut view = LiveView::after_reconcile(rules, &variants, tiktok, &plan, &statuses);
    let item = |id: u64| InventoryItemId::new(id).unwrap();
    assert_eq!(
        view.to_read(&[item(10)]),
        vec![item(10), item(20), item(30)],
        "MUG, the BOX made of it, and TEE, BOX's other component"
    );
    let reread = vec![
        variant(1, "MUG", &[(1, 3)]),
        variant(2, "TEE", &[(1, 9)]),
        bundle(3, "BOX", &[(1, 2), (2, 1)]),
    ];
    let planned = view.plan(&reread);
    let numbers: Vec<(&str, u32)> = planned
        .plan
        .lines
        .iter()
        .map(|l| (l.sku.as_str(), l.quantity.get()))
        .collect();
    assert_eq!(numbers, vec![("MUG", 3), ("BOX", 1)]);
}
