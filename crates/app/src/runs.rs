//! `stockbridge runs`: the recorded runs (each `sync` and each reconciliation inside `serve`)
//! read back, newest first, so an operator can see when the stores were last brought in line,
//! how much each run wrote, and which runs failed in part or never finished.

use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;
use stockbridge_ports::{RunCounts, RunKind, RunOutcome, RunRecord};

use crate::error::CommandError;
use crate::history::open_state_store;
use crate::report::Format;

/// A run as `runs --format json` and the console show it.
#[derive(Serialize)]
pub(crate) struct JsonRun<'a> {
    id: i64,
    kind: &'static str,
    started_at: String,
    finished_at: Option<String>,
    counts: JsonCounts,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonCounts {
    lines: u64,
    updated: u64,
    unchanged: u64,
    failed: u64,
}

impl From<RunCounts> for JsonCounts {
    fn from(c: RunCounts) -> JsonCounts {
        JsonCounts {
            lines: c.lines,
            updated: c.updated,
            unchanged: c.unchanged,
            failed: c.failed,
        }
    }
}

fn kind_name(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Sync => "sync",
        RunKind::Reconcile => "reconcile",
    }
}

/// The outcome's name and, for an aborted run, why.
fn outcome_parts(outcome: &RunOutcome) -> (&'static str, Option<&str>) {
    match outcome {
        RunOutcome::Running => ("running", None),
        RunOutcome::Succeeded => ("succeeded", None),
        RunOutcome::PartlyFailed => ("partly_failed", None),
        RunOutcome::Aborted(reason) => ("aborted", Some(reason)),
    }
}

fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

/// A run as `runs --format json` and the console show it.
pub(crate) fn json_run(r: &RunRecord) -> JsonRun<'_> {
    let (outcome, reason) = outcome_parts(&r.outcome);
    JsonRun {
        id: r.id.0,
        kind: kind_name(r.kind),
        started_at: rfc3339(r.started_at),
        finished_at: r.finished_at.map(rfc3339),
        counts: r.counts.into(),
        outcome,
        reason,
    }
}

/// How long the run took, to the millisecond; `-` when its end is unknown.
pub(crate) fn duration(r: &RunRecord) -> String {
    r.finished_at
        .and_then(|end| end.duration_since(r.started_at).ok())
        .map_or("-".to_owned(), |took| {
            let millis = std::time::Duration::from_millis(took.as_millis() as u64);
            humantime::format_duration(millis).to_string()
        })
}

fn table(runs: &[RunRecord]) -> String {
    let mut out = String::new();
    for r in runs {
        let (outcome, reason) = outcome_parts(&r.outcome);
        let c = r.counts;
        out.push_str(&format!(
            "#{:<5} {:<9} {}  took {:<9} {:<13} {} lines: {} updated, {} unchanged, {} failed\n",
            r.id.0,
            kind_name(r.kind),
            humantime::format_rfc3339_seconds(r.started_at),
            duration(r),
            outcome,
            c.lines,
            c.updated,
            c.unchanged,
            c.failed,
        ));
        if let Some(reason) = reason.filter(|reason| !reason.is_empty()) {
            out.push_str(&format!("    {reason}\n"));
        }
    }
    if runs.is_empty() {
        out.push_str("no runs recorded\n");
    }
    out
}

/// Runs `stockbridge runs`.
pub async fn run(config: &Path, limit: usize, format: Format) -> Result<(), CommandError> {
    let (store, location) = open_state_store(config).await?;
    let runs = store
        .runs(limit)
        .await
        .map_err(|e| CommandError::failed(anyhow::anyhow!("state store {location}: {e}")))?;
    match format {
        Format::Json => {
            let runs: Vec<JsonRun<'_>> = runs.iter().map(json_run).collect();
            println!("{}", serde_json::json!({ "runs": runs }));
        }
        Format::Table => print!("{}", table(&runs)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use stockbridge_ports::RunId;

    use super::*;

    fn record(outcome: RunOutcome, took: Option<Duration>) -> RunRecord {
        let started_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        RunRecord {
            id: RunId(7),
            kind: RunKind::Reconcile,
            started_at,
            finished_at: took.map(|t| started_at + t),
            counts: RunCounts {
                lines: 5,
                updated: 2,
                unchanged: 2,
                failed: 1,
            },
            outcome,
        }
    }

    #[test]
    fn a_finished_run_reads_as_rfc3339_times_with_its_counts_and_no_reason() {
        let r = record(RunOutcome::PartlyFailed, Some(Duration::from_millis(1500)));
        let json = serde_json::to_value(json_run(&r)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "id": 7, "kind": "reconcile",
                "started_at": "2026-01-01T00:00:00.000Z",
                "finished_at": "2026-01-01T00:00:01.500Z",
                "counts": {"lines": 5, "updated": 2, "unchanged": 2, "failed": 1},
                "outcome": "partly_failed"
            })
        );
    }

    #[test]
    fn an_aborted_run_without_an_end_shows_null_and_its_reason() {
        let r = record(RunOutcome::Aborted("killed".into()), None);
        let json = serde_json::to_value(json_run(&r)).unwrap();
        assert_eq!(json["finished_at"], serde_json::Value::Null);
        assert_eq!(json["outcome"], "aborted");
        assert_eq!(json["reason"], "killed");
    }

    #[test]
    fn the_table_shows_duration_outcome_counts_and_the_reason_below() {
        let done = record(RunOutcome::Succeeded, Some(Duration::from_millis(1500)));
        let aborted = record(RunOutcome::Aborted("killed".into()), None);
        let text = table(&[done, aborted]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[0].starts_with("#7     reconcile 2026-01-01T00:00:00Z"),
            "{text}"
        );
        assert!(lines[0].contains("took 1s 500ms"), "{text}");
        assert!(lines[0].contains("succeeded"), "{text}");
        assert!(
            lines[0].ends_with("5 lines: 2 updated, 2 unchanged, 1 failed"),
            "{text}"
        );
        assert!(
            lines[1].contains("took -") && lines[1].contains("aborted"),
            "{text}"
        );
        assert_eq!(lines[2], "    killed");
    }

    #[test]
    fn an_empty_store_says_no_runs_are_recorded() {
        assert_eq!(table(&[]), "no runs recorded\n");
    }
}
