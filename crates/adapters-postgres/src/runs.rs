//! Runs: each `sync` or reconciliation, from start to outcome.

use std::time::SystemTime;

use stockbridge_ports::rows::{self, RUN_COLUMNS};
use stockbridge_ports::{RunEnd, RunId, RunKind, RunRecord, StoreError};
use tokio_postgres::Client;

use crate::error::{corrupt, store_error, to_i64};
use crate::row::read_all;
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
            &[
                &scope.shop_id,
                &rows::run_kind_column(kind),
                &at,
                &scope.epoch,
            ],
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
    end: &RunEnd,
) -> Result<(), StoreError> {
    let RunEnd {
        at,
        counts,
        outcome,
    } = end;
    let (outcome, detail) = rows::run_outcome_columns(outcome);
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
    let found = client
        .query(
            &format!("SELECT {RUN_COLUMNS} FROM runs WHERE shop_id = $1 ORDER BY id DESC LIMIT $2"),
            &[&scope.shop_id, &limit],
        )
        .await
        .map_err(store_error)?;
    read_all(&found, |row| rows::run_record(row))
}
