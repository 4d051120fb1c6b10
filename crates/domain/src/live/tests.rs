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

mod trust {
    use super::*;

    const READ_AT: i64 = 1_764_000_000;

    fn at(seconds: i64) -> Option<UpdatedAt> {
        UpdatedAt::from_unix_seconds(READ_AT + seconds)
    }

    /// `variant` with every level read at `READ_AT + seconds`.
    fn stamped(mut v: VariantSnapshot, seconds: i64) -> VariantSnapshot {
        for level in &mut v.levels {
            level.updated_at = at(seconds);
        }
        v
    }

    fn item(id: u64) -> InventoryItemId {
        InventoryItemId::new(id).unwrap()
    }

    fn location(id: u64) -> LocationId {
        LocationId::new(id).unwrap()
    }

    /// The seed shop after a reconciliation that read every level at `READ_AT`, TikTok
    /// holding what the rules give.
    fn view() -> LiveView {
        let (rules, variants, tiktok) = shop();
        let variants: Vec<VariantSnapshot> = variants.into_iter().map(|v| stamped(v, 0)).collect();
        let mut untracked = variant(106, "HAT", &[(1, 4)]);
        untracked.tracked = false;
        let variants: Vec<VariantSnapshot> = variants
            .into_iter()
            .chain([stamped(untracked, 0), variant(107, "BAG", &[(1, 9)])])
            .collect();
        let plan = Plan::build(&rules, &variants, &tiktok);
        let statuses: Vec<LineStatus> = plan
            .lines
            .iter()
            .map(|l| {
                if l.changed() {
                    LineStatus::Updated
                } else {
                    LineStatus::Unchanged
                }
            })
            .collect();
        LiveView::after_reconcile(rules, &variants, tiktok, &plan, &statuses)
    }

    fn payload(id: u64, loc: u64, available: Option<i64>, seconds: Option<i64>) -> LevelPayload {
        LevelPayload {
            item: item(id),
            location: location(loc),
            available,
            updated_at: seconds.and_then(at),
        }
    }

    #[test]
    fn a_payload_newer_than_the_read_is_applied_and_planned_without_a_read() {
        let mut view = view();
        let offer = view.offer(&payload(1010, 1, Some(90), Some(1)));
        assert_eq!(offer, Offer::Applied { fell: true });
        let known = view.known_snapshots(&[item(1010)]).unwrap();
        assert_eq!(known[0].available_at(location(1)), 90);
        assert_eq!(known[0].levels[0].updated_at, at(1));
        let planned = view.plan_with_known(&[], &[item(1010)], &Holds::none());
        assert_eq!(line(&planned, "TEE-RED-S").quantity.get(), 290);
        assert!(
            view.unverified(item(1010)),
            "planned from the payload, not read"
        );
    }

    #[test]
    fn a_payload_as_old_as_the_known_level_is_reread_because_one_second_holds_two_changes() {
        let mut view = view();
        assert_eq!(
            view.offer(&payload(1010, 1, Some(90), Some(0))),
            Offer::Reread {
                fell: true,
                why: Reread::NotNewer
            }
        );
        assert_eq!(
            view.offer(&payload(1010, 1, Some(95), Some(5))),
            Offer::Applied { fell: true },
            "the next second is newer"
        );
        assert_eq!(
            view.offer(&payload(1010, 1, Some(80), Some(5))),
            Offer::Reread {
                fell: true,
                why: Reread::NotNewer
            },
            "a second change within that second"
        );
        assert_eq!(
            view.offer(&payload(1010, 1, Some(70), Some(3))),
            Offer::Reread {
                fell: true,
                why: Reread::NotNewer
            },
            "a stale payload"
        );
        let known = view.known_snapshots(&[item(1010)]).unwrap();
        assert_eq!(
            known[0].available_at(location(1)),
            95,
            "only the applied number is known"
        );
    }

