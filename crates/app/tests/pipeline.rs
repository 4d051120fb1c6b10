//! The real-time pipeline in-process, over in-memory ports: the server on port 0 with an
//! injected shutdown, webhooks signed like Shopify's; how serve ends when its pipeline cannot
//! go on (`lifecycle`); and the pipeline on its own on Tokio's paused clock (`paused`), with
//! ports that misbehave on purpose (`faults`), and how it orders a backlog (`priority`).

mod faults;
mod fleet_share;
mod lifecycle;
mod paused;
mod priority;
mod reconcile_requests;
mod trust;
mod unknown_items;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use hmac::{Mac, SimpleHmac};
use stockbridge_app::engine::{PipelineOptions, Stores, WriterOptions};
use stockbridge_app::serve::{Application, ServeError, ServeParts};
use stockbridge_domain::*;
use stockbridge_ports::fakes::{shop, FaultySource, InMemorySink, InMemorySource, InMemoryStore};
use stockbridge_ports::{AuditOutcome, InventorySource, Secret, StateStore, Trigger};
use tokio::sync::oneshot;

const SECRET: &str = "test_webhook_secret";
const SHOP: &str = "test-shop.myshopify.com";

struct Server {
    url: String,
    source: Arc<InMemorySource>,
    sink: Arc<InMemorySink>,
    store: Arc<InMemoryStore>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), ServeError>>,
}

/// A variant with `available` at Location A (1).
fn variant(id: u64, sku: &str, available: i64) -> VariantSnapshot {
    shop::variant(id, sku, &[(1, available)])
}

/// A TikTok SKU holding 0 in α.
fn tiktok(product: &str, id: &str, sku: &str) -> TikTokSku {
    shop::tiktok_sku(product, id, sku, &[("7001", 0)])
}

/// TikTok's one warehouse: α (7001), an enabled sales warehouse and the default.
fn alpha() -> Warehouse {
    shop::warehouse("7001", "α", true)
}

/// Shopify with A, B and C at Main (5, 6 and 7); TikTok with their SKUs at zero in one
/// warehouse, A and B in one product.
fn shop() -> (Arc<InMemorySource>, Arc<InMemorySink>) {
    let source = Arc::new(InMemorySource::new(
        vec![shop::location(1, "Main")],
        vec![variant(1, "A", 5), variant(2, "B", 6), variant(3, "C", 7)],
    ));
    let sink = Arc::new(InMemorySink::new(
        vec![alpha()],
        vec![
            tiktok("9001", "91", "A"),
            tiktok("9001", "92", "B"),
            tiktok("9003", "93", "C"),
        ],
    ));
    (source, sink)
}

fn options() -> PipelineOptions {
    PipelineOptions {
        coalesce_window: Duration::from_millis(100),
        max_items_per_flush: 50,
        reconcile_every: Duration::from_secs(3600),
        writer: WriterOptions::default(),
        retry_after: Duration::from_millis(50),
        max_attempts: 5,
        final_flush_limit: Duration::from_millis(300),
        breaker: stockbridge_domain::Breaker::default(),
        fleet: None,
    }
}

/// The quantity TikTok holds for a SKU in warehouse 7001.
fn held(sink: &InMemorySink, sku: &str) -> Option<u32> {
    sink.quantity(
        &SkuId::new(sku).unwrap(),
        &WarehouseId::new("7001").unwrap(),
    )
}

async fn start(store: Arc<InMemoryStore>) -> Server {
    start_with(store, |source| source).await
}

