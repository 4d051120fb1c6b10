//! Confirmed quantities: the last number TikTok accepted for each (SKU, warehouse).

use std::collections::BTreeSet;

use rusqlite::{params, Connection, Transaction};
use stockbridge_domain::{Quantity, SkuId, WarehouseId};
use stockbridge_ports::rows::{self, CONFIRMED_COLUMNS};
use stockbridge_ports::{ConfirmedQuantity, StoreError};

use crate::error::store_error;
use crate::row::read_all;

/// The confirmed quantities of these SKUs, by SKU then warehouse, read in one snapshot.
pub(crate) fn for_skus(
    conn: &mut Connection,
    skus: &[SkuId],
) -> Result<Vec<ConfirmedQuantity>, StoreError> {
    let wanted: BTreeSet<&SkuId> = skus.iter().collect();
    let tx = conn.transaction().map_err(store_error)?;
    let mut found = Vec::new();
    {
        let mut select = tx
            .prepare_cached(&format!(
                "SELECT {CONFIRMED_COLUMNS} FROM confirmed_quantities \
                 WHERE sku_id = ?1 ORDER BY warehouse_id"
            ))
            .map_err(store_error)?;
        for sku in wanted {
            found.extend(read_all(&mut select, [sku.as_str()], |row| {
                rows::confirmed_quantity(row)
            })?);
        }
    }
    tx.commit().map_err(store_error)?;
    Ok(found)
}

/// Every confirmed quantity, by SKU then warehouse.
pub(crate) fn all(conn: &mut Connection) -> Result<Vec<ConfirmedQuantity>, StoreError> {
    let mut select = conn
        .prepare_cached(&format!(
            "SELECT {CONFIRMED_COLUMNS} FROM confirmed_quantities ORDER BY sku_id, warehouse_id"
        ))
        .map_err(store_error)?;
    read_all(&mut select, [], |row| rows::confirmed_quantity(row))
}

/// Makes `quantity` the confirmed number of (SKU, warehouse), inside the caller's transaction.
pub(crate) fn replace(
    tx: &Transaction<'_>,
    sku: &SkuId,
    warehouse: &WarehouseId,
    quantity: Quantity,
    at_millis: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO confirmed_quantities (sku_id, warehouse_id, quantity, confirmed_at) \
         VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (sku_id, warehouse_id) \
         DO UPDATE SET quantity = excluded.quantity, confirmed_at = excluded.confirmed_at",
    )
    .and_then(|mut upsert| {
        upsert.execute(params![
            sku.as_str(),
            warehouse.as_str(),
            quantity.get(),
            at_millis
        ])
    })
    .map(drop)
    .map_err(store_error)
}
