//! The ledger of TikTok orders in flight (sync-rules.md §7), per shop: one row per order, one
//! per line, as the SQLite store keeps them.

use stockbridge_domain::{
    HeldOrder, OrderId, OrderLine, OrderStatus, Sku, SkuId, TikTokOrder, WarehouseId,
};
use stockbridge_ports::StoreError;
use tokio_postgres::Client;

use crate::error::{corrupt, store_error};
use crate::row::unreadable_row;
use crate::store::{begin_write, ShopScope};

/// Saves each order whole (its lines replaced), all in one transaction.
pub(crate) async fn save(
    client: &mut Client,
    scope: ShopScope,
    orders: &[HeldOrder],
) -> Result<(), StoreError> {
    let tx = begin_write(client, scope).await?;
    for held in orders {
        let order = &held.order;
        tx.execute(
            "INSERT INTO held_orders (shop_id, order_id, status, create_time, update_time, \
             first_seen_ms, copied_at_ms, epoch) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (shop_id, order_id) DO UPDATE SET status = excluded.status, \
             create_time = excluded.create_time, update_time = excluded.update_time, \
             first_seen_ms = excluded.first_seen_ms, copied_at_ms = excluded.copied_at_ms, \
             epoch = excluded.epoch",
            &[
                &scope.shop_id,
                &order.id.as_str(),
                &order.status.as_str(),
                &order.create_time,
                &order.update_time,
                &held.first_seen_ms,
                &held.copied_at_ms,
                &scope.epoch,
            ],
        )
        .await
        .map_err(store_error)?;
        tx.execute(
            "DELETE FROM held_order_lines WHERE shop_id = $1 AND order_id = $2",
            &[&scope.shop_id, &order.id.as_str()],
        )
        .await
        .map_err(store_error)?;
        for (i, line) in order.lines.iter().enumerate() {
            let quantity = i64::try_from(line.quantity)
                .map_err(|_| corrupt(format!("order line quantity {}", line.quantity)))?;
            tx.execute(
                "INSERT INTO held_order_lines (shop_id, order_id, line, sku_id, seller_sku, \
                 warehouse_id, quantity, epoch) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &scope.shop_id,
                    &order.id.as_str(),
                    &(i as i64),
                    &line.sku_id.as_str(),
                    &line.seller_sku.as_ref().map(Sku::as_str),
                    &line.warehouse.as_ref().map(WarehouseId::as_str),
                    &quantity,
                    &scope.epoch,
                ],
            )
            .await
            .map_err(store_error)?;
        }
    }
    tx.commit().await.map_err(store_error)
}

/// The shop's orders, first seen first.
pub(crate) async fn load(client: &Client, scope: ShopScope) -> Result<Vec<HeldOrder>, StoreError> {
    let orders = client
        .query(
            "SELECT order_id, status, create_time, update_time, first_seen_ms, copied_at_ms \
             FROM held_orders WHERE shop_id = $1 ORDER BY first_seen_ms, order_id",
            &[&scope.shop_id],
        )
        .await
        .map_err(store_error)?;
    let lines = client
        .query(
            "SELECT order_id, sku_id, seller_sku, warehouse_id, quantity FROM held_order_lines \
             WHERE shop_id = $1 ORDER BY order_id, line",
            &[&scope.shop_id],
        )
        .await
        .map_err(store_error)?;
    let unreadable = |e: &dyn std::fmt::Display| corrupt(format!("held order: {e}"));
    let mut out = Vec::with_capacity(orders.len());
    for row in &orders {
        let id: String = row.try_get(0).map_err(unreadable_row)?;
        let status: String = row.try_get(1).map_err(unreadable_row)?;
        let mut order_lines = Vec::new();
        for line in lines.iter() {
            let of: String = line.try_get(0).map_err(unreadable_row)?;
            if of != id {
                continue;
            }
            let sku_id: String = line.try_get(1).map_err(unreadable_row)?;
            let seller_sku: Option<String> = line.try_get(2).map_err(unreadable_row)?;
            let warehouse: Option<String> = line.try_get(3).map_err(unreadable_row)?;
            let quantity: i64 = line.try_get(4).map_err(unreadable_row)?;
            order_lines.push(OrderLine {
                sku_id: SkuId::new(sku_id).map_err(|e| unreadable(&e))?,
                seller_sku: Sku::parse_optional(seller_sku.as_deref()),
                warehouse: warehouse
                    .map(WarehouseId::new)
                    .transpose()
                    .map_err(|e| unreadable(&e))?,
                quantity: u64::try_from(quantity).map_err(|e| unreadable(&e))?,
            });
        }
        out.push(HeldOrder {
            order: TikTokOrder {
                id: OrderId::new(&id).map_err(|e| unreadable(&e))?,
                status: OrderStatus::parse(&status),
                create_time: row.try_get(2).map_err(unreadable_row)?,
                update_time: row.try_get(3).map_err(unreadable_row)?,
                lines: order_lines,
            },
            first_seen_ms: row.try_get(4).map_err(unreadable_row)?,
            copied_at_ms: row.try_get(5).map_err(unreadable_row)?,
        });
    }
    Ok(out)
}

/// Forgets the shop's orders first seen before `before_ms`, with their lines.
pub(crate) async fn forget_before(
    client: &mut Client,
    scope: ShopScope,
    before_ms: i64,
) -> Result<u64, StoreError> {
    let tx = begin_write(client, scope).await?;
    tx.execute(
        "DELETE FROM held_order_lines WHERE shop_id = $1 AND order_id IN \
         (SELECT order_id FROM held_orders WHERE shop_id = $1 AND first_seen_ms < $2)",
        &[&scope.shop_id, &before_ms],
    )
    .await
    .map_err(store_error)?;
    let gone = tx
        .execute(
            "DELETE FROM held_orders WHERE shop_id = $1 AND first_seen_ms < $2",
            &[&scope.shop_id, &before_ms],
        )
        .await
        .map_err(store_error)?;
    tx.commit().await.map_err(store_error)?;
    Ok(gone)
}
