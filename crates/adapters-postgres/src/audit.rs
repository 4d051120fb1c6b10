//! The audit log and the confirmed quantities it sets: one row per attempted (SKU,
//! warehouse) write, written in the same transaction as the confirmed numbers it changes.

use stockbridge_domain::{ProductId, Quantity, SkuId, WarehouseId};
use stockbridge_ports::{AuditEntry, AuditOutcome, ConfirmedQuantity, RunId, StoreError, Trigger};
use tokio_postgres::{Client, Row};

use crate::error::{corrupt, store_error, to_i64};
use crate::store::{begin_write, ShopScope};

const COLUMNS: &str = "id, at, run_id, product_id, sku_id, seller_sku, warehouse_id, old, new, \
                       explanation, \"trigger\", outcome, code, message";

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
        let (outcome, code, message) = encode_outcome(&entry.outcome);
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
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM audit_log WHERE shop_id = $1 ORDER BY id DESC LIMIT $2"
            ),
            &[&scope.shop_id, &limit],
        )
        .await
        .map_err(store_error)?;
    rows.iter().map(decode).collect()
}

/// The confirmed quantities of these SKUs, by SKU then warehouse.
pub(crate) async fn confirmed(
    client: &Client,
    scope: ShopScope,
    skus: &[SkuId],
) -> Result<Vec<ConfirmedQuantity>, StoreError> {
    let skus: Vec<&str> = skus.iter().map(SkuId::as_str).collect();
    let rows = client
        .query(
            "SELECT sku_id, warehouse_id, quantity, confirmed_at FROM confirmed_quantities \
             WHERE shop_id = $1 AND sku_id = ANY($2) ORDER BY sku_id, warehouse_id",
            &[&scope.shop_id, &skus],
        )
        .await
        .map_err(store_error)?;
    rows.iter()
        .map(|row| {
            let sku: String = row.try_get(0).map_err(unreadable_row)?;
            let warehouse: String = row.try_get(1).map_err(unreadable_row)?;
            let unreadable = |err: &dyn std::fmt::Display| {
                corrupt(format!(
                    "confirmed quantity of SKU {sku:?} in warehouse {warehouse:?}: {err}"
                ))
            };
            Ok(ConfirmedQuantity {
                sku_id: SkuId::new(&sku).map_err(|e| unreadable(&e))?,
                warehouse: WarehouseId::new(&warehouse).map_err(|e| unreadable(&e))?,
                quantity: Quantity::new(row.try_get(2).map_err(unreadable_row)?)
                    .map_err(|e| unreadable(&e))?,
                at: row.try_get(3).map_err(unreadable_row)?,
            })
        })
        .collect()
}

/// A column that does not read back as its type.
pub(crate) fn unreadable_row(err: tokio_postgres::Error) -> StoreError {
    corrupt(err.to_string())
}

fn encode_outcome(outcome: &AuditOutcome) -> (&'static str, Option<&str>, Option<&str>) {
    match outcome {
        AuditOutcome::Applied => ("applied", None, None),
        AuditOutcome::Rejected { code, message } => ("rejected", Some(code), Some(message)),
        AuditOutcome::Failed { message } => ("failed", None, Some(message)),
    }
}

fn decode(row: &Row) -> Result<AuditEntry, StoreError> {
    let id: i64 = row.try_get(0).map_err(unreadable_row)?;
    let unreadable = |err: &dyn std::fmt::Display| corrupt(format!("audit entry {id}: {err}"));
    let text =
        |index: usize| -> Result<String, StoreError> { row.try_get(index).map_err(unreadable_row) };
    let outcome: String = text(11)?;
    let code: Option<String> = row.try_get(12).map_err(unreadable_row)?;
    let message: Option<String> = row.try_get(13).map_err(unreadable_row)?;
    let outcome = match (outcome.as_str(), code, message) {
        ("applied", _, _) => AuditOutcome::Applied,
        ("rejected", Some(code), Some(message)) => AuditOutcome::Rejected { code, message },
        ("failed", _, Some(message)) => AuditOutcome::Failed { message },
        (other, _, _) => {
            return Err(unreadable(&format_args!(
                "outcome {other:?} without its code or message"
            )))
        }
    };
    let trigger = text(10)?;
    let old: Option<i64> = row.try_get(7).map_err(unreadable_row)?;
    let run_id: Option<i64> = row.try_get(2).map_err(unreadable_row)?;
    Ok(AuditEntry {
        at: row.try_get(1).map_err(unreadable_row)?,
        run_id: run_id.map(RunId),
        product_id: ProductId::new(text(3)?).map_err(|e| unreadable(&e))?,
        sku_id: SkuId::new(text(4)?).map_err(|e| unreadable(&e))?,
        seller_sku: text(5)?,
        warehouse: WarehouseId::new(text(6)?).map_err(|e| unreadable(&e))?,
        old: old
            .map(Quantity::new)
            .transpose()
            .map_err(|e| unreadable(&e))?,
        new: Quantity::new(row.try_get(8).map_err(unreadable_row)?).map_err(|e| unreadable(&e))?,
        explanation: text(9)?,
        trigger: Trigger::parse(&trigger)
            .ok_or_else(|| unreadable(&format_args!("unknown trigger {trigger:?}")))?,
        outcome,
    })
}
