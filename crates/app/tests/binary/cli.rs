//! `plan`, `sync` and `check` as scripts call them (cli.md).

use serde_json::{json, Value};

use crate::support::*;

fn config(dir: &std::path::Path, rules: &str) -> std::path::PathBuf {
    write(dir, "stockbridge.toml", rules)
}

fn line<'a>(report: &'a Value, sku: &str, warehouse: &str) -> &'a Value {
    report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku"] == sku && l["warehouse_id"] == warehouse)
        .unwrap_or_else(|| panic!("no line for {sku} in {warehouse}: {report:#}"))
}

fn sandbox_run(command: &str, rules: &str, fixture: &str) -> (Run, Option<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), rules);
    let fix = write(dir.path(), "fixture.json", fixture);
    let out = dir.path().join("state-out.json");
    let run = run(
        &[
            command,
            "--config",
            cfg.to_str().unwrap(),
            "--format",
            "json",
            "--sandbox",
            fix.to_str().unwrap(),
            "--sandbox-state-out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    let state = std::fs::read_to_string(&out)
        .ok()
        .map(|s| serde_json::from_str(&s).unwrap());
    (run, state)
}

#[test]
fn plan_prints_the_seeds_numbers_in_the_json_of_the_reference() {
    let (run, _) = sandbox_run("plan", "[rules]\nquantity_percent = 80\n", SEED);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    let tee = line(&report, "TEE-RED-S", "7001");
    assert_eq!(
        tee,
        &json!({"sku": "TEE-RED-S", "shopify_variant_id": "101", "tiktok_product_id": "9001", "tiktok_sku_id": "90011",
                "warehouse_id": "7001", "warehouse_name": "α", "quantity": 240, "current": 0, "changed": true,
                "explanation": "Location A 100 + Location B 200 = 300; x 80% = 240"})
    );
    assert_eq!(
        line(&report, "MUG-BLUE", "7001")["quantity"],
        788,
        "985 at 80% is 788"
    );
    assert_eq!(
        line(&report, "EBOOK-GUIDE", "7001")["quantity"],
        999_999,
        "untracked"
    );
    assert_eq!(
        line(&report, "CANDLE-PREORDER", "7001")["quantity"],
        999_999,
        "continue selling"
    );
    let summary = &report["summary"];
    assert_eq!(
        (
            summary["variants"].as_u64(),
            summary["tiktok_skus"].as_u64(),
            summary["matched"].as_u64()
        ),
        (Some(4), Some(4), Some(4))
    );
    assert_eq!(
        (summary["lines"].as_u64(), summary["changed"].as_u64()),
        (Some(4), Some(4))
    );
    assert!(report["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn plan_writes_nothing() {
    let (run, state) = sandbox_run("plan", "", SEED);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state = state.expect("state written");
    assert_eq!(quantity_in_state(&state, "90011", "7001"), Some(0));
    assert_eq!(quantity_in_state(&state, "90021", "7001"), Some(12));
}

#[test]
fn all_active_locations_at_100_percent_give_alpha_300() {
    let (run, state) = sandbox_run("sync", "", SEED);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(line(&run.json(), "TEE-RED-S", "7001")["status"], "updated");
    assert_eq!(
        quantity_in_state(&state.unwrap(), "90011", "7001"),
        Some(300)
    );
}

#[test]
fn location_a_at_80_percent_into_beta_gives_80_and_leaves_alpha() {
    let rules = "[rules]\nquantity_percent = 80\n[[rules.location_mapping]]\nshopify_locations = [\"Location A\"]\ntiktok_warehouse = \"β\"\n";
    let (run, state) = sandbox_run("sync", rules, SEED);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        report["lines"].as_array().unwrap().len(),
        1,
        "only TEE-RED-S is stocked in β: {report:#}"
    );
    assert_eq!(report["summary"]["updated"], 1);
    assert_eq!(
        report["warnings"].as_array().unwrap().len(),
        3,
        "the three SKUs not stocked in β are named"
    );
    let state = state.unwrap();
    assert_eq!(quantity_in_state(&state, "90011", "7002"), Some(80));
    assert_eq!(
        quantity_in_state(&state, "90011", "7001"),
        Some(0),
        "α untouched"
    );
}

#[test]
fn second_sync_writes_nothing() {
    let (first, state) = sandbox_run("sync", "[rules]\nquantity_percent = 80\n", SEED);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.json()["summary"]["updated"], 4);
    let (second, _) = sandbox_run(
        "sync",
        "[rules]\nquantity_percent = 80\n",
        &state.unwrap().to_string(),
    );
    assert_eq!(second.code, 0, "{}", second.stderr);
    let summary = &second.json()["summary"];
    assert_eq!(
        (
            summary["updated"].as_u64(),
            summary["unchanged"].as_u64(),
            summary["failed"].as_u64()
        ),
        (Some(0), Some(4), Some(0))
    );
}

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

#[test]
fn failed_write_is_reported_with_exit_1_and_succeeds_on_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let fix = write(dir.path(), "fixture.json", SEED);
    let sandbox = SandboxProcess::start(&fix, &[]);
    let cfg = sandbox.config(dir.path(), "[rules]\nquantity_percent = 80\n");
    sandbox.control(
        "POST",
        "/_sandbox/faults",
        Some(json!({"tiktok": {"error_rate": 1.0, "endpoints": ["inventory_update"]}})),
    );
    let failed = run(
        &[
            "sync",
            "--config",
            cfg.to_str().unwrap(),
            "--format",
            "json",
        ],
        &SECRETS,
    );
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    let report = failed.json();
    assert_eq!(report["summary"]["failed"], 4);
    let tee = line(&report, "TEE-RED-S", "7001");
    assert_eq!(tee["status"], "failed");
    assert!(
        tee["error"].as_str().unwrap().contains("unavailable"),
        "{tee}"
    );
    assert_eq!(sandbox.tiktok_quantity("90011", "7001"), Some(0));

    sandbox.control("POST", "/_sandbox/faults", Some(json!({})));
    let next = run(
        &[
            "sync",
            "--config",
            cfg.to_str().unwrap(),
            "--format",
            "json",
        ],
        &SECRETS,
    );
    assert_eq!(next.code, 0, "{}", next.stderr);
    assert_eq!(next.json()["summary"]["updated"], 4);
    assert_eq!(sandbox.tiktok_quantity("90011", "7001"), Some(240));
}

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

