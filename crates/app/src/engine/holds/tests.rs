use std::sync::Mutex as StdMutex;

use async_trait::async_trait;
use stockbridge_domain::{
    OrderLine, OrderStatus, ProductId, Quantity, Sku, SkuId, WarehouseId, WarehouseStock,
};
use stockbridge_ports::fakes::InMemoryStore;

use super::*;

/// TikTok's orders as a list the test edits; counts the searches.
#[derive(Default)]
struct Orders {
    tiktok: StdMutex<Vec<TikTokOrder>>,
    shopify: StdMutex<Vec<ShopifyOrderMarks>>,
    searches: StdMutex<usize>,
}

#[async_trait]
impl TikTokOrders for Orders {
    async fn orders_updated(
        &self,
        from: i64,
        until: Option<i64>,
    ) -> Result<Vec<TikTokOrder>, SinkError> {
        *self.searches.lock().unwrap() += 1;
        Ok(self
            .tiktok
            .lock()
            .unwrap()
            .iter()
            .filter(|o| o.update_time >= from && until.is_none_or(|u| o.update_time < u))
            .cloned()
            .collect())
    }
}

#[async_trait]
impl ShopifyOrders for Orders {
    async fn orders_created_since(&self, _: i64) -> Result<Vec<ShopifyOrderMarks>, SourceError> {
        Ok(self.shopify.lock().unwrap().clone())
    }
}

fn now_s() -> i64 {
    now_ms() / 1000
}

fn order(id: &str, status: OrderStatus, quantity: u64) -> TikTokOrder {
    TikTokOrder {
        id: OrderId::new(id).unwrap(),
        status,
        create_time: now_s(),
        update_time: now_s(),
        lines: vec![OrderLine {
            sku_id: SkuId::new("90011").unwrap(),
            seller_sku: Sku::parse_optional(Some("TEE")),
            warehouse: None,
            quantity,
        }],
    }
}

fn catalog() -> Vec<TikTokSku> {
    vec![TikTokSku {
        product_id: ProductId::new("9001").unwrap(),
        sku_id: SkuId::new("90011").unwrap(),
        seller_sku: "TEE".into(),
        stock: vec![WarehouseStock {
            warehouse: WarehouseId::new("7001").unwrap(),
            quantity: Quantity::ZERO,
        }],
    }]
}

async fn book(orders: &Arc<Orders>, store: &Arc<InMemoryStore>, max_hold: Duration) -> HoldBook {
    HoldBook::load(
        orders.clone(),
        orders.clone(),
        store.clone(),
        MatchField::ALL.to_vec(),
        max_hold,
    )
    .await
    .unwrap()
}

fn tee() -> stockbridge_domain::VariantSnapshot {
    stockbridge_domain::VariantSnapshot {
        variant_id: stockbridge_domain::VariantId::new(1).unwrap(),
        inventory_item_id: stockbridge_domain::InventoryItemId::new(1).unwrap(),
        sku: Sku::parse_optional(Some("TEE")),
        tracked: true,
        policy: stockbridge_domain::InventoryPolicy::Deny,
        product_status: stockbridge_domain::ProductStatus::Active,
        levels: Vec::new(),
        components: None,
    }
}

fn rules() -> stockbridge_domain::ResolvedRules {
    let locations = [stockbridge_domain::Location {
        id: stockbridge_domain::LocationId::new(1).unwrap(),
        name: "A".into(),
        active: true,
    }];
    let warehouses = [stockbridge_domain::Warehouse {
        id: WarehouseId::new("7001").unwrap(),
        name: "α".into(),
        kind: stockbridge_domain::WarehouseKind::Sales,
        status: stockbridge_domain::WarehouseStatus::Enabled,
        is_default: true,
    }];
    stockbridge_domain::resolve(&Default::default(), &locations, &warehouses).unwrap()
}

/// The units of TEE that `book` holds for levels read at `read_at`.
fn units(book: &HoldBook, read_at: SystemTime) -> u64 {
    book.holds(read_at, &catalog())
        .held(&tee(), &rules(), 0)
        .units
}

