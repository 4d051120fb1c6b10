//! Random configuration files: refused by the loader with a named error, and by the binary
//! with exit code 2, never a panic.

use super::*;

/// A value of any TOML type, some of them absurd.
fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -!#-\\[\\]-~]{0,20}".prop_map(|s| format!("\"{s}\"")),
        any::<i64>().prop_map(|n| n.to_string()),
        (-3i64..1_000_001).prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        Just("nan".to_owned()),
        Just("-inf".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("[1, \"two\", 3.0]".to_owned()),
        Just("{ a = 1 }".to_owned()),
        Just("\"all\"".to_owned()),
        Just("\"15m\"".to_owned()),
        Just("1979-05-27T07:32:00Z".to_owned()),
    ]
}

const KEYS: [&str; 26] = [
    "shopify.shop_domain",
    "shopify.api_version",
    "shopify.base_url",
    "shopify.read_mode",
    "shopify.bogus",
    "tiktok.app_key",
    "tiktok.requests_per_second",
    "tiktok.concurrency",
    "tiktok.shop_cipher",
    "state.url",
    "server.listen",
    "server.reconcile_every",
    "server.coalesce_window",
    "server.max_body_bytes",
    "rules.quantity_percent",
    "rules.unlimited_quantity",
    "rules.max_quantity",
    "rules.reserve_units",
    "rules.zero_below",
    "rules.negative_available",
    "rules.location_mapping",
    "rules.override",
    "rules.bogus",
    "nonsense.key",
    "rules",
    "server",
];

/// A configuration file: random keys with random values, arrays of tables with random
/// contents, garbage lines, sometimes cut short.
fn config_text() -> impl Strategy<Value = String> {
    let entry = prop_oneof![
        4 => (proptest::sample::select(&KEYS[..]), toml_value())
            .prop_map(|(k, v)| match k.split_once('.') {
                Some((section, key)) => format!("[{section}]\n{key} = {v}\n"),
                None => format!("{k} = {v}\n"),
            }),
        1 => (toml_value(), toml_value()).prop_map(|(l, w)| {
            format!("[[rules.location_mapping]]\nshopify_locations = [{l}]\ntiktok_warehouse = {w}\n")
        }),
        1 => (toml_value(), toml_value()).prop_map(|(s, v)| {
            format!("[[rules.override]]\nskus = [{s}]\nfixed_quantity = {v}\n")
        }),
        1 => "[ -~\n]{0,40}",
    ];
    (proptest::collection::vec(entry, 1..6), any::<u16>()).prop_map(|(parts, cut)| {
        let text = parts.concat();
        if cut % 4 == 0 {
            let at = (cut as usize / 4) % (text.len() + 1);
            text.char_indices()
                .map(|(i, _)| i)
                .take_while(|&i| i <= at)
                .last()
                .map_or(text.clone(), |i| text[..i].to_owned())
        } else {
            text
        }
    })
}

#[test]
fn random_configuration_files_are_refused_with_a_named_error_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.toml");
    let no_env: HashMap<String, String> = HashMap::new();
    let refused = std::cell::Cell::new(0u32);
    let mut runner = TestRunner::new(Config::with_cases(256));
    runner
        .run(&config_text(), |text| {
            std::fs::write(&path, &text).unwrap();
            if let Err(e) = Settings::load_with_env(&path, Some(no_env.clone())) {
                refused.set(refused.get() + 1);
                let message = e.to_string();
                prop_assert!(
                    message.starts_with("configuration") || message.starts_with("the rules"),
                    "{message:?} for {text:?}"
                );
            }
            Ok(())
        })
        .unwrap();
    let refused = refused.get();
    assert!(refused > 64, "many random files are refused ({refused})");

    // The binary: exit code 2 and one `error: ...`, never a panic (fewer cases: processes).
    let spawned = std::cell::Cell::new(0u32);
    let mut runner = TestRunner::new(Config::with_cases(24));
    runner
        .run(&config_text(), |text| {
            std::fs::write(&path, &text).unwrap();
            if Settings::load_with_env(&path, Some(no_env.clone())).is_ok() {
                return Ok(());
            }
            spawned.set(spawned.get() + 1);
            let out = run(&["plan", "--config", path.to_str().unwrap()], &[]);
            prop_assert_eq!(out.code, 2, "{} for {:?}", out.stderr, text);
            prop_assert!(
                out.stderr.starts_with("error: "),
                "{} for {:?}",
                out.stderr,
                text
            );
            prop_assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
            Ok(())
        })
        .unwrap();
    assert!(spawned.get() >= 6, "{} binary runs", spawned.get());
}
