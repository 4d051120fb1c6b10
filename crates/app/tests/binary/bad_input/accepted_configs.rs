//! Random configuration files the loader accepts, extremes included: `plan` runs them
//! without a panic.

use super::*;

/// A value from `range` or one of its ends, as TOML.
fn int_in(range: std::ops::RangeInclusive<i64>) -> impl Strategy<Value = String> {
    let (low, high) = (*range.start(), *range.end());
    prop_oneof![Just(low), Just(high), range].prop_map(|n| n.to_string())
}

fn quoted(words: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(words).prop_map(|w| format!("\"{w}\""))
}

/// A key of the file with a random value the loader accepts, extremes included.
fn accepted_entry() -> impl Strategy<Value = (&'static str, &'static str, String)> {
    let seconds = |max: u64| prop_oneof![Just(0), Just(max), 0..=max];
    prop_oneof![
        // Down to 50 only: at the lowest allowed, 0.1, a plan rightly takes 20 s.
        prop_oneof![Just(10_000.0f64), 50.0f64..10_000.0].prop_map(|f| (
            "tiktok",
            "requests_per_second",
            format!("{f:?}")
        )),
        int_in(1..=64).prop_map(|v| ("tiktok", "concurrency", v)),
        // Not `bulk`: its export is polled, two seconds a plan.
        quoted(&["auto", "paged"]).prop_map(|v| ("shopify", "read_mode", v)),
        seconds(7 * 24 * 3600).prop_map(|s| (
            "server",
            "reconcile_every",
            format!("\"{}s\"", s.max(1))
        )),
        quoted(&["7d", "168h", "1s", "1h 30m"]).prop_map(|v| ("server", "reconcile_every", v)),
        seconds(10_000).prop_map(|ms| ("server", "coalesce_window", format!("\"{ms}ms\""))),
        int_in(1024..=64 * 1024 * 1024).prop_map(|v| ("server", "max_body_bytes", v)),
        (0u32..=10_000).prop_map(|h| (
            "rules",
            "quantity_percent",
            format!("{}.{:02}", h / 100, h % 100)
        )),
        int_in(0..=999_999).prop_map(|v| ("rules", "unlimited_quantity", v)),
        int_in(0..=999_999).prop_map(|v| ("rules", "max_quantity", v)),
        int_in(0..=i64::MAX).prop_map(|v| ("rules", "reserve_units", v)),
        int_in(0..=i64::MAX).prop_map(|v| ("rules", "zero_below", v)),
        quoted(&["subtract", "ignore"]).prop_map(|v| ("rules", "negative_available", v)),
    ]
}

/// An override the loader accepts: one SKU pattern and one or two random valid values.
fn accepted_override() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        int_in(0..=999_999).prop_map(|v| format!("fixed_quantity = {v}")),
        int_in(0..=999_999).prop_map(|v| format!("max_quantity = {v}")),
        int_in(0..=i64::MAX).prop_map(|v| format!("reserve_units = {v}")),
        int_in(0..=i64::MAX).prop_map(|v| format!("zero_below = {v}")),
        (0u32..=100).prop_map(|p| format!("quantity_percent = {p}")),
        Just("exclude = true".to_owned()),
    ];
    (
        quoted(&["*", "TEE-*", "MUG-BLUE", "NO-SUCH-SKU", "*-S"]),
        value,
    )
        .prop_map(|(sku, value)| format!("[[rules.override]]\nskus = [{sku}]\n{value}\n"))
}

/// A file the loader accepts: random keys with valid values, grouped by section, and
/// sometimes overrides.
fn accepted_config_text() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(accepted_entry(), 1..10),
        proptest::collection::vec(accepted_override(), 0..3),
    )
        .prop_map(|(entries, overrides)| {
            let mut sections: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
            for (section, key, value) in entries {
                let lines = sections.entry(section).or_default();
                if !lines.iter().any(|l| l.starts_with(&format!("{key} ="))) {
                    lines.push(format!("{key} = {value}"));
                }
            }
            let mut text = String::new();
            for (section, lines) in sections {
                text.push_str(&format!("[{section}]\n{}\n", lines.join("\n")));
            }
            text + &overrides.concat()
        })
}

#[test]
fn random_accepted_configuration_files_run_plan_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.toml");
    let fixture = write(dir.path(), "fixture.json", SEED);
    let no_env: HashMap<String, String> = HashMap::new();
    let planned = std::cell::Cell::new(0u32);
    // Processes: few cases, so the test stays well under half a minute.
    let mut runner = TestRunner::new(Config::with_cases(20));
    runner
        .run(&accepted_config_text(), |text| {
            std::fs::write(&path, &text).unwrap();
            if let Err(e) = Settings::load_with_env(&path, Some(no_env.clone())) {
                return Err(TestCaseError::fail(format!(
                    "the generator made a file the loader refuses: {e}\n{text}"
                )));
            }
            let out = run(
                &[
                    "plan",
                    "--config",
                    path.to_str().unwrap(),
                    "--sandbox",
                    fixture.to_str().unwrap(),
                    "--format",
                    "json",
                ],
                &[],
            );
            prop_assert!(
                !out.stderr.contains("panicked"),
                "{} for {}",
                out.stderr,
                text
            );
            prop_assert!(
                [0, 1, 2].contains(&out.code),
                "exit {} ({}) for {}",
                out.code,
                out.stderr,
                text
            );
            if out.code == 0 {
                planned.set(planned.get() + 1);
                prop_assert!(
                    serde_json::from_str::<serde_json::Value>(&out.stdout).is_ok(),
                    "{}",
                    out.stdout
                );
            }
            Ok(())
        })
        .unwrap();
    assert!(
        planned.get() >= 10,
        "most plans succeed ({})",
        planned.get()
    );
}
