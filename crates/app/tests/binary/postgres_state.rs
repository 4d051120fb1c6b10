//! `[state] url = "postgres://..."`: the single-shop commands keep their state in PostgreSQL
//! (a schema of the test server of its own, see the PostgreSQL adapter's test harness).

use std::path::{Path, PathBuf};

use stockbridge_adapters_postgres::testing::TestDatabase;

use crate::binary::support::*;

/// A schema of its own in the test PostgreSQL, or `None` when the harness skipped.
fn test_database() -> Option<TestDatabase> {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(TestDatabase::new())
}

/// The sandbox's config with its `[state] url` replaced by `url`.
fn config_with_state_url(sandbox: &SandboxProcess, dir: &Path, url: &str) -> PathBuf {
    let cfg = sandbox.config(dir, "[rules]\nquantity_percent = 80\n");
    let toml = std::fs::read_to_string(&cfg).unwrap();
    let start = toml.find("url = \"sqlite://").unwrap();
    let end = start + toml[start..].find('\n').unwrap();
    let toml = format!("{}url = \"{url}\"{}", &toml[..start], &toml[end..]);
    write(dir, "stockbridge.toml", &toml)
}

fn with_config(command: &str, cfg: &Path, extra: &[&str]) -> Run {
    let mut args = vec![command, "--config", cfg.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args, &SECRETS)
}

#[test]
fn sync_runs_and_audit_keep_their_history_in_postgres() {
    let Some(db) = test_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let fix = write(dir.path(), "fixture.json", SEED);
    let sandbox = SandboxProcess::start(&fix, &[]);
    let cfg = config_with_state_url(&sandbox, dir.path(), db.url());

    let first = with_config("sync", &cfg, &["--format", "json"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.json()["summary"]["updated"], 4, "{}", first.stdout);
    let again = with_config("sync", &cfg, &["--format", "json"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        again.json()["summary"]["updated"],
        0,
        "the second sync finds every number already right: {}",
        again.stdout
    );

    let runs = with_config("runs", &cfg, &["--format", "json"]);
    assert_eq!(runs.code, 0, "{}", runs.stderr);
    let runs = runs.json()["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 2, "{runs:#?}");
    assert!(
        runs.iter().all(|r| r["outcome"] == "succeeded"),
        "{runs:#?}"
    );
    assert_eq!(runs[1]["counts"]["updated"], 4, "{runs:#?}");

    let audit = with_config("audit", &cfg, &["--format", "json"]);
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    let entries = audit.json()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 4, "one line per applied write: {entries:#?}");
    assert!(
        !dir.path().join("state.db").exists(),
        "no SQLite file is made when the state is in PostgreSQL"
    );
}

#[test]
fn a_postgres_store_that_does_not_answer_exits_1_naming_it_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "postgres://stock:hunter2@127.0.0.1:{}/state?connect_timeout=5",
        unused_port()
    );
    let cfg = write(
        dir.path(),
        "stockbridge.toml",
        &format!("[state]\nurl = \"{url}\"\n"),
    );
    for command in ["runs", "audit"] {
        let refused = with_config(command, &cfg, &[]);
        assert_eq!(refused.code, 1, "{command}: {}", refused.stderr);
        assert!(
            refused
                .stderr
                .contains("state store postgres://stock:***@127.0.0.1"),
            "{command}: {}",
            refused.stderr
        );
        assert!(!refused.stderr.contains("hunter2"), "{}", refused.stderr);
    }
}
