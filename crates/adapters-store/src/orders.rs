//! The ledger of TikTok orders in flight (sync-rules.md §7): one row per order, one per line.

use rusqlite::{params, Connection, TransactionBehavior};
use stockbridge_domain::{
    HeldOrder, OrderId, OrderLine, OrderStatus, Sku, SkuId, TikTokOrder, WarehouseId,
};
use stockbridge_ports::StoreError;

use crate::error::{corrupt, store_error};

/// Saves each order whole (its lines replaced), all in one transaction.
pub(crate) fn save(conn: &mut Connection, orders: &[HeldOrder]) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(store_error)?;
    for held in orders {
        let order = &held.order;
        tx.prepare_cached(
            "INSERT INTO held_orders \
             (order_id, status, create_time, update_time, first_seen_ms, copied_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, \
             create_time = excluded.create_time, update_time = excluded.update_time, \
             first_seen_ms = excluded.first_seen_ms, copied_at_ms = excluded.copied_at_ms",
        )
        .and_then(|mut upsert| {
            upsert.execute(params![
                order.id.as_str(),
                order.status.as_str(),
                order.create_time,
                order.update_time,
                held.first_seen_ms,
                held.copied_at_ms,
            ])
        })
        .map_err(store_error)?;
        tx.execute(
            "DELETE FROM held_order_lines WHERE order_id = ?1",
            [order.id.as_str()],
        )
        .map_err(store_error)?;
        for (i, line) in order.lines.iter().enumerate() {
            let quantity = i64::try_from(line.quantity)
                .map_err(|_| corrupt(format!("order line quantity {}", line.quantity)))?;
            tx.prepare_cached(
                "INSERT INTO held_order_lines \
                 (order_id, line, sku_id, seller_sku, warehouse_id, quantity) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut insert| {
                insert.execute(params![
                    order.id.as_str(),
                    i as i64,
                    line.sku_id.as_str(),
                    line.seller_sku.as_ref().map(Sku::as_str),
                    line.warehouse.as_ref().map(WarehouseId::as_str),
                    quantity,
                ])
            })
            .map_err(store_error)?;
        }
    }
    tx.commit().map_err(store_error)
}

type OrderRow = (String, String, i64, i64, i64, Option<i64>);
type LineRow = (String, String, Option<String>, Option<String>, i64);

/// Every order, first seen first.
pub(crate) fn load(conn: &mut Connection) -> Result<Vec<HeldOrder>, StoreError> {
    let orders: Vec<OrderRow> = select_all(
        conn,
        "SELECT order_id, status, create_time, update_time, first_seen_ms, copied_at_ms \
         FROM held_orders ORDER BY first_seen_ms, order_id",
    )?;
    let lines: Vec<LineRow> = select_all(
        conn,
        "SELECT order_id, sku_id, seller_sku, warehouse_id, quantity \
         FROM held_order_lines ORDER BY order_id, line",
    )?;
    orders
        .into_iter()
        .map(
            |(id, status, create_time, update_time, first_seen_ms, copied_at_ms)| {
                let lines = lines
                    .iter()
                    .filter(|l| l.0 == id)
                    .map(|(_, sku_id, seller_sku, warehouse, quantity)| {
                        Ok(OrderLine {
                            sku_id: SkuId::new(sku_id).map_err(|e| corrupt(e.to_string()))?,
                            seller_sku: Sku::parse_optional(seller_sku.as_deref()),
                            warehouse: warehouse
                                .as_deref()
                                .map(WarehouseId::new)
                                .transpose()
                                .map_err(|e| corrupt(e.to_string()))?,
                            quantity: u64::try_from(*quantity)
                                .map_err(|_| corrupt(format!("order line quantity {quantity}")))?,
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?;
                Ok(HeldOrder {
                    order: TikTokOrder {
                        id: OrderId::new(&id).map_err(|e| corrupt(e.to_string()))?,
                        status: OrderStatus::parse(&status),
                        create_time,
                        update_time,
                        lines,
                    },
                    first_seen_ms,
                    copied_at_ms,
                })
            },
        )
        .collect()
}

/// Every row `sql` selects, each read as the tuple `T` of its columns.
fn select_all<T>(conn: &Connection, sql: &str) -> Result<Vec<T>, StoreError>
where
    T: for<'a> TryFrom<&'a rusqlite::Row<'a>, Error = rusqlite::Error>,
{
    conn.prepare_cached(sql)
        .and_then(|mut select| select.query_map([], |row| T::try_from(row))?.collect())
        .map_err(store_error)
}

/// Forgets the orders first seen before `before_ms`, with their lines.
pub(crate) fn forget_before(conn: &mut Connection, before_ms: i64) -> Result<u64, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(store_error)?;
    tx.execute(
        "DELETE FROM held_order_lines WHERE order_id IN \
         (SELECT order_id FROM held_orders WHERE first_seen_ms < ?1)",
        [before_ms],
    )
    .map_err(store_error)?;
    let gone = tx
        .execute(
            "DELETE FROM held_orders WHERE first_seen_ms < ?1",
            [before_ms],
        )
        .map_err(store_error)?;
    tx.commit().map_err(store_error)?;
    Ok(gone as u64)
}
