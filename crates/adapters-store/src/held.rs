//! Writes the mass-drop breaker holds (sync-rules.md §9), replaced whole by every full
//! reconciliation.

use rusqlite::{params, Connection, TransactionBehavior};
use stockbridge_domain::{ProductId, Quantity, SkuId, WarehouseId};
use stockbridge_ports::{HeldWrite, RunId, StoreError};

use crate::error::{corrupt, store_error};
use crate::time::{from_millis, to_millis};

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
        .prepare_cached(
            "SELECT sku_id, warehouse_id, held_at, run_id, product_id, seller_sku, old, \
             explanation FROM held_writes ORDER BY sku_id, warehouse_id",
        )
        .map_err(store_error)?;
    let rows = select
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, i64>(6)?,
                row.get::<_, String>(7)?,
            ))
        })
        .map_err(store_error)?;
    rows.map(|row| {
        let (sku, warehouse, at, run_id, product, seller_sku, old, explanation) =
            row.map_err(store_error)?;
        let unreadable = |err: &dyn std::fmt::Display| {
            corrupt(format!(
                "held write of SKU {sku:?} in warehouse {warehouse:?}: {err}"
            ))
        };
        Ok(HeldWrite {
            at: from_millis(at)?,
            run_id: run_id.map(RunId),
            product_id: ProductId::new(&product).map_err(|e| unreadable(&e))?,
            sku_id: SkuId::new(&sku).map_err(|e| unreadable(&e))?,
            seller_sku,
            warehouse: WarehouseId::new(&warehouse).map_err(|e| unreadable(&e))?,
            old: Quantity::new(old).map_err(|e| unreadable(&e))?,
            explanation,
        })
    })
    .collect()
}