#[tokio::test]
async fn a_refresh_records_orders_that_hold_and_leaves_out_shipped_or_cancelled_ones() {
    let orders = Arc::new(Orders::default());
    *orders.tiktok.lock().unwrap() = vec![
        order("576001", OrderStatus::AwaitingShipment, 3),
        order("576002", OrderStatus::Cancelled, 5),
        order("576003", OrderStatus::InTransit, 7),
    ];
    let store = Arc::new(InMemoryStore::new());
    let book = book(&orders, &store, Duration::from_secs(3600)).await;
    let read = book.refresh().await.unwrap();
    assert_eq!((read.orders_read, read.holding), (3, 1));
    assert_eq!(units(&book, SystemTime::now()), 3);
    assert_eq!(
        store.orders().await.unwrap().len(),
        1,
        "only the holding order is kept"
    );
}

#[tokio::test]
async fn a_copy_ends_the_hold_for_levels_read_after_it_was_seen_and_not_before() {
    let orders = Arc::new(Orders::default());
    *orders.tiktok.lock().unwrap() = vec![order("576001", OrderStatus::AwaitingShipment, 3)];
    let store = Arc::new(InMemoryStore::new());
    let book = book(&orders, &store, Duration::from_secs(3600)).await;
    book.refresh().await.unwrap();
    let read_before_the_copy = SystemTime::now() - Duration::from_millis(1);
    *orders.shopify.lock().unwrap() = vec![ShopifyOrderMarks {
        tags: vec!["576001".into()],
        ..Default::default()
    }];
    book.refresh().await.unwrap();
    assert_eq!(
        units(&book, read_before_the_copy),
        3,
        "levels read before the copy"
    );
    assert_eq!(units(&book, SystemTime::now()), 0, "levels read after it");
    assert!(
        store.orders().await.unwrap()[0].copied_at_ms.is_some(),
        "saved"
    );
}

#[tokio::test]
async fn a_webhook_reads_an_unknown_order_and_a_cancellation_ends_a_known_one() {
    let orders = Arc::new(Orders::default());
    let store = Arc::new(InMemoryStore::new());
    let book = book(&orders, &store, Duration::from_secs(3600)).await;
    let placed = order("576001", OrderStatus::AwaitingShipment, 2);
    orders.tiktok.lock().unwrap().push(placed.clone());
    book.on_tiktok_change(&placed.id, placed.status, placed.update_time)
        .await
        .unwrap();
    assert_eq!(
        *orders.searches.lock().unwrap(),
        1,
        "searched for its lines"
    );
    assert_eq!(units(&book, SystemTime::now()), 2);

    // An older notification does not undo a newer status.
    book.on_tiktok_change(&placed.id, OrderStatus::Cancelled, placed.update_time + 10)
        .await
        .unwrap();
    book.on_tiktok_change(
        &placed.id,
        OrderStatus::AwaitingShipment,
        placed.update_time + 5,
    )
    .await
    .unwrap();
    assert_eq!(units(&book, SystemTime::now()), 0, "cancelled");
    assert_eq!(
        *orders.searches.lock().unwrap(),
        1,
        "a known order needs no search"
    );
}

#[tokio::test]
async fn holds_survive_a_restart_and_end_after_max_hold() {
    let orders = Arc::new(Orders::default());
    let mut old = order("576001", OrderStatus::AwaitingShipment, 4);
    old.create_time = now_s() - 120;
    *orders.tiktok.lock().unwrap() = vec![old];
    let store = Arc::new(InMemoryStore::new());
    book(&orders, &store, Duration::from_secs(3600))
        .await
        .refresh()
        .await
        .unwrap();
    let restarted = book(&orders, &store, Duration::from_secs(3600)).await;
    assert_eq!(
        units(&restarted, SystemTime::now()),
        4,
        "loaded from the store"
    );
    let short = book(&orders, &store, Duration::from_secs(60)).await;
    assert_eq!(
        units(&short, SystemTime::now()),
        0,
        "placed two minutes ago: past a max_hold of one minute"
    );
}
