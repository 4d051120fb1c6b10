//! Runs: each `sync` or reconciliation, from start to outcome.

use std::time::SystemTime;

use rusqlite::{params, Connection};
use stockbridge_ports::rows::{self, RUN_COLUMNS};
use stockbridge_ports::{RunEnd, RunId, RunKind, RunRecord, StoreError};

use crate::error::{corrupt, store_error, to_i64};
use crate::row::read_all;
use crate::time::to_millis;

/// Records a run's start; it reads as running until finished.
pub(crate) fn start(
    conn: &mut Connection,
    kind: RunKind,
    at: SystemTime,
) -> Result<RunId, StoreError> {
    let at = to_millis(at)?;
    conn.prepare_cached("INSERT INTO runs (kind, started_at, outcome) VALUES (?1, ?2, 'running')")
        .and_then(|mut insert| insert.execute(params![rows::run_kind_column(kind), at]))
        .map_err(store_error)?;
    Ok(RunId(conn.last_insert_rowid()))
}

/// Records a run's end. A run that was never started is `Corrupt`, as in the ports' fake.
pub(crate) fn finish(conn: &mut Connection, id: RunId, end: &RunEnd) -> Result<(), StoreError> {
    let RunEnd {
        at,
        counts,
        outcome,
    } = end;
    let at = to_millis(*at)?;
    let (outcome, detail) = rows::run_outcome_columns(outcome);
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
        .prepare_cached(&format!(
            "SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1"
        ))
        .map_err(store_error)?;
    read_all(&mut select, [limit], |row| rows::run_record(row))
}