    #[test]
    fn payloads_that_cannot_be_ordered_or_applied_say_why() {
        let mut view = view();
        let why = |view: &mut LiveView, p: LevelPayload| match view.offer(&p) {
            Offer::Reread { why, .. } => why,
            other => panic!("{p:?} applied: {other:?}"),
        };
        assert_eq!(
            why(&mut view, payload(999, 1, Some(1), Some(9))),
            Reread::UnknownItem
        );
        assert_eq!(
            why(&mut view, payload(1010, 1, None, Some(9))),
            Reread::NoNumber
        );
        assert_eq!(
            why(&mut view, payload(1010, 1, Some(1), None)),
            Reread::NoTime
        );
        assert_eq!(
            why(&mut view, payload(1060, 1, Some(1), Some(9))),
            Reread::NotTracked
        );
        assert_eq!(
            why(&mut view, payload(1010, 9, Some(1), Some(9))),
            Reread::UnknownLocation
        );
        assert_eq!(
            why(&mut view, payload(1020, 2, Some(1), Some(9))),
            Reread::NoKnownTime,
            "MUG is not stocked at B"
        );
        assert_eq!(
            why(&mut view, payload(1070, 1, Some(1), Some(9))),
            Reread::NoKnownTime,
            "BAG was read without a time"
        );
        let known = view.known_snapshots(&[item(1010)]).unwrap();
        assert_eq!(known[0].available_at(location(1)), 100, "nothing applied");
        assert!(!view.unverified(item(1010)));
    }

    #[test]
    fn a_read_older_than_an_applied_payload_never_takes_the_level_back() {
        let mut view = view();
        view.offer(&payload(1010, 1, Some(90), Some(5)));
        // A read whose level at A still says 100 as of second 2.
        let planned = view.plan(&[stamped(variant(101, "TEE-RED-S", &[(1, 100), (2, 200)]), 2)]);
        assert_eq!(line(&planned, "TEE-RED-S").quantity.get(), 290, "90 + 200");
        assert!(planned.mismatches.is_empty());
        assert!(
            view.unverified(item(1010)),
            "not confirmed by an older read"
        );
    }

    #[test]
    fn a_read_at_the_payloads_time_with_another_number_is_a_mismatch_and_wins() {
        let mut view = view();
        view.offer(&payload(1010, 1, Some(90), Some(5)));
        let read = stamped(variant(101, "TEE-RED-S", &[(1, 60), (2, 200)]), 5);
        let planned = view.plan(&[read]);
        assert_eq!(
            planned.mismatches,
            [Mismatch {
                item: item(1010),
                location: location(1),
                trusted: 90,
                read: 60
            }]
        );
        assert_eq!(line(&planned, "TEE-RED-S").quantity.get(), 260);
        assert!(!view.unverified(item(1010)), "verified (and corrected)");
    }

    #[test]
    fn a_second_change_in_the_payloads_second_makes_the_read_no_mismatch() {
        let mut view = view();
        view.offer(&payload(1010, 1, Some(90), Some(5)));
        assert!(
            matches!(
                view.offer(&payload(1010, 1, Some(70), Some(5))),
                Offer::Reread {
                    why: Reread::NotNewer,
                    ..
                }
            ),
            "equal times re-read"
        );
        let planned = view.plan(&[stamped(variant(101, "TEE-RED-S", &[(1, 70), (2, 200)]), 5)]);
        assert!(
            planned.mismatches.is_empty(),
            "two numbers in one second: the read settles it, the payload was not wrong"
        );
        assert_eq!(line(&planned, "TEE-RED-S").quantity.get(), 270);
        assert!(!view.unverified(item(1010)));
    }

    #[test]
    fn a_read_that_confirms_or_supersedes_the_payload_is_no_mismatch() {
        let mut view = view();
        view.offer(&payload(1010, 1, Some(90), Some(5)));
        let same = view.plan(&[stamped(variant(101, "TEE-RED-S", &[(1, 90), (2, 200)]), 5)]);
        assert!(same.mismatches.is_empty());
        assert!(!view.unverified(item(1010)));
        view.offer(&payload(1010, 1, Some(80), Some(6)));
        let later = view.plan(&[stamped(variant(101, "TEE-RED-S", &[(1, 70), (2, 200)]), 7)]);
        assert!(
            later.mismatches.is_empty(),
            "a later change, not a wrong payload"
        );
        assert_eq!(line(&later, "TEE-RED-S").quantity.get(), 270);
    }

    #[test]
    fn a_read_clears_the_hints_of_its_item() {
        let mut view = view();
        view.offer(&payload(1010, 1, Some(50), None));
        view.plan(&[stamped(variant(101, "TEE-RED-S", &[(1, 100), (2, 200)]), 1)]);
        assert!(
            view.note_level(item(1010), location(1), 99),
            "99 is below the 100 read (not above the 50 hinted before the read)"
        );
    }
}