async fn start_with(
    store: Arc<InMemoryStore>,
    wrap: impl FnOnce(Arc<InMemorySource>) -> Arc<dyn InventorySource>,
) -> Server {
    let (source, sink) = shop();
    let parts = ServeParts {
        stores: Stores {
            source: wrap(source.clone()),
            sink: sink.clone(),
            store: store.clone(),
            holds: None,
        },
        rules: RuleSet::default(),
        shop_domain: SHOP.into(),
        webhook_secret: Secret::new(SECRET),
        max_body_bytes: 64 * 1024,
        tiktok_app: None,
        body_timeout: std::time::Duration::from_secs(30),
        webhook_ids_per_minute: 6000,
        connections: stockbridge_app::serve::ConnectionLimits::default(),
    };
    let options = options();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = Application::from_parts(parts, listener, options);
    let url = format!("http://{}", app.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    let server = Server {
        url,
        source,
        sink,
        store,
        stop: Some(tx),
        task,
    };
    let healthy = eventually(|| async {
        reqwest::get(format!("{}/healthz", server.url))
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;
    assert!(healthy, "the start-up reconcile finishes");
    server
}

async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

async fn deliver(server: &Server, topic: &str, body: &str, id: &str) -> u16 {
    let mut mac = <SimpleHmac<sha2::Sha256>>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let hmac = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    reqwest::Client::new()
        .post(format!("{}/webhooks/shopify", server.url))
        .header("X-Shopify-Topic", topic)
        .header("X-Shopify-Hmac-Sha256", hmac)
        .header("X-Shopify-Shop-Domain", SHOP)
        .header("X-Shopify-Webhook-Id", id)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn level_body(item: u64, available: i64) -> String {
    format!(r#"{{"inventory_item_id":{item},"location_id":1,"available":{available}}}"#)
}

fn q(server: &Server, sku: &str) -> Option<u32> {
    held(&server.sink, sku)
}

impl Server {
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn a_stale_webhook_payload_never_reaches_tiktok_the_fresh_read_does() {
    let server = start(Arc::new(InMemoryStore::new())).await;
    assert_eq!(q(&server, "91"), Some(5), "start-up reconcile");
    server.source.set_available(
        InventoryItemId::new(10).unwrap(),
        LocationId::new(1).unwrap(),
        40,
    );
    // The delivery arrives late and out of order, carrying an old number.
    assert_eq!(
        deliver(
            &server,
            "inventory_levels/update",
            &level_body(10, 999),
            "w1"
        )
        .await,
        200
    );
    assert!(
        eventually(|| async { q(&server, "91") == Some(40) }).await,
        "holds {:?}",
        q(&server, "91")
    );
    server.stop().await;
}

#[tokio::test]
async fn changes_within_the_window_become_one_write_per_product() {
    let server = start(Arc::new(InMemoryStore::new())).await;
    let before = server.sink.writes().len();
    server.source.set_available(
        InventoryItemId::new(10).unwrap(),
        LocationId::new(1).unwrap(),
        11,
    );
    server.source.set_available(
        InventoryItemId::new(20).unwrap(),
        LocationId::new(1).unwrap(),
        12,
    );
    deliver(
        &server,
        "inventory_levels/update",
        &level_body(10, 11),
        "w1",
    )
    .await;
    deliver(
        &server,
        "inventory_levels/update",
        &level_body(20, 12),
        "w2",
    )
    .await;
    assert!(
        eventually(|| async { q(&server, "91") == Some(11) && q(&server, "92") == Some(12) }).await
    );
    let writes = &server.sink.writes()[before..];
    assert_eq!(writes.len(), 1, "A and B share product 9001: {writes:?}");
    assert_eq!(writes[0].skus.len(), 2);
    let metrics = reqwest::get(format!("{}/metrics", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("stockbridge_sync_lag_seconds_count 2"),
        "one lag per updated line: {metrics}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_failed_real_time_write_is_retried_and_audited_with_its_trigger() {
    let server = start(Arc::new(InMemoryStore::new())).await;
    server.source.set_available(
        InventoryItemId::new(30).unwrap(),
        LocationId::new(1).unwrap(),
        70,
    );
    server.sink.fail_next(4);
    deliver(
        &server,
        "inventory_levels/update",
        &level_body(30, 70),
        "w1",
    )
    .await;
    assert!(
        eventually(|| async { q(&server, "93") == Some(70) }).await,
        "holds {:?}",
        q(&server, "93")
    );
    let log = server.store.audit_log(20).await.unwrap();
    let for_c: Vec<_> = log
        .iter()
        .filter(|e| e.seller_sku == "C" && e.new.get() == 70)
        .collect();
    let webhook = Trigger::Webhook("inventory_levels/update".into());
    assert!(
        for_c
            .iter()
            .any(|e| matches!(e.outcome, AuditOutcome::Failed { .. }) && e.trigger == webhook),
        "the failure is audited with the webhook that caused it: {for_c:?}"
    );
    assert!(
        for_c
            .iter()
            .any(|e| e.outcome == AuditOutcome::Applied && e.trigger == Trigger::Retry),
        "then the retry's success: {for_c:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn duplicates_are_processed_once() {
    let server = start(Arc::new(InMemoryStore::new())).await;
    server.source.set_available(
        InventoryItemId::new(10).unwrap(),
        LocationId::new(1).unwrap(),
        8,
    );
    assert_eq!(
        deliver(
            &server,
            "inventory_levels/update",
            &level_body(10, 8),
            "same"
        )
        .await,
        200
    );
    assert_eq!(
        deliver(
            &server,
            "inventory_levels/update",
            &level_body(10, 8),
            "same"
        )
        .await,
        200
    );
    let metrics = reqwest::get(format!("{}/metrics", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("stockbridge_webhooks_duplicate_total 1"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test]
async fn processed_webhook_ids_older_than_a_day_are_forgotten_at_reconciliation() {
    let store = Arc::new(InMemoryStore::new());
    let two_days_ago = SystemTime::now() - Duration::from_secs(2 * 24 * 3600);
    store
        .remember_delivery(&["webhook:ancient".to_string()], two_days_ago)
        .await
        .unwrap();
    store
        .remember_delivery(&["webhook:recent".to_string()], SystemTime::now())
        .await
        .unwrap();
    let server = start(store.clone()).await;
    assert!(
        store
            .remember_delivery(&["webhook:ancient".to_string()], SystemTime::now())
            .await
            .unwrap(),
        "forgotten"
    );
    assert!(
        !store
            .remember_delivery(&["webhook:recent".to_string()], SystemTime::now())
            .await
            .unwrap(),
        "kept"
    );
    server.stop().await;
}

#[tokio::test]
async fn shutdown_writes_what_was_already_received() {
    let server = start(Arc::new(InMemoryStore::new())).await;
    server.source.set_available(
        InventoryItemId::new(20).unwrap(),
        LocationId::new(1).unwrap(),
        33,
    );
    deliver(
        &server,
        "inventory_levels/update",
        &level_body(20, 33),
        "w1",
    )
    .await;
    let sink = server.sink.clone();
    server.stop().await;
    assert_eq!(held(&sink, "92"), Some(33));
}

#[tokio::test]
async fn a_stop_is_never_held_longer_than_the_final_flush_limit() {
    let mut reads = None;
    let server = start_with(Arc::new(InMemoryStore::new()), |inner| {
        let wrapped = FaultySource::new(inner);
        reads = Some(wrapped.clone());
        wrapped
    })
    .await;
    // Full reads answer; an incremental read never does from now on.
    let reads = reads.expect("the source was wrapped");
    reads
        .hang_item_reads
        .store(true, std::sync::atomic::Ordering::SeqCst);
    deliver(&server, "inventory_levels/update", &level_body(20, 1), "w1").await;
    let started = Instant::now();
    server.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped after {:?}",
        started.elapsed()
    );
}

async fn health(server: &Server) -> (u16, serde_json::Value) {
    let resp = reqwest::get(format!("{}/healthz", server.url))
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn a_configuration_that_stops_fitting_while_serving_shows_as_degraded_until_fixed() {
    let server = start(Arc::new(InMemoryStore::new())).await;
    assert_eq!(health(&server).await.1["status"], "ok");
    let warehouse = WarehouseId::new("7001").unwrap();
    // The merchant disables the only warehouse in Seller Center; a location change makes
    // serve reconcile, which finds the rules no longer fit.
    server
        .sink
        .set_warehouse_status(&warehouse, WarehouseStatus::Disabled);
    assert_eq!(
        deliver(&server, "locations/update", body_of_location(), "l1").await,
        200
    );
    let degraded = eventually(|| async { health(&server).await.1["status"] == "degraded" }).await;
    assert!(degraded, "healthz reports the broken configuration");
    let (status, body) = health(&server).await;
    assert_eq!(status, 200, "webhooks must keep being accepted");
    let problem = body["problem"].as_str().unwrap();
    assert!(
        problem.contains("no default enabled sales warehouse"),
        "the problem says what to fix: {problem}"
    );
    let metrics = reqwest::get(format!("{}/metrics", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("stockbridge_configuration_error 1"),
        "{metrics}"
    );

    server
        .sink
        .set_warehouse_status(&warehouse, WarehouseStatus::Enabled);
    assert_eq!(
        deliver(&server, "locations/update", body_of_location(), "l2").await,
        200
    );
    let fixed = eventually(|| async { health(&server).await.1["status"] == "ok" }).await;
    assert!(fixed, "the next reconciliation that fits clears it");
    server.stop().await;
}

fn body_of_location() -> &'static str {
    r#"{"id":1,"name":"Main","active":true}"#
}
