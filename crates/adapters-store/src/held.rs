//! Writes the mass-drop breaker holds (sync-rules.md §9), replaced whole by every full
//! reconciliation.

use rusqlite::{params, Connection, TransactionBehavior};
use stockbridge_ports::rows::{self, HELD_COLUMNS};
use stockbridge_ports::{HeldWrite, StoreError};

use crate::error::store_error;
use crate::row::read_all;
use crate::time::to_millis;

/// Replaces the held writes with `held`, in one transaction.
pub(crate) fn replace(conn: &mut Connection, held: &[HeldWrite]) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(store_error)?;
    tx.execute("DELETE FROM held_writes", [])
        .map_err(store_error)?;
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO held_writes (sku_id, warehouse_id, held_at, run_id, product_id, \
                 seller_sku, old, explanation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(store_error)?;
        for h in held {
            insert
                .execute(params![
                    h.sku_id.as_str(),
                    h.warehouse.as_str(),
                    to_millis(h.at)?,
                    h.run_id.map(|r| r.0),
                    h.product_id.as_str(),
                    h.seller_sku,
                    h.old.get(),
                    h.explanation,
                ])
                .map_err(store_error)?;
        }
    }
    tx.commit().map_err(store_error)
}

/// Every held write, by SKU id then warehouse.
pub(crate) fn all(conn: &mut Connection) -> Result<Vec<HeldWrite>, StoreError> {
    let mut select = conn
        .prepare_cached(&format!(
            "SELECT {HELD_COLUMNS} FROM held_writes ORDER BY sku_id, warehouse_id"
        ))
        .map_err(store_error)?;
    read_all(&mut select, [], |row| rows::held_write(row))
}
