//! The configuration through the binary: values refused with exit code 2 (never rounded,
//! never a secret in the message), the state store left uncreated by `check`, and the sync
//! report when nothing matches.

use std::path::Path;

use serde_json::Value;

use crate::binary::support::*;

/// Runs `command --config FILE --format json --sandbox SEED` with `toml` in `dir`.
fn with_sandbox(dir: &Path, command: &str, toml: &str, fixture: &str) -> Run {
    let cfg = write(dir, "stockbridge.toml", toml);
    let fix = write(dir, "fixture.json", fixture);
    let out = bin()
        .current_dir(dir)
        .args([
            command,
            "--config",
            cfg.to_str().unwrap(),
            "--format",
            "json",
            "--sandbox",
            fix.to_str().unwrap(),
        ])
        .output()
        .expect("the binary runs");
    out.into()
}

#[test]
fn fractional_or_boolean_reserve_units_exit_2_naming_key_value_and_an_integer() {
    for value in ["2.7", "true"] {
        let dir = tempfile::tempdir().unwrap();
        let toml = format!("[rules]\nreserve_units = {value}\n");
        let run = with_sandbox(dir.path(), "plan", &toml, SEED);
        assert_eq!(run.code, 2, "{value}: {}", run.stderr);
        for expected in ["reserve_units", value, "an integer"] {
            assert!(run.stderr.contains(expected), "{value}: {}", run.stderr);
        }
        assert!(run.stdout.is_empty(), "{value}: a plan was printed");
    }
}

#[test]
fn a_toml_syntax_error_exits_2_with_its_position_and_without_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let toml = "[shopify]\naccess_token = \"shpat_SECRET123\" x\n";
    let run = with_sandbox(dir.path(), "plan", toml, SEED);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!run.stderr.contains("SECRET123"), "{}", run.stderr);
    assert!(run.stderr.contains("line 2"), "{}", run.stderr);
}

#[test]
fn a_state_url_of_another_scheme_exits_2_creating_nothing_and_masking_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let toml = "[state]\nurl = \"mysql://u:hunter2@host/db\"\n";
    let run = with_sandbox(dir.path(), "sync", toml, SEED);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("state.url"), "{}", run.stderr);
    assert!(
        run.stderr.contains("mysql://u:***@host/db"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    let mut entries: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["fixture.json", "stockbridge.toml"]);
}

#[test]
fn an_empty_sqlite_state_url_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = with_sandbox(dir.path(), "plan", "[state]\nurl = \"sqlite://\"\n", SEED);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("state.url"), "{}", run.stderr);
}

#[test]
fn a_connection_setting_is_refused_naming_its_full_key_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "stockbridge.toml",
        "[shopify]\nshop_domain = \"a.myshopify.com\"\nbase_url = \"ftp://x\"\n",
    );
    let run = run(&["plan", "--config", cfg.to_str().unwrap()], &SECRETS);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("shopify.base_url = \"ftp://x\""),
        "{}",
        run.stderr
    );
}

#[test]
fn sync_with_nothing_matched_prints_the_sync_summary_and_a_status_table() {
    let mut fixture: Value = serde_json::from_str(SEED).unwrap();
    for variant in fixture["shopify"]["variants"].as_array_mut().unwrap() {
        let sku = variant["sku"].as_str().unwrap_or_default().to_owned();
        variant["sku"] = Value::from(format!("NOWHERE-{sku}"));
    }
    let fixture = fixture.to_string();
    let dir = tempfile::tempdir().unwrap();
    let run = with_sandbox(dir.path(), "sync", "", &fixture);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["lines"], Value::Array(Vec::new()));
    for key in ["updated", "unchanged", "failed"] {
        assert_eq!(report["summary"][key], 0, "{key}: {report}");
    }
    let cfg = dir.path().join("stockbridge.toml");
    let fix = dir.path().join("fixture.json");
    let table = bin()
        .args(["sync", "--config", cfg.to_str().unwrap(), "--sandbox"])
        .arg(&fix)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("STATUS") && !table.contains("CHANGE"),
        "{table}"
    );
    assert!(
        table.contains("0 updated, 0 unchanged, 0 failed"),
        "{table}"
    );
}

/// A config for a running sandbox, with `[state]` as given.
fn sandbox_config(dir: &Path, sandbox: &SandboxProcess, state: &str) -> std::path::PathBuf {
    let toml = format!(
        "[shopify]\nshop_domain = \"stockbridge-demo.myshopify.com\"\nbase_url = \"{base}\"\n\
         [tiktok]\napp_key = \"sandbox_app_key\"\nbase_url = \"{base}\"\nauth_base_url = \"{base}\"\n{state}\n",
        base = sandbox.base_url,
    );
    write(dir, "stockbridge.toml", &toml)
}

#[test]
fn check_creates_no_state_file_and_exits_2_when_none_could_be_created() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = write(dir.path(), "fixture.json", SEED);
    let sandbox = SandboxProcess::start(&fixture, &[]);
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();

    let cfg = sandbox_config(&work, &sandbox, "");
    let check = |cfg: &Path| -> Run {
        let mut cmd = bin();
        cmd.current_dir(&work)
            .args(["check", "--config", cfg.to_str().unwrap()]);
        for (k, v) in SECRETS {
            cmd.env(k, v);
        }
        cmd.output().expect("the binary runs").into()
    };
    let ok = check(&cfg);
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    assert!(ok.stdout.contains("does not exist yet"), "{}", ok.stdout);
    assert!(
        !work.join("stockbridge.db").exists(),
        "check created the state file"
    );

    // A state file under a regular file can never be created: a configuration error.
    std::fs::write(work.join("plain"), "").unwrap();
    let state = format!(
        "[state]\nurl = \"sqlite://{}\"\n",
        work.join("plain/sub/state.db").display()
    );
    let cfg = sandbox_config(&work, &sandbox, &state);
    let refused = check(&cfg);
    assert_eq!(refused.code, 2, "{}\n{}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains("plain"), "{}", refused.stderr);
}
