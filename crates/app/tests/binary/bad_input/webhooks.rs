//! Random bodies and headers at `POST /webhooks/shopify`: never a 5xx, and never a TikTok
//! change without a valid signature.

use std::time::Duration;

use stockbridge_app::serve::{pipeline_options, Application};
use stockbridge_app::settings::FileConfig;
use stockbridge_app::wiring::{start_sandbox_with, wire};
use stockbridge_sandbox::{Fixture, SandboxOptions};

use super::*;

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