#[test]
fn demo_shows_the_seeds_numbers_and_what_tiktok_holds_after() {
    let demo = run(&["demo"], &[]);
    assert_eq!(demo.code, 0, "{}", demo.stderr);
    let out = &demo.stdout;
    assert!(
        out.contains("Location A 100 + Location B 200 = 300; x 80% = 240"),
        "{out}"
    );
    assert!(out.contains("Location A 985 = 985; x 80% = 788"), "{out}");
    assert!(out.contains("untracked -> 999999"), "{out}");
    assert!(
        out.contains("continue selling when out of stock -> 999999"),
        "{out}"
    );
    assert!(
        out.contains("0 updated, 4 unchanged, 0 failed"),
        "the second sync writes nothing: {out}"
    );
    let holds = out
        .split("TikTok Shop now holds")
        .nth(1)
        .expect("the final state is shown");
    assert!(
        holds.contains("TEE-RED-S        α = 240, β = 80"),
        "{holds}"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_sync_finishes_writes_in_flight_records_them_and_starts_no_more() {
    use std::process::Stdio;
    use stockbridge_ports::{AuditOutcome, RunOutcome, StateStore};

    let dir = tempfile::tempdir().unwrap();
    let fix = write(dir.path(), "fixture.json", SEED);
    let sandbox = SandboxProcess::start(&fix, &[]);
    let cfg = sandbox.config(dir.path(), "");
    let one_at_a_time = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("[tiktok]\n", "[tiktok]\nconcurrency = 1\n");
    std::fs::write(&cfg, one_at_a_time).unwrap();
    sandbox.control(
        "POST",
        "/_sandbox/faults",
        Some(json!({"tiktok": {"latency_ms": 400, "endpoints": ["inventory_update"]}})),
    );
    let child = bin()
        .args([
            "sync",
            "--config",
            cfg.to_str().unwrap(),
            "--format",
            "json",
        ])
        .envs(SECRETS)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let writes = || {
        sandbox.control("GET", "/_sandbox/stats", None)["inventory_updates"]["calls"]
            .as_u64()
            .unwrap_or(0)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while writes() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the sync never started writing"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let run: Run = child.wait_with_output().unwrap().into();
    assert_eq!(
        run.code, 1,
        "an interrupted sync reports what it did not write: {}",
        run.stderr
    );
    assert!(run.stderr.contains("interrupted"), "{}", run.stderr);
    let report = run.json();
    let failed = report["summary"]["failed"].as_u64().unwrap();
    let updated = report["summary"]["updated"].as_u64().unwrap();
    assert!(
        failed >= 1 && updated >= 1,
        "some written, the rest not started: {report:#}"
    );
    assert_eq!(updated + failed, 4);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = stockbridge_adapters_store::SqliteStore::open(
        dir.path().join("state.db").to_str().unwrap(),
    )
    .unwrap();
    let (runs, audit) = rt.block_on(async {
        (
            store.runs(1).await.unwrap(),
            store.audit_log(100).await.unwrap(),
        )
    });
    assert!(
        matches!(runs[0].outcome, RunOutcome::Aborted(_)),
        "{:?}",
        runs[0].outcome
    );
    let applied: Vec<_> = audit
        .iter()
        .filter(|e| e.outcome == AuditOutcome::Applied)
        .collect();
    assert_eq!(
        applied.len() as u64,
        updated,
        "every write that happened is recorded, and nothing else"
    );
    for entry in applied {
        assert_eq!(
            sandbox.tiktok_quantity(entry.sku_id.as_str(), entry.warehouse.as_str()),
            Some(i64::from(entry.new.get()))
        );
    }
    assert_eq!(writes(), updated, "no write started after Ctrl-C");
}

#[test]
fn audit_shows_every_pushed_number_with_its_explanation_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let cfg = config(
        dir.path(),
        &format!(
            "[state]\nurl = \"sqlite://{}\"\n[rules]\nquantity_percent = 80\n",
            state.display()
        ),
    );
    let fix = write(dir.path(), "fixture.json", SEED);
    let synced = run(
        &[
            "sync",
            "--config",
            cfg.to_str().unwrap(),
            "--sandbox",
            fix.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(synced.code, 0, "{}", synced.stderr);

    let all = run(
        &[
            "audit",
            "--config",
            cfg.to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(all.code, 0, "{}", all.stderr);
    let entries = all.json()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 4, "one entry per pushed number");
    assert!(entries
        .iter()
        .all(|e| e["trigger"] == "sync" && e["outcome"] == "applied"));

    let mug = run(
        &[
            "audit",
            "--config",
            cfg.to_str().unwrap(),
            "--sku",
            "MUG-BLUE",
            "--format",
            "json",
        ],
        &[],
    );
    let mug = mug.json()["entries"].as_array().unwrap().clone();
    assert_eq!(mug.len(), 1);
    assert_eq!(
        (mug[0]["old"].as_u64(), mug[0]["new"].as_u64()),
        (Some(12), Some(788))
    );
    assert_eq!(mug[0]["explanation"], "Location A 985 = 985; x 80% = 788");
    assert_eq!(mug[0]["tiktok_sku_id"], "90021");

    let table = run(
        &["audit", "--config", cfg.to_str().unwrap(), "--sku", "90021"],
        &[],
    );
    assert!(
        table
            .stdout
            .contains("MUG-BLUE in 7001: 12 -> 788  applied"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("Location A 985 = 985; x 80% = 788"),
        "{}",
        table.stdout
    );
}
