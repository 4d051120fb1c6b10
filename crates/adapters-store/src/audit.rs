//! The audit log: one row per attempted (SKU, warehouse) write, written together with the
//! confirmed quantities it changes.

use rusqlite::{params, Connection, Params, TransactionBehavior};
use stockbridge_domain::{Quantity, SkuId};
use stockbridge_ports::rows::{self, AUDIT_COLUMNS};
use stockbridge_ports::{AuditEntry, AuditOutcome, StoreError};

use crate::confirmed;
use crate::error::{store_error, to_i64};
use crate::row::read_all;
use crate::time::to_millis;

/// Appends the entries and makes each applied entry's number the confirmed quantity of its
/// (SKU, warehouse), all in one transaction: after a crash or a refused row, either every
/// entry and every confirmed number is there, or none is.
pub(crate) fn record(conn: &mut Connection, entries: &[AuditEntry]) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(store_error)?;
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO audit_log (at, run_id, product_id, sku_id, seller_sku, \
                 warehouse_id, old, new, explanation, \"trigger\", outcome, code, message) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .map_err(store_error)?;
        for entry in entries {
            let at = to_millis(entry.at)?;
            let (outcome, code, message) = rows::audit_outcome_columns(&entry.outcome);
            insert
                .execute(params![
                    at,
                    entry.run_id.map(|run| run.0),
                    entry.product_id.as_str(),
                    entry.sku_id.as_str(),
                    entry.seller_sku,
                    entry.warehouse.as_str(),
                    entry.old.map(Quantity::get),
                    entry.new.get(),
                    entry.explanation,
                    entry.trigger.to_string(),
                    outcome,
                    code,
                    message,
                ])
                .map_err(store_error)?;
            if entry.outcome == AuditOutcome::Applied {
                confirmed::replace(&tx, &entry.sku_id, &entry.warehouse, entry.new, at)?;
            }
        }
    }
    tx.commit().map_err(store_error)
}

/// The newest entries first, at most `limit`.
pub(crate) fn newest(conn: &mut Connection, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
    let limit = to_i64("a limit", limit)?;
    select(
        conn,
        &format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY id DESC LIMIT ?1"),
        [limit],
    )
}

/// The newest entries of one SKU first, at most `limit`.
pub(crate) fn for_sku(
    conn: &mut Connection,
    sku: &SkuId,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let limit = to_i64("a limit", limit)?;
    select(
        conn,
        &format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE sku_id = ?1 ORDER BY id DESC LIMIT ?2"
        ),
        params![sku.as_str(), limit],
    )
}

fn select(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(store_error)?;
    read_all(&mut statement, params, |row| rows::audit_entry(row))
}
