//! `serve` killed with SIGKILL in the middle of its start-up reconciliation, against
//! `stockbridge sandbox` in another process: the state file stays sound, the cut run is
//! recorded as aborted rather than running forever, and a restart catches TikTok up.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use stockbridge_adapters_store::STOPPED_NOTE;

use crate::binary::support::*;

/// Opens the state file read-only, as an operator's `sqlite3` would; `None` while serve has
/// not created it yet.
fn state(path: &Path) -> Option<rusqlite::Connection> {
    let flags =
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    path.is_file()
        .then(|| rusqlite::Connection::open_with_flags(path, flags).ok())
        .flatten()
}

/// Every run as (id, outcome, note), oldest first; empty before the schema exists.
fn runs(path: &Path) -> Vec<(i64, String, Option<String>)> {
    let Some(conn) = state(path) else {
        return Vec::new();
    };
    let Ok(mut select) = conn.prepare("SELECT id, outcome, outcome_detail FROM runs ORDER BY id")
    else {
        return Vec::new();
    };
    select
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

fn tiktok_reads_answered(sandbox: &SandboxProcess) -> u64 {
    let stats = sandbox.control("GET", "/_sandbox/stats", None);
    let Some(tiktok) = stats["tiktok"].as_object() else {
        return 0;
    };
    tiktok
        .iter()
        .filter(|(endpoint, _)| endpoint.contains("search"))
        .flat_map(|(_, kinds)| kinds.as_object().into_iter().flatten())
        .filter_map(|(_, n)| n.as_u64())
        .sum()
}

#[cfg(unix)]
#[test]
fn serve_killed_mid_reconcile_leaves_a_sound_state_file_an_aborted_run_and_catches_up_at_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = unused_port();
    let fixture = write(dir.path(), "fixture.json", SEED);
    let hook = format!("http://127.0.0.1:{port}/webhooks/shopify");
    let sandbox = SandboxProcess::start(&fixture, &["--webhook-url", &hook]);
    let server = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\nreconcile_every = \"1h\"\ncoalesce_window = \"50ms\"\n"
    );
    let config = sandbox.config(dir.path(), &server);
    let state_file = dir.path().join("state.db");
    // Every TikTok write takes 30 s: the start-up reconciliation is still writing when killed.
    sandbox.control(
        "POST",
        "/_sandbox/faults",
        Some(json!({"tiktok": {"latency_ms": 30_000, "endpoints": ["inventory_update"]}})),
    );

    let mut first = ServeLogged::spawn(&config, port, &[]);
    let mid_reconcile = poll_until(Duration::from_secs(30), || {
        runs(&state_file)
            .iter()
            .any(|(_, outcome, _)| outcome == "running")
            && tiktok_reads_answered(&sandbox) > 0
    });
    assert!(
        mid_reconcile,
        "the start-up reconciliation started and read TikTok; runs: {:?}",
        runs(&state_file)
    );
    assert!(!first.wait_healthy(Duration::ZERO), "not done yet");
    first.signal("KILL");
    let status = first.wait_exit(Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.code().is_none()),
        "killed by the signal: {status:?}"
    );
    let cut: Vec<i64> = runs(&state_file)
        .into_iter()
        .filter(|(_, outcome, _)| outcome == "running")
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(cut.len(), 1, "one run cut short: {:?}", runs(&state_file));

    // While it is down: Location B of TEE-RED-S drops to 20, and TikTok answers fast again.
    sandbox.control(
        "POST",
        "/_sandbox/shopify/inventory_levels",
        Some(json!({"inventory_item_id": 1001, "location_id": 2, "available": 20})),
    );
    sandbox.control("POST", "/_sandbox/faults", Some(json!({})));

    let mut second = ServeLogged::spawn(&config, port, &[]);
    assert!(
        second.wait_healthy(Duration::from_secs(30)),
        "the restarted serve finished its start-up reconciliation"
    );
    assert!(
        poll_until(Duration::from_secs(10), || sandbox
            .tiktok_quantity("90011", "7001")
            == Some(120)),
        "Location A 100 + Location B 20 = 120 reached TikTok; it holds {:?}",
        sandbox.tiktok_quantity("90011", "7001")
    );
    assert_eq!(sandbox.tiktok_quantity("90021", "7001"), Some(985));
    second.signal("TERM");
    let stopped = second.wait_exit(Duration::from_secs(20));
    let (_, log) = second.output();
    assert_eq!(stopped.and_then(|s| s.code()), Some(0), "{log}");
    assert!(
        log.contains("runs left running by a stopped process marked aborted"),
        "the restart says what it marked: {log}"
    );

    let conn = state(&state_file).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let all = runs(&state_file);
    assert!(
        all.iter().all(|(_, outcome, _)| outcome != "running"),
        "no run is left running: {all:?}"
    );
    assert_eq!(
        all.iter().find(|(id, _, _)| *id == cut[0]),
        Some(&(cut[0], "aborted".to_owned(), Some(STOPPED_NOTE.to_owned()))),
        "{all:?}"
    );
    assert_eq!(
        all.last().map(|(_, outcome, _)| outcome.as_str()),
        Some("succeeded"),
        "the restart's reconciliation succeeded: {all:?}"
    );

    let audit = run(
        &[
            "audit",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    let entries = audit.json()["entries"].as_array().cloned().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["tiktok_sku_id"] == "90011" && e["new"] == 120 && e["outcome"] == "applied"),
        "the catch-up write is in the audit log: {entries:?}"
    );
}
