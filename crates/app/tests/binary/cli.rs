//! `plan`, `sync`, `check`, `audit` and `demo` as scripts call them (cli.md): what `plan`
//! shows and `sync` writes, how bad rules and command lines are refused (`validation`), that
//! no secret leaks (`secrets`), and what `audit` shows.

mod audit;
mod bundles;
mod plan;
mod secrets;
mod sync;
mod validation;

use serde_json::{json, Value};

use crate::binary::support::*;

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
