//! Runs: each `sync` or reconciliation, from start to outcome.

use std::time::SystemTime;

use rusqlite::{params, Connection};
use stockbridge_ports::{RunCounts, RunId, RunKind, RunOutcome, RunRecord, StoreError};

use crate::error::{corrupt, store_error, to_i64};
use crate::time::{from_millis, from_optional_millis, to_millis};

/// Records a run's start; it reads as running until finished.
pub(crate) fn start(
    conn: &mut Connection,
    kind: RunKind,
    at: SystemTime,
) -> Result<RunId, StoreError> {
    let at = to_millis(at)?;
    conn.prepare_cached("INSERT INTO runs (kind, started_at, outcome) VALUES (?1, ?2, 'running')")
        .and_then(|mut insert| insert.execute(params![encode_kind(kind), at]))
        .map_err(store_error)?;
    Ok(RunId(conn.last_insert_rowid()))
}

/// Records a run's end. A run that was never started is `Corrupt`, as in the ports' fake.
pub(crate) fn finish(
    conn: &mut Connection,
    id: RunId,
    at: SystemTime,
    counts: RunCounts,
    outcome: &RunOutcome,
) -> Result<(), StoreError> {
    let at = to_millis(at)?;
    let (outcome, detail) = encode_outcome(outcome);
    let lines = to_i64("a line count", counts.lines)?;
    let updated = to_i64("an update count", counts.updated)?;
    let unchanged = to_i64("an unchanged count", counts.unchanged)?;
    let failed = to_i64("a failure count", counts.failed)?;
    let changed = conn
        .prepare_cached(
            "UPDATE runs SET finished_at = ?1, lines = ?2, updated = ?3, unchanged = ?4, \
             failed = ?5, outcome = ?6, outcome_detail = ?7 WHERE id = ?8",
        )
        .and_then(|mut update| {
            update.execute(params![
                at, lines, updated, unchanged, failed, outcome, detail, id.0,
            ])
        })
        .map_err(store_error)?;
    if changed == 0 {
        return Err(corrupt(format!("no run with id {}", id.0)));
    }
    Ok(())
}

/// The newest runs first, at most `limit`.
pub(crate) fn newest(conn: &mut Connection, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
    let limit = to_i64("a limit", limit)?;
    let mut select = conn
        .prepare_cached(
            "SELECT id, kind, started_at, finished_at, lines, updated, unchanged, failed, \
             outcome, outcome_detail FROM runs ORDER BY id DESC LIMIT ?1",
        )
        .map_err(store_error)?;
    let rows = select.query_map([limit], stored).map_err(store_error)?;
    rows.map(|row| decode(row.map_err(store_error)?)).collect()
}

fn encode_kind(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Sync => "sync",
        RunKind::Reconcile => "reconcile",
    }
}

fn encode_outcome(outcome: &RunOutcome) -> (&'static str, Option<&str>) {
    match outcome {
        RunOutcome::Running => ("running", None),
        RunOutcome::Succeeded => ("succeeded", None),
        RunOutcome::PartlyFailed => ("partly_failed", None),
        RunOutcome::Aborted(reason) => ("aborted", Some(reason)),
    }
}

struct Stored {
    id: i64,
    kind: String,
    started_at: i64,
    finished_at: Option<i64>,
    counts: [i64; 4],
    outcome: String,
    detail: Option<String>,
}

fn stored(row: &rusqlite::Row<'_>) -> rusqlite::Result<Stored> {
    Ok(Stored {
        id: row.get(0)?,
        kind: row.get(1)?,
        started_at: row.get(2)?,
        finished_at: row.get(3)?,
        counts: [row.get(4)?, row.get(5)?, row.get(6)?, row.get(7)?],
        outcome: row.get(8)?,
        detail: row.get(9)?,
    })
}

fn decode(row: Stored) -> Result<RunRecord, StoreError> {
    let id = row.id;
    let kind = match row.kind.as_str() {
        "sync" => RunKind::Sync,
        "reconcile" => RunKind::Reconcile,
        other => return Err(corrupt(format!("run {id}: unknown kind {other:?}"))),
    };
    let outcome = match (row.outcome.as_str(), row.detail) {
        ("running", _) => RunOutcome::Running,
        ("succeeded", _) => RunOutcome::Succeeded,
        ("partly_failed", _) => RunOutcome::PartlyFailed,
        ("aborted", detail) => RunOutcome::Aborted(detail.unwrap_or_default()),
        (other, _) => return Err(corrupt(format!("run {id}: unknown outcome {other:?}"))),
    };
    let [lines, updated, unchanged, failed] = row.counts.map(u64::try_from);
    let count = |n: Result<u64, _>| n.map_err(|_| corrupt(format!("run {id}: negative count")));
    Ok(RunRecord {
        id: RunId(id),
        kind,
        started_at: from_millis(row.started_at)?,
        finished_at: from_optional_millis(row.finished_at)?,
        counts: RunCounts {
            lines: count(lines)?,
            updated: count(updated)?,
            unchanged: count(unchanged)?,
            failed: count(failed)?,
        },
        outcome,
    })
}
