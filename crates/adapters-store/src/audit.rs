//! The audit log: one row per attempted (SKU, warehouse) write, written together with the
//! confirmed quantities it changes.

use rusqlite::{params, Connection, Params, TransactionBehavior};
use stockbridge_domain::{ProductId, Quantity, SkuId, WarehouseId};
use stockbridge_ports::{AuditEntry, AuditOutcome, RunId, StoreError, Trigger};

use crate::confirmed;
use crate::error::{corrupt, store_error, to_i64};
use crate::time::{from_millis, to_millis};

const COLUMNS: &str = "id, at, run_id, product_id, sku_id, seller_sku, warehouse_id, old, new, \
                       explanation, \"trigger\", outcome, code, message";

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
            let (outcome, code, message) = encode_outcome(&entry.outcome);
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
        &format!("SELECT {COLUMNS} FROM audit_log ORDER BY id DESC LIMIT ?1"),
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
        &format!("SELECT {COLUMNS} FROM audit_log WHERE sku_id = ?1 ORDER BY id DESC LIMIT ?2"),
        params![sku.as_str(), limit],
    )
}

fn select(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(store_error)?;
    let rows = statement.query_map(params, stored).map_err(store_error)?;
    rows.map(|row| decode(row.map_err(store_error)?)).collect()
}

fn encode_outcome(outcome: &AuditOutcome) -> (&'static str, Option<&str>, Option<&str>) {
    match outcome {
        AuditOutcome::Applied => ("applied", None, None),
        AuditOutcome::Rejected { code, message } => ("rejected", Some(code), Some(message)),
        AuditOutcome::Failed { message } => ("failed", None, Some(message)),
    }
}

/// An audit row as SQLite holds it.
struct Stored {
    id: i64,
    at: i64,
    run_id: Option<i64>,
    product_id: String,
    sku_id: String,
    seller_sku: String,
    warehouse_id: String,
    old: Option<i64>,
    new: i64,
    explanation: String,
    trigger: String,
    outcome: String,
    code: Option<String>,
    message: Option<String>,
}

fn stored(row: &rusqlite::Row<'_>) -> rusqlite::Result<Stored> {
    Ok(Stored {
        id: row.get(0)?,
        at: row.get(1)?,
        run_id: row.get(2)?,
        product_id: row.get(3)?,
        sku_id: row.get(4)?,
        seller_sku: row.get(5)?,
        warehouse_id: row.get(6)?,
        old: row.get(7)?,
        new: row.get(8)?,
        explanation: row.get(9)?,
        trigger: row.get(10)?,
        outcome: row.get(11)?,
        code: row.get(12)?,
        message: row.get(13)?,
    })
}

fn decode(row: Stored) -> Result<AuditEntry, StoreError> {
    let id = row.id;
    let unreadable = |err: &dyn std::fmt::Display| corrupt(format!("audit entry {id}: {err}"));
    let outcome = match (row.outcome.as_str(), row.code, row.message) {
        ("applied", _, _) => AuditOutcome::Applied,
        ("rejected", Some(code), Some(message)) => AuditOutcome::Rejected { code, message },
        ("failed", _, Some(message)) => AuditOutcome::Failed { message },
        (other, _, _) => {
            return Err(unreadable(&format_args!(
                "outcome {other:?} without its code or message"
            )))
        }
    };
    Ok(AuditEntry {
        at: from_millis(row.at)?,
        run_id: row.run_id.map(RunId),
        product_id: ProductId::new(&row.product_id).map_err(|e| unreadable(&e))?,
        sku_id: SkuId::new(&row.sku_id).map_err(|e| unreadable(&e))?,
        seller_sku: row.seller_sku,
        warehouse: WarehouseId::new(&row.warehouse_id).map_err(|e| unreadable(&e))?,
        old: row
            .old
            .map(Quantity::new)
            .transpose()
            .map_err(|e| unreadable(&e))?,
        new: Quantity::new(row.new).map_err(|e| unreadable(&e))?,
        explanation: row.explanation,
        trigger: Trigger::parse(&row.trigger)
            .ok_or_else(|| unreadable(&format_args!("unknown trigger {:?}", row.trigger)))?,
        outcome,
    })
}
