//! Bad input, generated: random bodies and headers at `POST /webhooks/shopify` (never a 5xx,
//! never a TikTok change without a valid signature) and random configuration files (always a
//! named error, exit code 2 from the binary, never a panic).

use std::collections::HashMap;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use stockbridge_app::serve::{pipeline_options, Application};
use stockbridge_app::settings::FileConfig;
use stockbridge_app::wiring::{start_sandbox_with, wire};
use stockbridge_app::Settings;
use stockbridge_sandbox::{Fixture, SandboxOptions};

use crate::support::*;

const SHOP: &str = "stockbridge-demo.myshopify.com";
const WEBHOOK_SECRET: &[u8] = b"sandbox_webhook_secret";

fn signature(body: &[u8]) -> String {
    use base64::Engine as _;
    use hmac::{Mac, SimpleHmac};
    let mut mac = <SimpleHmac<sha2::Sha256>>::new_from_slice(WEBHOOK_SECRET).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A header value reqwest accepts: visible ASCII and spaces.
fn header_text() -> impl Strategy<Value = String> {
    "[ -~]{0,48}"
}

fn topic() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("inventory_levels/update".to_owned()),
        Just("inventory_levels/connect".to_owned()),
        Just("inventory_levels/disconnect".to_owned()),
        Just("inventory_items/update".to_owned()),
        Just("inventory_items/delete".to_owned()),
        Just("products/update".to_owned()),
        Just("locations/update".to_owned()),
        header_text(),
    ]
}

fn number() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        (-5i64..5_000).prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        "[0-9a-z:/_.-]{0,30}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
    ]
}

/// Bodies: random bytes, or REST-shaped objects with random values.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        (number(), number(), number()).prop_map(|(item, location, available)| {
            serde_json::json!({"inventory_item_id": item, "location_id": location, "available": available})
                .to_string()
                .into_bytes()
        }),
        (number(), proptest::collection::vec(number(), 0..4)).prop_map(|(id, items)| {
            let variants: Vec<_> = items
                .into_iter()
                .map(|i| serde_json::json!({"inventory_item_id": i, "sku": "X"}))
                .collect();
            serde_json::json!({"id": id, "tracked": id, "variants": variants})
                .to_string()
                .into_bytes()
        }),
    ]
}

#[derive(Debug, Clone)]
struct Delivery {
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

/// Random Shopify headers, each present nine times in ten, the signature header left to the
/// caller.
fn delivery() -> impl Strategy<Value = Delivery> {
    let shop = prop_oneof![3 => Just(SHOP.to_owned()), 1 => header_text()];
    (
        proptest::option::weighted(0.9, topic()),
        proptest::option::weighted(0.9, shop),
        proptest::option::weighted(0.9, header_text()),
        proptest::option::weighted(0.9, header_text()),
        proptest::option::weighted(
            0.9,
            prop_oneof![
                Just("2026-01-01T00:00:00Z".to_owned()),
                Just("9999-12-31T23:59:59Z".to_owned()),
                header_text()
            ],
        ),
        body(),
    )
        .prop_map(|(topic, shop, webhook_id, event_id, triggered_at, body)| {
            let mut headers = Vec::new();
            for (name, value) in [
                ("X-Shopify-Topic", topic),
                ("X-Shopify-Shop-Domain", shop),
                ("X-Shopify-Webhook-Id", webhook_id),
                ("X-Shopify-Event-Id", event_id),
                ("X-Shopify-Triggered-At", triggered_at),
            ] {
                if let Some(v) = value {
                    headers.push((name, v));
                }
            }
            Delivery { headers, body }
        })
}

fn post(url: &str, d: &Delivery, hmac: Option<String>) -> u16 {
    let mut req = reqwest::blocking::Client::new()
        .post(url)
        .timeout(Duration::from_secs(10))
        .body(d.body.clone());
    for (name, value) in &d.headers {
        req = req.header(*name, value.as_str());
    }
    if let Some(h) = hmac {
        req = req.header("X-Shopify-Hmac-Sha256", h);
    }
    req.send().expect("the server answers").status().as_u16()
}

#[test]
fn random_webhooks_never_get_a_5xx_and_unsigned_ones_never_change_tiktok() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (wired, url, stop) = runtime.block_on(async {
        let fixture = Fixture::from_json(SEED).unwrap();
        let sandbox = start_sandbox_with(fixture, SandboxOptions::default())
            .await
            .unwrap();
        let mut file = FileConfig::default();
        file.server.coalesce_window = Some("20ms".into());
        let settings = Settings::from_file(file).unwrap();
        let wired = wire(&settings, Some(sandbox)).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let app =
            Application::build(&settings, &wired, listener, pipeline_options(&settings)).unwrap();
        let url = format!("http://{}/webhooks/shopify", app.local_addr().unwrap());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async {
            let _ = stop_rx.await;
        }));
        (wired, url, stop_tx)
    });
    let sandbox = wired.sandbox.as_ref().unwrap();
    let healthz = url.replace("/webhooks/shopify", "/healthz");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !reqwest::blocking::get(&healthz).is_ok_and(|r| r.status().is_success()) {
        assert!(std::time::Instant::now() < deadline, "serve became healthy");
        std::thread::sleep(Duration::from_millis(20));
    }
    let tiktok_before = sandbox.state().tiktok;
    let writes_before = sandbox.stats().inventory_updates.calls;

    // Unsigned or forged: refused, and nothing reaches the pipeline.
    let mut runner = TestRunner::new(Config::with_cases(64));
    let forged = proptest::option::of(prop_oneof![
        header_text(),
        Just("bm90IGEgcmVhbCBzaWduYXR1cmU=".to_owned())
    ]);
    runner
        .run(&(delivery(), forged), |(d, hmac)| {
            let status = post(&url, &d, hmac);
            prop_assert_eq!(status, 401, "unsigned or forged delivery {:?}", d);
            Ok(())
        })
        .unwrap();
    assert_eq!(
        sandbox.stats().inventory_updates.calls,
        writes_before,
        "no write"
    );
    assert_eq!(sandbox.state().tiktok, tiktok_before, "TikTok unchanged");

    // Signed, with random headers and bodies: answered, never with a 5xx.
    let seen = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let mut runner = TestRunner::new(Config::with_cases(64));
    runner
        .run(&delivery(), |d| {
            let status = post(&url, &d, Some(signature(&d.body)));
            seen.borrow_mut().insert(status);
            if ![200, 400, 403].contains(&status) {
                return Err(TestCaseError::fail(format!(
                    "signed delivery {d:?} answered {status}"
                )));
            }
            Ok(())
        })
        .unwrap();
    let seen = seen.into_inner();
    assert!(
        seen.contains(&200) && seen.contains(&400),
        "the generator reaches past the signature: {seen:?}"
    );
    let health = reqwest::blocking::get(&healthz).unwrap();
    assert!(health.status().is_success(), "still healthy");
    let _ = stop.send(());
    drop(wired);
}

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
