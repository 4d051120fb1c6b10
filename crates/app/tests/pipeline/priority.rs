//! How the pipeline works through a backlog that Shopify's rate limit made: an item a webhook
//! says fell goes first, each re-read is bounded, the rest follows at once, and the number
//! written is always the one re-read, whatever the webhook said.

use stockbridge_ports::InventorySink;
use tokio::time::Instant as Virtual;

use super::paused::{item, main_location, spawn, stores, until};
use super::*;
use stockbridge_ports::fakes::FaultySource;

/// Shopify with `n` items (variant k: item 10k, SKU `Sk`, 20 available at Main); TikTok with
/// one product per SKU (SKU id 100 + k), at zero until the start-up reconcile.
fn shop_of(n: u64) -> (Arc<InMemorySource>, Arc<InMemorySink>) {
    let source = Arc::new(InMemorySource::new(
        vec![shop::location(1, "Main")],
        (1..=n).map(|k| variant(k, &format!("S{k}"), 20)).collect(),
    ));
    let sink = Arc::new(InMemorySink::new(
        vec![alpha()],
        (1..=n)
            .map(|k| {
                tiktok(
                    &(9000 + k).to_string(),
                    &(100 + k).to_string(),
                    &format!("S{k}"),
                )
            })
            .collect(),
    ));
    (source, sink)
}

/// What TikTok holds for variant k.
fn holds(sink: &InMemorySink, k: u64) -> Option<u32> {
    held(sink, &(100 + k).to_string())
}

/// Sets variant k's `available` at Main in Shopify.
fn set(source: &InMemorySource, k: u64, available: i64) {
    source.set_available(item(10 * k), main_location(), available);
}

