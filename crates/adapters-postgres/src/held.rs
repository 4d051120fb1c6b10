//! Writes the mass-drop breaker holds (sync-rules.md §9), replaced whole by every full
//! reconciliation.

use stockbridge_ports::rows::{self, HELD_COLUMNS};
use stockbridge_ports::{HeldWrite, StoreError};
use tokio_postgres::Client;

use crate::error::store_error;
use crate::row::read_all;
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
    let found = client
        .query(
            &format!(
                "SELECT {HELD_COLUMNS} FROM held_writes WHERE shop_id = $1 \
                 ORDER BY sku_id, warehouse_id"
            ),
            &[&scope.shop_id],
        )
        .await
        .map_err(store_error)?;
    read_all(&found, |row| rows::held_write(row))
}
