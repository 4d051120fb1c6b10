//! The audit log and the confirmed quantities it sets: one row per attempted (SKU,
//! warehouse) write, written in the same transaction as the confirmed numbers it changes.

use stockbridge_domain::SkuId;
use stockbridge_ports::rows::{self, AUDIT_COLUMNS, CONFIRMED_COLUMNS};
use stockbridge_ports::{AuditEntry, AuditOutcome, ConfirmedQuantity, StoreError};
use tokio_postgres::Client;

use crate::error::{store_error, to_i64};
use crate::row::read_all;
use crate::store::{begin_write, ShopScope};

/// Appends the entries and makes each applied entry's number the confirmed quantity of its
/// (SKU, warehouse), all in one transaction.
pub(crate) async fn record(
    client: &mut Client,
    scope: ShopScope,
    entries: &[AuditEntry],
) -> Result<(), StoreError> {
    let tx = begin_write(client, scope).await?;
    let insert = tx
        .prepare(
            "INSERT INTO audit_log (shop_id, at, run_id, product_id, sku_id, seller_sku, \
             warehouse_id, old, new, explanation, \"trigger\", outcome, code, message, epoch) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .await
        .map_err(store_error)?;
    let confirm = tx
        .prepare(
            "INSERT INTO confirmed_quantities \
             (shop_id, sku_id, warehouse_id, quantity, confirmed_at, epoch) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (shop_id, sku_id, warehouse_id) DO UPDATE SET \
             quantity = excluded.quantity, confirmed_at = excluded.confirmed_at, \
             epoch = excluded.epoch",
        )
        .await
        .map_err(store_error)?;
    for entry in entries {
        let (outcome, code, message) = rows::audit_outcome_columns(&entry.outcome);
        tx.execute(
            &insert,
            &[
                &scope.shop_id,
                &entry.at,
                &entry.run_id.map(|run| run.0),
                &entry.product_id.as_str(),
                &entry.sku_id.as_str(),
                &entry.seller_sku,
                &entry.warehouse.as_str(),
                &entry.old.map(|q| i64::from(q.get())),
                &i64::from(entry.new.get()),
                &entry.explanation,
                &entry.trigger.to_string(),
                &outcome,
                &code,
                &message,
                &scope.epoch,
            ],
        )
        .await
        .map_err(store_error)?;
        if entry.outcome == AuditOutcome::Applied {
            tx.execute(
                &confirm,
                &[
                    &scope.shop_id,
                    &entry.sku_id.as_str(),
                    &entry.warehouse.as_str(),
                    &i64::from(entry.new.get()),
                    &entry.at,
                    &scope.epoch,
                ],
            )
            .await
            .map_err(store_error)?;
        }
    }
    tx.commit().await.map_err(store_error)
}

/// The newest entries first, at most `limit`.
pub(crate) async fn newest(
    client: &Client,
    scope: ShopScope,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let limit = to_i64("a limit", limit)?;
    let found = client
        .query(
            &format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE shop_id = $1 ORDER BY id DESC LIMIT $2"
            ),
            &[&scope.shop_id, &limit],
        )
        .await
        .map_err(store_error)?;
    read_all(&found, |row| rows::audit_entry(row))
}

/// The confirmed quantities of these SKUs, by SKU then warehouse.
pub(crate) async fn confirmed(
    client: &Client,
    scope: ShopScope,
    skus: &[SkuId],
) -> Result<Vec<ConfirmedQuantity>, StoreError> {
    let skus: Vec<&str> = skus.iter().map(SkuId::as_str).collect();
    let found = client
        .query(
            &format!(
                "SELECT {CONFIRMED_COLUMNS} FROM confirmed_quantities \
                 WHERE shop_id = $1 AND sku_id = ANY($2) ORDER BY sku_id, warehouse_id"
            ),
            &[&scope.shop_id, &skus],
        )
        .await
        .map_err(store_error)?;
    read_all(&found, |row| rows::confirmed_quantity(row))
}