#[tokio::test(start_paused = true)]
async fn a_fall_arriving_behind_a_backlog_of_rises_is_written_before_the_backlog_drains() {
    let (source, sink) = shop_of(31);
    let store = Arc::new(InMemoryStore::new());
    // Each re-read takes a second, as when Shopify's bucket is empty.
    let slow = FaultySource::slow(source.clone(), Duration::from_secs(1));
    let mut options = options();
    options.max_items_per_flush = 5;
    let sink_ports: Arc<dyn InventorySink> = sink.clone();
    let mut p = spawn(stores(slow.clone(), sink_ports, &store), options);
    p.until_ready().await;
    for k in 1..=31 {
        set(&source, k, 50 + k as i64);
        p.level(10 * k, 50 + k as i64);
    }
    // The first flush is reading; variant 31, last in the queue, falls to 45: above what the
    // reconcile read (20), below what its last webhook said (81).
    slow.item_read_started.notified().await;
    set(&source, 31, 45);
    p.level(310, 45);
    assert!(
        until(Duration::from_secs(60), || holds(&sink, 31) == Some(45)).await,
        "the fall was written; TikTok holds {:?}",
        holds(&sink, 31)
    );
    let rises_written = (1..=30)
        .filter(|&k| holds(&sink, k) == Some(50 + k as u32))
        .count();
    assert!(
        rises_written <= 5,
        "the fall waited for the flush under way only, not for {rises_written} rises"
    );
    assert!(
        until(Duration::from_secs(60), || (1..=30).all(|k| holds(
            &sink, k
        ) == Some(
            50 + k as u32
        )))
        .await,
        "every rise was written after it"
    );
    let sizes = slow.item_read_sizes();
    assert!(sizes.iter().all(|&n| n <= 5), "re-reads of {sizes:?} items");
    assert_eq!(
        sizes.get(1),
        Some(&1),
        "the fall had a flush of its own: {sizes:?}"
    );
    p.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn each_re_read_takes_at_most_the_cap_and_the_rest_goes_out_without_a_new_window() {
    let (source, sink) = shop_of(10);
    let store = Arc::new(InMemoryStore::new());
    let slow = FaultySource::slow(source.clone(), Duration::ZERO);
    let mut options = options();
    options.max_items_per_flush = 4;
    let window = options.coalesce_window;
    let sink_ports: Arc<dyn InventorySink> = sink.clone();
    let mut p = spawn(stores(slow.clone(), sink_ports, &store), options);
    p.until_ready().await;
    let sent = Virtual::now();
    for k in 1..=10 {
        set(&source, k, 30 + k as i64);
        p.change(10 * k);
    }
    assert!(
        until(Duration::from_secs(5), || (1..=10)
            .all(|k| holds(&sink, k) == Some(30 + k as u32)))
        .await,
        "every change was written"
    );
    assert!(
        sent.elapsed() < window + window / 2,
        "the flushes after the first waited: {:?}",
        sent.elapsed()
    );
    assert_eq!(slow.item_read_sizes(), [4, 4, 2]);
    p.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_number_written_is_the_one_re_read_whatever_the_webhook_said() {
    let (source, sink) = shop_of(2);
    let store = Arc::new(InMemoryStore::new());
    let sink_ports: Arc<dyn InventorySink> = sink.clone();
    let mut p = spawn(stores(source.clone(), sink_ports, &store), options());
    p.until_ready().await;
    // A stale or wrong hint each way: said lower but higher in Shopify, and the reverse.
    set(&source, 1, 80);
    p.level(10, 3);
    set(&source, 2, 4);
    p.level(20, 90);
    assert!(
        until(Duration::from_secs(5), || holds(&sink, 1) == Some(80)
            && holds(&sink, 2) == Some(4))
        .await,
        "TikTok holds {:?} and {:?}",
        holds(&sink, 1),
        holds(&sink, 2)
    );
    // Nothing later replaces them with the hinted numbers.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!((holds(&sink, 1), holds(&sink, 2)), (Some(80), Some(4)));
    p.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn every_change_queued_at_a_stop_is_written_however_many_flushes_it_takes() {
    let (source, sink) = shop_of(5);
    let store = Arc::new(InMemoryStore::new());
    let mut options = options();
    options.max_items_per_flush = 2;
    let sink_ports: Arc<dyn InventorySink> = sink.clone();
    let mut p = spawn(stores(source.clone(), sink_ports, &store), options);
    p.until_ready().await;
    for k in 1..=5 {
        set(&source, k, 60 + k as i64);
        p.change(10 * k);
    }
    p.stop().await.unwrap();
    let held: Vec<Option<u32>> = (1..=5).map(|k| holds(&sink, k)).collect();
    assert_eq!(held, (61..=65).map(Some).collect::<Vec<_>>());
}

/// The products written since the start-up reconcile, in the order they were sent.
fn written_since(sink: &InMemorySink, before: usize) -> Vec<String> {
    sink.writes()[before..]
        .iter()
        .map(|w| w.product_id.as_str().to_owned())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_flush_writes_the_items_that_waited_longest_first_after_the_falls() {
    let (source, sink) = shop_of(4);
    let store = Arc::new(InMemoryStore::new());
    let mut options = options();
    // One write at a time, so the order they are sent in is the order they are taken in.
    options.writer.concurrency = 1;
    let sink_ports: Arc<dyn InventorySink> = sink.clone();
    let mut p = spawn(stores(source.clone(), sink_ports, &store), options);
    p.until_ready().await;
    let before = sink.writes().len();
    // Within one window: 4, 3 and 1 rise, in that order, then 2 falls (from 20 to 5) with no
    // hint of it (so it is not urgent in the queue: only the write knows it lowers).
    for (k, available) in [(4, 44), (3, 33), (1, 31)] {
        set(&source, k, available);
        p.change(10 * k);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    set(&source, 2, 5);
    p.change(20);
    assert!(
        until(Duration::from_secs(5), || holds(&sink, 1) == Some(31)
            && holds(&sink, 2) == Some(5)
            && holds(&sink, 3) == Some(33)
            && holds(&sink, 4) == Some(44))
        .await,
        "every change was written"
    );
    assert_eq!(
        written_since(&sink, before),
        ["9002", "9004", "9003", "9001"],
        "the fall first, then the rises in the order they arrived (not by product)"
    );
    p.stop().await.unwrap();
}
