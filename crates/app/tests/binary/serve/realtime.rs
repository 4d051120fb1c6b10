//! Stock changes reaching TikTok: at start-up, in real time, coalesced, and after a crash.

use super::*;

#[test]
fn start_up_reconcile_then_a_stock_change_reaches_tiktok_within_2_seconds() {
    let w = world("[rules]\nquantity_percent = 80\n");
    let _serve = ServeProcess::start(&w.config);
    assert_eq!(
        w.sandbox.tiktok_quantity("90011", "7001"),
        Some(240),
        "start-up reconcile"
    );
    set_level(&w.sandbox, 1001, 1, 50);
    let arrived = poll_until(Duration::from_secs(2), || {
        w.sandbox.tiktok_quantity("90011", "7001") == Some(200)
    });
    assert!(
        arrived,
        "(50 + 200) at 80% = 200 reached TikTok; it holds {:?}",
        w.sandbox.tiktok_quantity("90011", "7001")
    );
}

#[test]
fn fifty_rapid_changes_end_at_the_last_value_with_far_fewer_writes() {
    // A window of a second: at most one write per window opened, so 50 changes sent over a
    // few seconds on a loaded machine still make a handful of writes (with 150 ms, a machine
    // slow enough to spread them over 2 s made 13).
    let w = world_with_window("1s", "");
    let _serve = ServeProcess::start(&w.config);
    let before = inventory_update_calls(&w.sandbox);
    for available in 1..=50 {
        set_level(&w.sandbox, 1002, 1, available);
    }
    let arrived = poll_until(Duration::from_secs(10), || {
        w.sandbox.tiktok_quantity("90021", "7001") == Some(50)
    });
    assert!(
        arrived,
        "ends at the last value; holds {:?}",
        w.sandbox.tiktok_quantity("90021", "7001")
    );
    // Let any late webhook land, then count.
    std::thread::sleep(Duration::from_millis(500));
    let writes = inventory_update_calls(&w.sandbox) - before;
    assert!(writes <= 10, "{writes} writes for 50 changes");
    assert_eq!(
        w.sandbox.tiktok_quantity("90021", "7001"),
        Some(50),
        "no stale number after the last write"
    );
}

#[test]
fn deactivating_a_location_and_switching_tracking_off_both_update_tiktok() {
    let w = world("");
    let _serve = ServeProcess::start(&w.config);
    assert_eq!(w.sandbox.tiktok_quantity("90011", "7001"), Some(300));
    w.sandbox.control(
        "POST",
        "/_sandbox/shopify/locations/2",
        Some(json!({"active": false})),
    );
    assert!(
        poll_until(Duration::from_secs(10), || w
            .sandbox
            .tiktok_quantity("90011", "7001")
            == Some(100)),
        "Location B's 200 no longer counts; holds {:?}",
        w.sandbox.tiktok_quantity("90011", "7001")
    );
    w.sandbox.control(
        "POST",
        "/_sandbox/shopify/inventory_items/1002",
        Some(json!({"tracked": false})),
    );
    assert!(
        poll_until(Duration::from_secs(10), || w
            .sandbox
            .tiktok_quantity("90021", "7001")
            == Some(999_999)),
        "untracked pushes 999999; holds {:?}",
        w.sandbox.tiktok_quantity("90021", "7001")
    );
}

#[test]
fn after_kill_9_a_change_made_while_down_is_caught_up_at_restart() {
    let w = world("");
    let mut serve = ServeProcess::start(&w.config);
    assert_eq!(w.sandbox.tiktok_quantity("90011", "7001"), Some(300));
    serve.kill_hard();
    set_level(&w.sandbox, 1001, 2, 20);
    let _restarted = ServeProcess::start(&w.config);
    assert!(
        poll_until(Duration::from_secs(10), || w
            .sandbox
            .tiktok_quantity("90011", "7001")
            == Some(120)),
        "100 + 20 after restart; holds {:?}",
        w.sandbox.tiktok_quantity("90011", "7001")
    );
}

#[test]
fn a_component_change_in_serve_updates_every_bundle_made_of_it_within_seconds() {
    let w = world_from(BUNDLES, "150ms", "");
    let _serve = ServeProcess::start(&w.config);
    assert_eq!(
        w.sandbox.tiktok_quantity("93011", "7001"),
        Some(3),
        "start-up reconcile: min(MUG 7/2, TEE 9/1) = 3"
    );
    assert_eq!(
        w.sandbox.tiktok_quantity("93021", "7001"),
        Some(3),
        "READER: TEE 9/3"
    );
    // TEE drops from 4 + 5 to 1 + 5: BOX is still limited by the mugs, READER by TEE 6/3.
    set_level(&w.sandbox, 2002, 1, 1);
    assert!(
        poll_until(Duration::from_secs(5), || w
            .sandbox
            .tiktok_quantity("93021", "7001")
            == Some(2)),
        "READER follows its TEE; holds {:?}",
        w.sandbox.tiktok_quantity("93021", "7001")
    );
    // MUG drops to 2: BOX becomes 1, and MUG's own listing follows too.
    set_level(&w.sandbox, 2001, 1, 2);
    assert!(
        poll_until(Duration::from_secs(5), || w
            .sandbox
            .tiktok_quantity("93011", "7001")
            == Some(1)),
        "BOX follows its MUG; holds {:?}",
        w.sandbox.tiktok_quantity("93011", "7001")
    );
    assert_eq!(w.sandbox.tiktok_quantity("92011", "7001"), Some(2));
    assert_eq!(
        w.sandbox.tiktok_quantity("93041", "7001"),
        Some(5),
        "the bundle that cannot be read is never written"
    );
}
