//! Rules, credentials and command lines that are refused with exit code 2, and `check`.

use super::*;

/// Every validation error of sync-rules.md §5: exit 2, the key named, TikTok unchanged.
#[test]
fn every_validation_error_exits_2_naming_the_key_and_pushes_nothing() {
    let cases: &[(&str, &str)] = &[
        ("[rules]\nquantity_percent = 101\n", "rules.quantity_percent"),
        ("[rules]\nquantity_percent = 33.333\n", "2 decimals"),
        ("[rules]\nmax_quantity = 1000000\n", "rules.max_quantity"),
        ("[rules]\nreserve_units = -1\n", "rules.reserve_units"),
        ("[rules]\nquantity_percnt = 80\n", "quantity_percnt"),
        ("[rules]\n[[rules.location_mapping]]\nshopify_locations = [\"Location A\"]\ntiktok_warehouse = \"α\"\n[[rules.location_mapping]]\nshopify_locations = [\"Location A\"]\ntiktok_warehouse = \"β\"\n", "offered twice"),
        ("[[rules.location_mapping]]\nshopify_locations = \"all\"\n[[rules.location_mapping]]\nshopify_locations = [\"Location B\"]\ntiktok_warehouse = \"β\"\n", "\"all\""),
        ("[[rules.location_mapping]]\nshopify_locations = [\"Location A\"]\ntiktok_warehouse = \"β\"\n[[rules.location_mapping]]\nshopify_locations = [\"Location B\"]\ntiktok_warehouse = \"β\"\n", "merge them"),
        ("[[rules.location_mapping]]\nshopify_locations = [\"Location Z\"]\n", "Location A (1), Location B (2)"),
        ("[[rules.location_mapping]]\nshopify_locations = \"all\"\ntiktok_warehouse = \"γ\"\n", "α (7001), β (7002)"),
        ("[[rules.override]]\nskus = [\"TEE-*\"]\nfixed_quantity = 5\nexclude = true\n", "rules.override[0]"),
        ("[[rules.override]]\nskus = []\nexclude = true\n", "rules.override[0].skus"),
    ];
    for (rules, expected) in cases {
        let (run, state) = sandbox_run("sync", rules, SEED);
        assert_eq!(run.code, 2, "{rules}: {}", run.stderr);
        assert!(
            run.stderr.contains(expected),
            "{rules}: stderr lacks {expected:?}:\n{}",
            run.stderr
        );
        // An unknown location or warehouse is found only against the live stores: the
        // emulators ran, so their state must be there to show TikTok unchanged.
        let against_live_stores =
            expected.contains("Location A (1)") || expected.contains("α (7001)");
        assert!(
            !against_live_stores || state.is_some(),
            "{rules}: the emulators' state was not written"
        );
        if let Some(state) = state {
            assert_eq!(
                quantity_in_state(&state, "90011", "7001"),
                Some(0),
                "{rules}: TikTok changed"
            );
            assert_eq!(
                quantity_in_state(&state, "90021", "7001"),
                Some(12),
                "{rules}: TikTok changed"
            );
        }
    }
}

#[test]
fn return_or_disabled_warehouse_as_target_exits_2() {
    let fixture: Value = serde_json::from_str(SEED).unwrap();
    let mut fixture = fixture;
    fixture["tiktok"]["warehouses"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "7003", "name": "Returns", "type": "RETURN_WAREHOUSE"}));
    let rules =
        "[[rules.location_mapping]]\nshopify_locations = \"all\"\ntiktok_warehouse = \"Returns\"\n";
    let (run, _) = sandbox_run("sync", rules, &fixture.to_string());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not a sales warehouse"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_reports_both_stores_and_the_mappings() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "[rules]\nquantity_percent = 80\n");
    let fix = write(dir.path(), "fixture.json", SEED);
    let ok = run(
        &[
            "check",
            "--config",
            cfg.to_str().unwrap(),
            "--sandbox",
            fix.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    assert!(
        ok.stdout.contains("shopify: ok") && ok.stdout.contains("tiktok: ok"),
        "{}",
        ok.stdout
    );
    assert!(
        ok.stdout.contains("all active locations -> α (7001)"),
        "{}",
        ok.stdout
    );
    let bad = config(
        dir.path(),
        "[[rules.location_mapping]]\nshopify_locations = [\"Nowhere\"]\n",
    );
    let failed = run(
        &[
            "check",
            "--config",
            bad.to_str().unwrap(),
            "--sandbox",
            fix.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(failed.code, 2);
    assert!(failed.stdout.contains("\"Nowhere\""), "{}", failed.stdout);
}

#[test]
fn missing_credentials_exit_2_naming_the_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "[shopify]\nshop_domain = \"a.myshopify.com\"\n");
    let run = run(&["plan", "--config", cfg.to_str().unwrap()], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("STOCKBRIDGE__SHOPIFY__ACCESS_TOKEN"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_command_line_exits_2() {
    assert_eq!(run(&["plan"], &[]).code, 2, "--config is required");
    assert_eq!(
        run(&["plan", "--config", "x.toml", "--format", "xml"], &[]).code,
        2
    );
}
