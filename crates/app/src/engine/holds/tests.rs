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
    /// The `from` of each search.
    froms: StdMutex<Vec<i64>>,
}

#[async_trait]
impl TikTokOrders for Orders {
    async fn orders_updated(
        &self,
        from: i64,
        until: Option<i64>,
    ) -> Result<Vec<TikTokOrder>, SinkError> {
        *self.searches.lock().unwrap() += 1;
        self.froms.lock().unwrap().push(from);
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

#[tokio::test]
async fn webhooks_naming_unknown_orders_in_a_burst_are_read_by_one_search() {
    let orders = Arc::new(Orders::default());
    let store = Arc::new(InMemoryStore::new());
    let book = Arc::new(book(&orders, &store, Duration::from_secs(3600)).await);
    let placed: Vec<TikTokOrder> = (0..20)
        .map(|i| {
            let mut o = order(&format!("5760{i:02}"), OrderStatus::AwaitingShipment, 1);
            o.update_time -= i64::from(i % 3);
            o
        })
        .collect();
    *orders.tiktok.lock().unwrap() = placed.clone();
    let oldest = placed.iter().map(|o| o.update_time).min().unwrap();
    let webhooks: Vec<_> = placed
        .iter()
        .map(|o| {
            let (book, o) = (book.clone(), o.clone());
            tokio::spawn(async move { book.on_tiktok_change(&o.id, o.status, o.update_time).await })
        })
        .collect();
    for webhook in webhooks {
        webhook.await.unwrap().unwrap();
    }
    assert_eq!(
        *orders.searches.lock().unwrap(),
        1,
        "one search for the 20 webhooks"
    );
    assert_eq!(
        orders.froms.lock().unwrap()[0],
        oldest - WEBHOOK_SEARCH_SLACK_SECONDS,
        "from the oldest webhook's update_time"
    );
    assert_eq!(units(&book, SystemTime::now()), 20, "every order holds");
    assert_eq!(book.figures().searches_webhook, 1);
    assert_eq!(
        (book.figures().held_orders, book.figures().held_units),
        (20, 20)
    );

    // Known now: their next webhooks need no search. A later unknown one makes one more.
    book.on_tiktok_change(
        &placed[0].id,
        OrderStatus::Cancelled,
        placed[0].update_time + 1,
    )
    .await
    .unwrap();
    let late = order("576100", OrderStatus::AwaitingShipment, 2);
    orders.tiktok.lock().unwrap().push(late.clone());
    book.on_tiktok_change(&late.id, late.status, late.update_time)
        .await
        .unwrap();
    assert_eq!(*orders.searches.lock().unwrap(), 2);
    assert_eq!(units(&book, SystemTime::now()), 19 + 2);
}

#[tokio::test]
async fn an_order_the_batch_search_does_not_find_is_read_by_the_next_refresh() {
    let orders = Arc::new(Orders::default());
    let store = Arc::new(InMemoryStore::new());
    let book = book(&orders, &store, Duration::from_secs(3600)).await;
    let lagging = order("576001", OrderStatus::AwaitingShipment, 3);
    book.on_tiktok_change(&lagging.id, lagging.status, lagging.update_time)
        .await
        .unwrap();
    assert_eq!(units(&book, SystemTime::now()), 0, "not found yet");
    orders.tiktok.lock().unwrap().push(lagging);
    book.refresh().await.unwrap();
    assert_eq!(units(&book, SystemTime::now()), 3);
    let figures = book.figures();
    assert_eq!(
        (
            figures.searches_webhook,
            figures.searches_refresh,
            figures.shopify_reads
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn settled_waits_until_the_orders_webhooks_named_are_in_the_ledger() {
    let orders = Arc::new(Orders::default());
    let store = Arc::new(InMemoryStore::new());
    let book = Arc::new(book(&orders, &store, Duration::from_secs(3600)).await);
    book.settled().await;
    let placed = order("576001", OrderStatus::AwaitingShipment, 2);
    orders.tiktok.lock().unwrap().push(placed.clone());
    let webhook = {
        let (book, placed) = (book.clone(), placed.clone());
        tokio::spawn(async move {
            book.on_tiktok_change(&placed.id, placed.status, placed.update_time)
                .await
        })
    };
    // The webhook is waiting for others to join its search.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(units(&book, SystemTime::now()), 0, "not read yet");
    book.settled().await;
    assert_eq!(
        units(&book, SystemTime::now()),
        2,
        "a computation after settled() holds the order"
    );
    webhook.await.unwrap().unwrap();
}
