//! Orders on both sides: TikTok orders with their status, and Shopify orders (some of them
//! copies of TikTok orders). Also what the oversold counter needs: which TikTok orders
//! Shopify does not know yet.

use crate::clock;
use crate::fixture::{ShopifyOrder, TikTokOrder, TikTokOrderStatus};

/// The first id of an order created through the control API (TikTok ids are long digits).
const FIRST_TIKTOK_ORDER_ID: u64 = 576_000_000_000_000_001;
/// The first Shopify order id the control API gives out when the fixture has none above it.
const FIRST_SHOPIFY_ORDER_ID: u64 = 820_000_000_001;

pub(crate) struct OrderBook {
    tiktok: Vec<TikTokOrder>,
    shopify: Vec<ShopifyOrder>,
    next_tiktok: u64,
    next_shopify: u64,
}

impl OrderBook {
    pub(crate) fn new(
        shopify: Vec<ShopifyOrder>,
        mut tiktok: Vec<TikTokOrder>,
        now_millis: i64,
    ) -> OrderBook {
        let now = now_millis / 1000;
        let started = clock::rfc3339_seconds(now);
        let mut shopify = shopify;
        for order in &mut shopify {
            order.created_at.get_or_insert_with(|| started.clone());
        }
        for order in &mut tiktok {
            let created = *order.create_time.get_or_insert(now);
            order.update_time.get_or_insert(created);
        }
        let next_shopify = shopify
            .iter()
            .map(|o| o.id + 1)
            .max()
            .unwrap_or(0)
            .max(FIRST_SHOPIFY_ORDER_ID);
        OrderBook {
            tiktok,
            shopify,
            next_tiktok: FIRST_TIKTOK_ORDER_ID,
            next_shopify,
        }
    }

    pub(crate) fn tiktok_orders(&self) -> &[TikTokOrder] {
        &self.tiktok
    }

    pub(crate) fn shopify_orders(&self) -> &[ShopifyOrder] {
        &self.shopify
    }

    pub(crate) fn tiktok_order(&self, id: &str) -> Option<&TikTokOrder> {
        self.tiktok.iter().find(|o| o.id == id)
    }

    pub(crate) fn tiktok_order_mut(&mut self, id: &str) -> Option<&mut TikTokOrder> {
        self.tiktok.iter_mut().find(|o| o.id == id)
    }

    /// A fresh TikTok order id no order has.
    pub(crate) fn new_tiktok_id(&mut self) -> String {
        loop {
            let id = self.next_tiktok.to_string();
            self.next_tiktok += 1;
            if self.tiktok_order(&id).is_none() {
                return id;
            }
        }
    }

    pub(crate) fn add_tiktok(&mut self, order: TikTokOrder) {
        self.tiktok.push(order);
    }

    /// Adds a Shopify order, giving it the next free id.
    pub(crate) fn add_shopify(&mut self, mut order: ShopifyOrder) -> &ShopifyOrder {
        order.id = self.next_shopify;
        self.next_shopify += 1;
        self.shopify.push(order);
        self.shopify.last().expect("just pushed")
    }

    /// Whether a Shopify order carries this TikTok order's id.
    pub(crate) fn copied(&self, tiktok_order_id: &str) -> bool {
        self.shopify.iter().any(|o| o.carries(tiktok_order_id))
    }

    /// Units of `seller_sku` in TikTok orders that still take stock and that Shopify does not
    /// know yet.
    pub(crate) fn pending_units(&self, seller_sku: &str) -> u64 {
        self.tiktok
            .iter()
            .filter(|o| o.status.takes_stock() && !self.copied(&o.id))
            .flat_map(|o| o.lines.iter())
            .filter(|l| l.seller_sku == seller_sku)
            .map(|l| l.quantity)
            .sum()
    }
}

/// Whether a status change takes units back into TikTok's stock (`true`) or out of it.
pub(crate) fn stock_moves(from: TikTokOrderStatus, to: TikTokOrderStatus) -> Option<bool> {
    match (from.takes_stock(), to.takes_stock()) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}
