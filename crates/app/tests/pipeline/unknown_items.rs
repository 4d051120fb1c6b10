//! A webhook naming thousands of items the last reconciliation did not know (a replayed or
//! forged `products/update`): they are not re-read one flush at a time; one reconciliation
//! reads them all.

use super::paused::{item, main_location, spawn, stores};
use super::*;
use stockbridge_app::engine::Change;
use stockbridge_ports::fakes::FaultySource;

#[tokio::test(start_paused = true)]
async fn many_unknown_items_in_a_webhook_cost_one_reconciliation_not_a_read_per_flush() {
    let (source, sink) = shop();
    let store = Arc::new(InMemoryStore::new());
    let reads = FaultySource::slow(source.clone(), Duration::ZERO);
    let mut p = spawn(stores(reads.clone(), sink.clone(), &store), options());
    p.until_ready().await;
    let started = p.count(|m| m.reconciles_ok.get());
    source.set_available(item(10), main_location(), 42);
    let flushed = reads.item_read_started.notified();
    let mut items: Vec<InventoryItemId> = (100_000..120_000).map(item).collect();
    items.push(item(10));
    p.send(Change::Items {
        items,
        hints: Vec::new(),
        topic: "products/update".into(),
        changed_at: SystemTime::now(),
        received: tokio::time::Instant::now(),
    });
    flushed.await;
    assert_eq!(
        reads.item_read_sizes(),
        [1],
        "only the known item was re-read"
    );
    assert_eq!(p.count(|m| m.reconciles_ok.get()) - started, 1);
    p.stop().await.unwrap();
    assert_eq!(held(&sink, "91"), Some(42));
}

#[tokio::test(start_paused = true)]
async fn a_few_unknown_items_are_re_read_like_known_ones() {
    let (source, sink) = shop();
    let store = Arc::new(InMemoryStore::new());
    let reads = FaultySource::slow(source.clone(), Duration::ZERO);
    let mut p = spawn(stores(reads.clone(), sink, &store), options());
    p.until_ready().await;
    let started = p.count(|m| m.reconciles_ok.get());
    let flushed = reads.item_read_started.notified();
    p.send(Change::Items {
        items: vec![item(100_000), item(100_001), item(10)],
        hints: Vec::new(),
        topic: "products/create".into(),
        changed_at: SystemTime::now(),
        received: tokio::time::Instant::now(),
    });
    flushed.await;
    assert_eq!(reads.item_read_sizes(), [3]);
    assert_eq!(
        p.count(|m| m.reconciles_ok.get()),
        started,
        "no reconciliation"
    );
    p.stop().await.unwrap();
}
