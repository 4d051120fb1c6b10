//! `sync`: what it writes, a second run, a failed write, and Ctrl-C in the middle.

use super::*;

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
fn a_hung_tiktok_ends_sync_with_exit_1_once_each_write_reaches_its_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    let fix = write(dir.path(), "fixture.json", SEED);
    let sandbox = SandboxProcess::start(&fix, &[]);
    let cfg = sandbox.config(dir.path(), "[rules]\nquantity_percent = 80\n");
    // TikTok takes a minute to answer any write: every attempt times out.
    sandbox.control(
        "POST",
        "/_sandbox/faults",
        Some(json!({"tiktok": {"latency_ms": 60000, "endpoints": ["inventory_update"]}})),
    );
    let mut env = SECRETS.to_vec();
    env.extend([
        ("STOCKBRIDGE__TIKTOK__REQUEST_TIMEOUT", "300ms"),
        ("STOCKBRIDGE__TIKTOK__CALL_TIMEOUT", "1s"),
    ]);
    let hung = run(
        &[
            "sync",
            "--config",
            cfg.to_str().unwrap(),
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(hung.code, 1, "{}", hung.stderr);
    let report = hung.json();
    let lines = report["lines"].as_array().unwrap();
    assert_eq!(report["summary"]["failed"], 4, "{report:#}");
    assert!(
        lines
            .iter()
            .filter(|l| l["status"] == "failed")
            .all(|l| l["error"].as_str().unwrap().contains("unavailable")),
        "{report:#}"
    );
    let products: std::collections::BTreeSet<&str> = lines
        .iter()
        .filter(|l| l["status"] == "failed")
        .map(|l| l["tiktok_product_id"].as_str().unwrap())
        .collect();
    let products = products.len() as u64;
    // Each attempt waits its 300 ms request timeout, and the first backoff is at least
    // 250 ms: within the one-second limit a write is attempted once or twice, where the
    // policy would allow six attempts, and the engine adds none of its own.
    let attempts = sandbox.control("GET", "/_sandbox/stats", None)["tiktok"]["inventory_update"]
        ["delayed"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        (products..=2 * products).contains(&attempts),
        "{attempts} attempts for {products} products"
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
