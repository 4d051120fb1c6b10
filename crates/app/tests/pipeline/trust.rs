//! The trust rule through the server: an `inventory_levels/update` strictly newer than the
//! level as read is written without reading Shopify; an equal or older time, or a null
//! `available`, re-reads the item; and a trusted number Shopify contradicts is corrected by
//! the background check, audited and counted.

use super::*;

/// When the start-up reconciliation reads every level as last changed.
const READ_AT: i64 = 1_764_000_000;

fn at(seconds: i64) -> Option<UpdatedAt> {
    UpdatedAt::from_unix_seconds(READ_AT + seconds)
}

fn rfc3339(seconds: i64) -> String {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs((READ_AT + seconds) as u64);
    humantime::format_rfc3339_seconds(at).to_string()
}

/// The pipeline tests' shop with every level read at `READ_AT`.
async fn start_stamped() -> Server {
    start_with(Arc::new(InMemoryStore::new()), |source| {
        for (item, available) in [(10, 5), (20, 6), (30, 7)] {
            source.set_level(
                InventoryItemId::new(item).unwrap(),
                LocationId::new(1).unwrap(),
                available,
                at(0),
            );
        }
        source
    })
    .await
}

/// Shopify's level of `item` at Main becomes `available` at `READ_AT + seconds`.
fn shopify_sets(server: &Server, item: u64, available: i64, seconds: i64) {
    server.source.set_level(
        InventoryItemId::new(item).unwrap(),
        LocationId::new(1).unwrap(),
        available,
        at(seconds),
    );
}

fn stamped_body(item: u64, available: &str, seconds: i64) -> String {
    format!(
        r#"{{"inventory_item_id":{item},"location_id":1,"available":{available},"updated_at":"{}"}}"#,
        rfc3339(seconds)
    )
}

