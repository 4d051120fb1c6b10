//! `runs` and `audit`: the history in the state store read back through the binary, with
//! their limits and exit codes.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::binary::support::*;

/// `stockbridge COMMAND --config CFG EXTRA...` with the demo secrets.
fn with_config(command: &str, cfg: &Path, extra: &[&str]) -> Run {
    let mut args = vec![command, "--config", cfg.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args, &SECRETS)
}

fn runs_json(cfg: &Path, extra: &[&str]) -> Vec<Value> {
    let listed = with_config("runs", cfg, &[&["--format", "json"], extra].concat());
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    listed.json()["runs"].as_array().unwrap().clone()
}

/// The summary counts of a sync's JSON report, as `runs` shows them.
fn counts_of(report: &Value) -> Value {
    let s = &report["summary"];
    json!({"lines": s["lines"], "updated": s["updated"], "unchanged": s["unchanged"], "failed": s["failed"]})
}

/// A config whose `[state] url` is `url`.
fn config_with_state(dir: &Path, url: &str) -> PathBuf {
    write(
        dir,
        "stockbridge.toml",
        &format!("[state]\nurl = \"{url}\"\n"),
    )
}

/// A config whose state store is `state.db` in `dir`, and that file.
fn state_config(dir: &Path) -> (PathBuf, PathBuf) {
    let file = dir.join("state.db");
    let cfg = config_with_state(dir, &format!("sqlite://{}", file.display()));
    (cfg, file)
}

#[test]
fn runs_shows_each_sync_newest_first_with_its_counts_and_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let fix = write(dir.path(), "fixture.json", SEED);
    let sandbox = SandboxProcess::start(&fix, &[]);
    let cfg = sandbox.config(dir.path(), "[rules]\nquantity_percent = 80\n");
    sandbox.fail_tiktok_writes(true);
    let failed = with_config("sync", &cfg, &["--format", "json"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    sandbox.fail_tiktok_writes(false);
    let next = with_config("sync", &cfg, &["--format", "json"]);
    assert_eq!(next.code, 0, "{}", next.stderr);

    let runs = runs_json(&cfg, &[]);
    assert_eq!(runs.len(), 2, "{runs:#?}");
    let (newest, oldest) = (&runs[0], &runs[1]);
    assert!(newest["id"].as_i64() > oldest["id"].as_i64(), "{runs:#?}");
    assert_eq!(newest["kind"], "sync");
    assert_eq!(newest["outcome"], "succeeded");
    assert_eq!(newest["counts"], counts_of(&next.json()));
    assert_eq!(newest["counts"]["updated"], 4);
    assert_eq!(oldest["outcome"], "partly_failed");
    assert_eq!(oldest["counts"], counts_of(&failed.json()));
    assert_eq!(oldest["counts"]["failed"], 4);
    for r in &runs {
        let started = humantime::parse_rfc3339(r["started_at"].as_str().unwrap()).unwrap();
        let finished = humantime::parse_rfc3339(r["finished_at"].as_str().unwrap()).unwrap();
        assert!(finished >= started, "{r}");
        assert!(
            r.get("reason").is_none(),
            "only an aborted run has a reason: {r}"
        );
    }

    let one = runs_json(&cfg, &["--limit", "1"]);
    assert_eq!(one, runs[..1], "--limit 1 keeps the newest");

    let table = with_config("runs", &cfg, &[]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", table.stdout);
    assert!(
        lines[0].contains("succeeded") && lines[0].contains("4 updated"),
        "{}",
        table.stdout
    );
    assert!(
        lines[1].contains("partly_failed") && lines[1].contains("4 failed"),
        "{}",
        table.stdout
    );
}

#[test]
fn a_run_left_running_by_a_killed_process_shows_as_aborted_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, file) = state_config(dir.path());
    let empty = with_config("runs", &cfg, &[]);
    assert_eq!(
        (empty.code, empty.stdout.as_str()),
        (0, "no runs recorded\n"),
        "{}",
        empty.stderr
    );
    // What a process killed in the middle of a reconciliation leaves behind.
    let conn = rusqlite::Connection::open(&file).unwrap();
    conn.execute(
        "INSERT INTO runs (kind, started_at, outcome) VALUES ('reconcile', 1767225600000, 'running')",
        [],
    )
    .unwrap();
    drop(conn);

    let runs = runs_json(&cfg, &[]);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    let r = &runs[0];
    assert_eq!(r["kind"], "reconcile");
    assert_eq!(r["outcome"], "aborted");
    assert_eq!(r["started_at"], "2026-01-01T00:00:00.000Z");
    assert_eq!(r["finished_at"], Value::Null, "when it stopped is unknown");
    assert_eq!(
        r["counts"],
        json!({"lines": 0, "updated": 0, "unchanged": 0, "failed": 0})
    );
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("the process stopped before the run finished"),
        "{r}"
    );

    let table = with_config("runs", &cfg, &[]);
    assert!(
        table.stdout.contains("aborted")
            && table
                .stdout
                .contains("\n    the process stopped before the run finished"),
        "{}",
        table.stdout
    );
}

#[test]
fn a_limit_out_of_range_exits_2_naming_the_flag_and_the_range_for_audit_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, file) = state_config(dir.path());
    for command in ["audit", "runs"] {
        for limit in ["0", "100001", "18446744073709551615", "-1", "ten"] {
            let refused = with_config(command, &cfg, &["--limit", limit]);
            assert_eq!(
                refused.code, 2,
                "{command} --limit {limit}: {}",
                refused.stderr
            );
            assert!(
                refused.stderr.contains("--limit")
                    && refused.stderr.contains(limit)
                    && refused.stderr.contains("from 1 to 100000"),
                "{command} --limit {limit}: {}",
                refused.stderr
            );
        }
        let largest = with_config(command, &cfg, &["--limit", "100000"]);
        assert_eq!(largest.code, 0, "{command}: {}", largest.stderr);
    }
    assert!(file.exists(), "the accepted limits read the store");
}

#[test]
fn runs_exits_2_for_a_bad_config_or_state_url_and_1_when_the_store_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let unreadable = with_config("runs", &missing, &[]);
    assert_eq!(unreadable.code, 2, "{}", unreadable.stderr);

    let cfg = config_with_state(dir.path(), "mysql://stock:hunter2@db.example/state");
    let bad_url = with_config("runs", &cfg, &[]);
    assert_eq!(bad_url.code, 2, "{}", bad_url.stderr);
    assert!(bad_url.stderr.contains("state.url"), "{}", bad_url.stderr);
    assert!(!bad_url.stderr.contains("hunter2"), "{}", bad_url.stderr);

    let (cfg, file) = state_config(dir.path());
    std::fs::write(
        &file,
        "not a database, only text that fills the header and more",
    )
    .unwrap();
    let broken = with_config("runs", &cfg, &[]);
    assert_eq!(broken.code, 1, "{}", broken.stderr);
    assert!(
        broken.stderr.contains("state store") && broken.stderr.contains("state.db"),
        "{}",
        broken.stderr
    );
}
