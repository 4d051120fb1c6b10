//! Runs: each `sync` or reconciliation, from start to outcome.

use std::time::SystemTime;

use stockbridge_ports::{RunCounts, RunId, RunKind, RunOutcome, RunRecord, StoreError};
use tokio_postgres::{Client, Row};

use crate::audit::unreadable_row;
use crate::error::{corrupt, store_error, to_i64};
use crate::store::{begin_write, ShopScope};

/// Records a run's start; it reads as running until finished.
pub(crate) async fn start(
    client: &mut Client,
    scope: ShopScope,
    kind: RunKind,
    at: SystemTime,
) -> Result<RunId, StoreError> {
    let tx = begin_write(client, scope).await?;
    let row = tx
        .query_one(
            "INSERT INTO runs (shop_id, kind, started_at, outcome, epoch) \
             VALUES ($1, $2, $3, 'running', $4) RETURNING id",
            &[&scope.shop_id, &encode_kind(kind), &at, &scope.epoch],
        )
        .await
        .map_err(store_error)?;
    tx.commit().await.map_err(store_error)?;
    Ok(RunId(row.get(0)))
}

/// Records a run's end. A run that was never started (for this shop) is `Corrupt`, as in the
/// ports' fake.
pub(crate) async fn finish(
    client: &mut Client,
    scope: ShopScope,
    id: RunId,
    at: SystemTime,
    counts: RunCounts,
    outcome: &RunOutcome,
) -> Result<(), StoreError> {
    let (outcome, detail) = encode_outcome(outcome);
    let lines = to_i64("a line count", counts.lines)?;
    let updated = to_i64("an update count", counts.updated)?;
    let unchanged = to_i64("an unchanged count", counts.unchanged)?;
    let failed = to_i64("a failure count", counts.failed)?;
    let tx = begin_write(client, scope).await?;
    let changed = tx
        .execute(
            "UPDATE runs SET finished_at = $1, lines = $2, updated = $3, unchanged = $4, \
             failed = $5, outcome = $6, outcome_detail = $7, epoch = $8 \
             WHERE id = $9 AND shop_id = $10",
            &[
                &at,
                &lines,
                &updated,
                &unchanged,
                &failed,
                &outcome,
                &detail,
                &scope.epoch,
                &id.0,
                &scope.shop_id,
            ],
        )
        .await
        .map_err(store_error)?;
    if changed == 0 {
        return Err(corrupt(format!("no run with id {}", id.0)));
    }
    tx.commit().await.map_err(store_error)
}

/// The newest runs first, at most `limit`.
pub(crate) async fn newest(
    client: &Client,
    scope: ShopScope,
    limit: usize,
) -> Result<Vec<RunRecord>, StoreError> {
    let limit = to_i64("a limit", limit)?;
    let rows = client
        .query(
            "SELECT id, kind, started_at, finished_at, lines, updated, unchanged, failed, \
             outcome, outcome_detail FROM runs WHERE shop_id = $1 ORDER BY id DESC LIMIT $2",
            &[&scope.shop_id, &limit],
        )
        .await
        .map_err(store_error)?;
    rows.iter().map(decode).collect()
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

fn decode(row: &Row) -> Result<RunRecord, StoreError> {
    let get_i64 =
        |index: usize| -> Result<i64, StoreError> { row.try_get(index).map_err(unreadable_row) };
    let id = get_i64(0)?;
    let kind: String = row.try_get(1).map_err(unreadable_row)?;
    let kind = match kind.as_str() {
        "sync" => RunKind::Sync,
        "reconcile" => RunKind::Reconcile,
        other => return Err(corrupt(format!("run {id}: unknown kind {other:?}"))),
    };
    let outcome: String = row.try_get(8).map_err(unreadable_row)?;
    let detail: Option<String> = row.try_get(9).map_err(unreadable_row)?;
    let outcome = match (outcome.as_str(), detail) {
        ("running", _) => RunOutcome::Running,
        ("succeeded", _) => RunOutcome::Succeeded,
        ("partly_failed", _) => RunOutcome::PartlyFailed,
        ("aborted", detail) => RunOutcome::Aborted(detail.unwrap_or_default()),
        (other, _) => return Err(corrupt(format!("run {id}: unknown outcome {other:?}"))),
    };
    let count = |index: usize| -> Result<u64, StoreError> {
        u64::try_from(get_i64(index)?).map_err(|_| corrupt(format!("run {id}: negative count")))
    };
    Ok(RunRecord {
        id: RunId(id),
        kind,
        started_at: row.try_get(2).map_err(unreadable_row)?,
        finished_at: row.try_get(3).map_err(unreadable_row)?,
        counts: RunCounts {
            lines: count(4)?,
            updated: count(5)?,
            unchanged: count(6)?,
            failed: count(7)?,
        },
        outcome,
    })
}
