//! Order search (`POST /order/202309/orders/search`) by `update_time`, every page, for the
//! hold on units sold on TikTok that Shopify does not know yet (sync-rules.md §7).

use std::collections::BTreeMap;

use async_trait::async_trait;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use stockbridge_domain::{OrderId, OrderLine, OrderStatus, Sku, SkuId, TikTokOrder, WarehouseId};
use stockbridge_ports::{SinkError, TikTokOrders};

use crate::sink::TikTokSink;

const ORDER_SEARCH_PATH: &str = "/order/202309/orders/search";
/// The largest page TikTok serves.
const ORDER_PAGE_SIZE: u32 = 100;

#[derive(Serialize)]
struct OrderSearchBody {
    update_time_ge: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_time_lt: Option<i64>,
}

#[derive(Deserialize)]
struct OrderSearchData {
    #[serde(default)]
    orders: Vec<WireOrder>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct WireOrder {
    id: String,
    status: String,
    #[serde(default)]
    create_time: i64,
    #[serde(default)]
    update_time: i64,
    #[serde(default)]
    warehouse_id: Option<String>,
    #[serde(default)]
    line_items: Vec<WireLineItem>,
}

#[derive(Deserialize)]
struct WireLineItem {
    sku_id: String,
    #[serde(default)]
    seller_sku: Option<String>,
    /// Absent on TikTok's one-unit line items.
    #[serde(default)]
    quantity: Option<u64>,
    #[serde(default)]
    warehouse_id: Option<String>,
}

impl WireOrder {
    /// The order with its one-unit line items added up per (SKU, warehouse).
    fn into_domain(self) -> Result<TikTokOrder, SinkError> {
        let bad = |what: String| SinkError::Rejected {
            code: "invalid_answer".to_owned(),
            message: what,
        };
        let id = OrderId::new(&self.id).map_err(|e| bad(e.to_string()))?;
        let mut lines: BTreeMap<(String, Option<String>), OrderLine> = BTreeMap::new();
        for item in self.line_items {
            let sku_id = SkuId::new(&item.sku_id).map_err(|e| bad(format!("order {id}: {e}")))?;
            let warehouse = item
                .warehouse_id
                .or_else(|| self.warehouse_id.clone())
                .filter(|w| !w.trim().is_empty());
            let line = lines
                .entry((item.sku_id.clone(), warehouse.clone()))
                .or_insert_with(|| OrderLine {
                    sku_id,
                    seller_sku: Sku::parse_optional(item.seller_sku.as_deref()),
                    warehouse: warehouse.and_then(|w| WarehouseId::new(w).ok()),
                    quantity: 0,
                });
            line.quantity = line.quantity.saturating_add(item.quantity.unwrap_or(1));
        }
        Ok(TikTokOrder {
            id,
            status: OrderStatus::parse(&self.status),
            create_time: self.create_time,
            update_time: self.update_time,
            lines: lines.into_values().collect(),
        })
    }
}

#[async_trait]
impl TikTokOrders for TikTokSink {
    async fn orders_updated(
        &self,
        from: i64,
        until: Option<i64>,
    ) -> Result<Vec<TikTokOrder>, SinkError> {
        let body = serde_json::to_vec(&OrderSearchBody {
            update_time_ge: from,
            update_time_lt: until,
        })
        .map_err(|e| SinkError::Other(Box::new(e)))?;
        let mut orders: BTreeMap<String, TikTokOrder> = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            let cipher = self.cipher().await?;
            let mut req = self.shop_request(Method::POST, ORDER_SEARCH_PATH, cipher);
            req.query.push(("page_size", ORDER_PAGE_SIZE.to_string()));
            req.query.push(("sort_field", "update_time".to_owned()));
            req.query.push(("sort_order", "ASC".to_owned()));
            if let Some(token) = &token {
                req.query.push(("page_token", token.clone()));
            }
            req.body = Some(body.clone());
            let data: OrderSearchData = self.client.call(&req).await?;
            for order in data.orders {
                let order = order.into_domain()?;
                // An order updated during the read may come twice: keep the newest reading.
                match orders.get(order.id.as_str()) {
                    Some(seen) if seen.update_time > order.update_time => {}
                    _ => {
                        orders.insert(order.id.as_str().to_owned(), order);
                    }
                }
            }
            match data.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) if Some(&next) != token.as_ref() => token = Some(next),
                _ => break,
            }
        }
        Ok(orders.into_values().collect())
    }
}
