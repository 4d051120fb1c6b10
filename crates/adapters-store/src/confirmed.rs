//! Confirmed quantities: the last number TikTok accepted for each (SKU, warehouse).

use std::collections::BTreeSet;

use rusqlite::{params, Connection, Transaction};
use stockbridge_domain::{Quantity, SkuId, WarehouseId};
use stockbridge_ports::{ConfirmedQuantity, StoreError};

use crate::error::{corrupt, store_error};
use crate::time::from_millis;

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
            .prepare_cached(
                "SELECT sku_id, warehouse_id, quantity, confirmed_at FROM confirmed_quantities \
                 WHERE sku_id = ?1 ORDER BY warehouse_id",
            )
            .map_err(store_error)?;
        for sku in wanted {
            let rows = select
                .query_map([sku.as_str()], stored)
                .map_err(store_error)?;
            for row in rows {
                found.push(decode(row.map_err(store_error)?)?);
            }
        }
    }
    tx.commit().map_err(store_error)?;
    Ok(found)
}

/// Every confirmed quantity, by SKU then warehouse.
pub(crate) fn all(conn: &mut Connection) -> Result<Vec<ConfirmedQuantity>, StoreError> {
    let mut select = conn
        .prepare_cached(
            "SELECT sku_id, warehouse_id, quantity, confirmed_at FROM confirmed_quantities \
             ORDER BY sku_id, warehouse_id",
        )
        .map_err(store_error)?;
    let rows = select.query_map([], stored).map_err(store_error)?;
    rows.map(|row| decode(row.map_err(store_error)?)).collect()
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

type Stored = (String, String, i64, i64);

fn stored(row: &rusqlite::Row<'_>) -> rusqlite::Result<Stored> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
}

fn decode((sku, warehouse, quantity, at): Stored) -> Result<ConfirmedQuantity, StoreError> {
    let unreadable = |err: &dyn std::fmt::Display| {
        corrupt(format!(
            "confirmed quantity of SKU {sku:?} in warehouse {warehouse:?}: {err}"
        ))
    };
    Ok(ConfirmedQuantity {
        sku_id: SkuId::new(&sku).map_err(|e| unreadable(&e))?,
        warehouse: WarehouseId::new(&warehouse).map_err(|e| unreadable(&e))?,
        quantity: Quantity::new(quantity).map_err(|e| unreadable(&e))?,
        at: from_millis(at)?,
    })
}