async fn metrics(server: &Server) -> String {
    reqwest::get(format!("{}/metrics", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_payload_newer_than_the_level_read_is_written_without_reading_shopify() {
    let server = start_stamped().await;
    assert_eq!(q(&server, "91"), Some(5));
    shopify_sets(&server, 10, 33, 5);
    let reads = server.source.items_read();
    deliver(
        &server,
        "inventory_levels/update",
        &stamped_body(10, "33", 5),
        "w1",
    )
    .await;
    assert!(eventually(|| async { q(&server, "91") == Some(33) }).await);
    assert_eq!(
        server.source.items_read(),
        reads,
        "written from the payload, before any read of Shopify"
    );
    let text = metrics(&server).await;
    assert!(
        text.contains(r#"stockbridge_level_payloads_total{outcome="applied"} 1"#),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_second_payload_within_the_same_second_is_reread_not_trusted() {
    let server = start_stamped().await;
    shopify_sets(&server, 10, 33, 5);
    deliver(
        &server,
        "inventory_levels/update",
        &stamped_body(10, "33", 5),
        "w1",
    )
    .await;
    assert!(eventually(|| async { q(&server, "91") == Some(33) }).await);
    // Another change within that second: equal times cannot be ordered. The payload says
    // 40; Shopify holds 44 (a third change the payloads of which are still on their way).
    shopify_sets(&server, 10, 44, 5);
    let reads = server.source.items_read();
    deliver(
        &server,
        "inventory_levels/update",
        &stamped_body(10, "40", 5),
        "w2",
    )
    .await;
    assert!(
        eventually(|| async { q(&server, "91") == Some(44) }).await,
        "the number read, not the payload's: TikTok holds {:?}",
        q(&server, "91")
    );
    assert!(server.source.items_read() > reads, "re-read");
    server.stop().await;
}

#[tokio::test]
async fn a_stale_payload_and_a_null_available_are_reread() {
    let server = start_stamped().await;
    shopify_sets(&server, 20, 12, 9);
    // Older than the level as read (second 0): a delivery that waited.
    deliver(
        &server,
        "inventory_levels/update",
        &stamped_body(20, "999", -30),
        "w1",
    )
    .await;
    assert!(
        eventually(|| async { q(&server, "92") == Some(12) }).await,
        "holds {:?}",
        q(&server, "92")
    );
    shopify_sets(&server, 30, 21, 9);
    deliver(
        &server,
        "inventory_levels/update",
        &stamped_body(30, "null", 20),
        "w2",
    )
    .await;
    assert!(
        eventually(|| async { q(&server, "93") == Some(21) }).await,
        "holds {:?}",
        q(&server, "93")
    );
    let text = metrics(&server).await;
    assert!(
        text.contains(r#"stockbridge_level_payloads_total{outcome="reread"} 2"#),
        "{text}"
    );
    assert!(text.contains(r#"stockbridge_level_payloads_total{outcome="applied"} 0"#));
    server.stop().await;
}

#[tokio::test]
async fn a_trusted_number_shopify_contradicts_is_corrected_audited_and_counted() {
    let server = start_stamped().await;
    // Shopify's number at second 5 is 50; a payload of that second says 33 (another change
    // within the second, delivered alone).
    shopify_sets(&server, 10, 50, 5);
    deliver(
        &server,
        "inventory_levels/update",
        &stamped_body(10, "33", 5),
        "w1",
    )
    .await;
    assert!(eventually(|| async { q(&server, "91") == Some(33) }).await);
    // The background check reads the item with spare capacity and corrects it.
    assert!(
        eventually(|| async { q(&server, "91") == Some(50) }).await,
        "corrected: TikTok holds {:?}",
        q(&server, "91")
    );
    let log = server.store.audit_log(20).await.unwrap();
    assert!(
        log.iter().any(|e| e.seller_sku == "A"
            && e.new.get() == 50
            && e.trigger == Trigger::Verify
            && e.outcome == AuditOutcome::Applied),
        "the correction is audited as a check: {log:?}"
    );
    let text = metrics(&server).await;
    assert!(
        text.contains("stockbridge_payload_mismatch_total 1"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_trusted_number_shopify_confirms_is_no_mismatch_and_writes_nothing_more() {
    let server = start_stamped().await;
    shopify_sets(&server, 10, 33, 5);
    deliver(
        &server,
        "inventory_levels/update",
        &stamped_body(10, "33", 5),
        "w1",
    )
    .await;
    assert!(eventually(|| async { q(&server, "91") == Some(33) }).await);
    let writes = server.sink.writes().len();
    let reads = server.source.items_read();
    assert!(
        eventually(|| async { server.source.items_read() > reads }).await,
        "the background check read the item"
    );
    // The pipeline works in order: once a later change of C is on TikTok, the check before
    // it has planned and written whatever it would.
    shopify_sets(&server, 30, 8, 6);
    deliver(
        &server,
        "inventory_levels/update",
        &stamped_body(30, "8", 6),
        "w2",
    )
    .await;
    assert!(eventually(|| async { q(&server, "93") == Some(8) }).await);
    let since: Vec<_> = server.sink.writes()[writes..].to_vec();
    assert_eq!(
        since.len(),
        1,
        "C's write only, nothing to correct: {since:?}"
    );
    let text = metrics(&server).await;
    assert!(
        text.contains("stockbridge_payload_mismatch_total 0"),
        "{text}"
    );
    server.stop().await;
}

/// A fleet owner hands over a shop's taken payloads in one change: one of an item applied
/// and another of it not (two payloads in one second) still reads the item, as two
/// webhooks to a one-shop server would.
#[tokio::test]
async fn an_item_with_one_payload_applied_and_another_refused_in_one_change_is_read() {
    use super::paused::{item, main_location, spawn, stores};
    use stockbridge_app::engine::{Change, Hint};

    let (source, sink) = shop();
    source.set_level(item(10), main_location(), 5, at(0));
    let store = Arc::new(InMemoryStore::new());
    let mut p = spawn(stores(source.clone(), sink.clone(), &store), options());
    p.until_ready().await;
    let writes = sink.writes().len();
    // Shopify holds 44 (a third change whose payload is still on its way).
    source.set_level(item(10), main_location(), 44, at(5));
    let hint = |available| Hint {
        item: item(10),
        location: main_location(),
        available: Some(available),
        updated_at: at(5),
    };
    p.send(Change::Items {
        items: vec![item(10)],
        hints: vec![hint(33), hint(40)],
        topic: "inventory_levels/update".into(),
        changed_at: SystemTime::now(),
        received: tokio::time::Instant::now(),
    });
    assert!(
        eventually(|| async { held(&sink, "91") == Some(44) }).await,
        "read: {:?}",
        held(&sink, "91")
    );
    let pushed: Vec<u32> = sink.writes()[writes..]
        .iter()
        .flat_map(|w| &w.skus)
        .flat_map(|s| &s.stock)
        .map(|s| s.quantity.get())
        .collect();
    assert_eq!(
        pushed,
        [44],
        "the number read, never the first payload's alone"
    );
    p.stop().await.unwrap();
}
