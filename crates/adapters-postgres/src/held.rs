//! Writes the mass-drop breaker holds (sync-rules.md §9), replaced whole by every full
//! reconciliation.

use stockbridge_domain::{ProductId, Quantity, SkuId, WarehouseId};
use stockbridge_ports::{HeldWrite, RunId, StoreError};
use tokio_postgres::Client;

use crate::audit::unreadable_row;
use crate::error::{corrupt, store_error};
use crate::store::{begin_write, ShopScope};

/// Replaces the shop's held writes with `held`, in one transaction.
pub(crate) async fn replace(
    client: &mut Client,
    scope: ShopScope,
    held: &[HeldWrite],
) -> Result<(), StoreError> {
    let tx = begin_write(client, scope).await?;
    tx.execute(
        "DELETE FROM held_writes WHERE shop_id = $1",
        &[&scope.shop_id],
    )
    .await
    .map_err(store_error)?;
    let insert = tx
        .prepare(
            "INSERT INTO held_writes (shop_id, sku_id, warehouse_id, held_at, run_id, \
             product_id, seller_sku, old, explanation, epoch) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .await
        .map_err(store_error)?;
    for h in held {
        tx.execute(
            &insert,
            &[
                &scope.shop_id,
                &h.sku_id.as_str(),
                &h.warehouse.as_str(),
                &h.at,
                &h.run_id.map(|r| r.0),
                &h.product_id.as_str(),
                &h.seller_sku,
                &i64::from(h.old.get()),
                &h.explanation,
                &scope.epoch,
            ],
        )
        .await
        .map_err(store_error)?;
    }
    tx.commit().await.map_err(store_error)
}

/// The shop's held writes, by SKU id then warehouse.
pub(crate) async fn all(client: &Client, scope: ShopScope) -> Result<Vec<HeldWrite>, StoreError> {
    let rows = client
        .query(
            "SELECT sku_id, warehouse_id, held_at, run_id, product_id, seller_sku, old, \
             explanation FROM held_writes WHERE shop_id = $1 ORDER BY sku_id, warehouse_id",
            &[&scope.shop_id],
        )
        .await
        .map_err(store_error)?;
    rows.iter()
        .map(|row| {
            let text = |index: usize| -> Result<String, StoreError> {
                row.try_get(index).map_err(unreadable_row)
            };
            let (sku, warehouse) = (text(0)?, text(1)?);
            let unreadable = |err: &dyn std::fmt::Display| {
                corrupt(format!(
                    "held write of SKU {sku:?} in warehouse {warehouse:?}: {err}"
                ))
            };
            let run_id: Option<i64> = row.try_get(3).map_err(unreadable_row)?;
            Ok(HeldWrite {
                at: row.try_get(2).map_err(unreadable_row)?,
                run_id: run_id.map(RunId),
                product_id: ProductId::new(text(4)?).map_err(|e| unreadable(&e))?,
                sku_id: SkuId::new(&sku).map_err(|e| unreadable(&e))?,
                seller_sku: text(5)?,
                warehouse: WarehouseId::new(&warehouse).map_err(|e| unreadable(&e))?,
                old: Quantity::new(row.try_get(6).map_err(unreadable_row)?)
                    .map_err(|e| unreadable(&e))?,
                explanation: text(7)?,
            })
        })
        .collect()
}
