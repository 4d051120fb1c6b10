//! No secret in any output, in serve's logs, or in the sandbox's saved state.

use super::*;

#[test]
fn no_secret_appears_in_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let fix = write(dir.path(), "fixture.json", SEED);
    let sandbox = SandboxProcess::start(&fix, &[]);
    let port = unused_port();
    let cfg = sandbox.config(
        dir.path(),
        &format!("[server]\nlisten = \"127.0.0.1:{port}\"\n"),
    );
    let mut outputs = Vec::new();
    for args in [
        vec!["plan", "--format", "json"],
        vec!["sync", "--format", "table"],
        vec!["check"],
    ] {
        let mut full = args.clone();
        full.extend(["--config", cfg.to_str().unwrap()]);
        let r = run(
            &full,
            &[&SECRETS[..], &[("STOCKBRIDGE_LOG", "debug")]].concat(),
        );
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        outputs.push(r);
    }
    let wrong = [
        (
            "STOCKBRIDGE__SHOPIFY__ACCESS_TOKEN",
            "shpat_wrong_but_secret",
        ),
        SECRETS[1],
        SECRETS[2],
        SECRETS[3],
    ];
    let refused = run(&["plan", "--config", cfg.to_str().unwrap()], &wrong);
    assert_eq!(
        refused.code, 2,
        "a refused credential exits 2: {}",
        refused.stderr
    );
    outputs.push(refused);
    #[cfg(unix)]
    outputs.push(serve_with_debug_logs_until_sigterm(&cfg, port));
    for r in &outputs {
        for secret in [
            "shpat_sandbox_demo_token",
            "sandbox_webhook_secret",
            "sandbox_app_secret",
            "sandbox_access_token",
            "shpat_wrong_but_secret",
        ] {
            assert!(
                !r.stdout.contains(secret) && !r.stderr.contains(secret),
                "{secret} leaked:\n{}\n{}",
                r.stdout,
                r.stderr
            );
        }
    }
}

/// `serve` with debug logs: a forged webhook (401), a validly signed one from another shop
/// (403), a good one (200), then SIGTERM. Every line it writes to standard error off a
/// terminal is a JSON object.
#[cfg(unix)]
fn serve_with_debug_logs_until_sigterm(cfg: &std::path::Path, port: u16) -> Run {
    let mut serve = ServeLogged::spawn(cfg, port, &[("STOCKBRIDGE_LOG", "debug")]);
    assert!(serve.wait_healthy(std::time::Duration::from_secs(30)));
    let body = r#"{"inventory_item_id":1001,"location_id":1,"available":7}"#;
    let shop = "stockbridge-demo.myshopify.com";
    let good = sandbox_webhook_signature(body);
    for (hmac, from, id, expected) in [
        ("bm90IGEgcmVhbCBzaWduYXR1cmU=", shop, "forged", 401),
        (good.as_str(), "other-shop.myshopify.com", "refused", 403),
        (good.as_str(), shop, "good", 200),
    ] {
        let status = reqwest::blocking::Client::new()
            .post(format!("{}/webhooks/shopify", serve.url))
            .header("X-Shopify-Topic", "inventory_levels/update")
            .header("X-Shopify-Hmac-Sha256", hmac)
            .header("X-Shopify-Shop-Domain", from)
            .header("X-Shopify-Webhook-Id", id)
            .body(body)
            .send()
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), expected, "{id} webhook");
    }
    serve.signal("TERM");
    let status = serve.wait_exit(std::time::Duration::from_secs(20));
    let (stdout, stderr) = serve.output();
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        lines.iter().any(|l| l.contains("\"DEBUG\"")),
        "debug logs were written: {stderr}"
    );
    for line in &lines {
        let parsed = serde_json::from_str::<Value>(line);
        assert!(
            parsed.as_ref().is_ok_and(Value::is_object),
            "not a JSON object: {line}"
        );
    }
    Run {
        code: 0,
        stdout,
        stderr,
    }
}

#[test]
fn sandbox_state_out_carries_no_secret() {
    let mut fixture: Value = serde_json::from_str(SEED).unwrap();
    fixture["credentials"] = json!({"shopify_access_token": "shpat_fixture_secret", "tiktok_app_secret": "fixture_app_secret", "shop_domain": "fixture-shop.myshopify.com"});
    let (run, state) = sandbox_run("sync", "", &fixture.to_string());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = state.unwrap().to_string();
    assert!(
        !text.contains("shpat_fixture_secret") && !text.contains("fixture_app_secret"),
        "{text}"
    );
    assert!(
        !text.contains("sandbox_app_secret") && !text.contains("sandbox_access_token"),
        "{text}"
    );
    assert!(
        text.contains("fixture-shop.myshopify.com"),
        "public parts stay: {text}"
    );
}
