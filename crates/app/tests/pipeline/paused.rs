//! The pipeline on its own, on Tokio's paused clock: changes go straight into its queue, and
//! its timers (the coalescing window, the schedule, retries, the stop's limit) run in virtual
//! time, so that minutes of traffic take milliseconds and a hang ends at once.

use std::sync::atomic::Ordering;

use stockbridge_app::engine::{Change, EngineError, Hint, Metrics, Pipeline};
use stockbridge_ports::InventorySink;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant as Virtual;
use tokio_util::sync::CancellationToken;

use super::faults::hand_edit;
use super::*;
use stockbridge_ports::fakes::FaultySink;
use stockbridge_ports::fakes::FaultySource;

/// A running pipeline: its queue's sending side, its stop, its counters.
pub(super) struct Running {
    metrics: Arc<Metrics>,
    ready: watch::Receiver<bool>,
    changes: Option<mpsc::UnboundedSender<Change>>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), EngineError>>,
}

pub(super) fn spawn(stores: Stores, options: PipelineOptions) -> Running {
    let metrics = Arc::new(Metrics::default());
    let (ready_tx, ready) = watch::channel(false);
    let (tx, rx) = mpsc::unbounded_channel();
    let stop = CancellationToken::new();
    let pipeline = Pipeline {
        stores,
        rules: RuleSet::default(),
        options,
        metrics: metrics.clone(),
        ready: ready_tx,
        latest: Default::default(),
    };
    let task = tokio::spawn(pipeline.run(rx, stop.clone()));
    Running {
        metrics,
        ready,
        changes: Some(tx),
        stop,
        task,
    }
}

pub(super) fn stores(
    source: Arc<dyn InventorySource>,
    sink: Arc<dyn InventorySink>,
    store: &Arc<InMemoryStore>,
) -> Stores {
    Stores {
        source,
        sink,
        store: store.clone(),
        holds: None,
    }
}

pub(super) fn item(id: u64) -> InventoryItemId {
    InventoryItemId::new(id).unwrap()
}

pub(super) fn main_location() -> LocationId {
    LocationId::new(1).unwrap()
}

impl Running {
    /// A webhook for this item, as the server enqueues it.
    pub(super) fn change(&self, id: u64) {
        self.send(Change::Items {
            items: vec![item(id)],
            hints: Vec::new(),
            topic: "inventory_levels/update".into(),
            changed_at: SystemTime::now(),
            received: Virtual::now(),
        });
    }

    /// An `inventory_levels/update` webhook saying this item's `available` at Main is now
    /// `available`, as the server enqueues it.
    pub(super) fn level(&self, id: u64, available: i64) {
        self.send(Change::Items {
            items: vec![item(id)],
            hints: vec![Hint {
                item: item(id),
                location: main_location(),
                available,
            }],
            topic: "inventory_levels/update".into(),
            changed_at: SystemTime::now(),
            received: Virtual::now(),
        });
    }

    pub(super) fn send(&self, change: Change) {
        self.changes.as_ref().unwrap().send(change).unwrap();
    }

    pub(super) async fn until_ready(&mut self) {
        self.ready.wait_for(|ready| *ready).await.unwrap();
    }

    pub(super) fn count(&self, value: impl Fn(&Metrics) -> u64) -> u64 {
        value(&self.metrics)
    }

    /// Stops it as the server does: the stop, then the queue's sending side gone.
    pub(super) async fn stop(mut self) -> Result<(), EngineError> {
        self.stop.cancel();
        self.changes.take();
        self.task.await.unwrap()
    }
}

/// Polls in virtual time until `done`, for at most `limit`.
pub(super) async fn until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Virtual::now() + limit;
    while Virtual::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    done()
}

#[tokio::test(start_paused = true)]
async fn a_steady_stream_of_changes_never_holds_back_the_scheduled_reconcile() {
    let (source, sink) = shop();
    let store = Arc::new(InMemoryStore::new());
    // Each re-read takes longer than the gap between changes: one is always queued.
    let slow = FaultySource::slow(source.clone(), Duration::from_millis(60));
    let mut options = options();
    options.reconcile_every = Duration::from_secs(1);
    let mut p = spawn(stores(slow, sink.clone(), &store), options);
    p.until_ready().await;
    hand_edit(&sink, "9003", "93", 0).await;
    let started = Virtual::now();
    let mut available = 5;
    while started.elapsed() < Duration::from_secs(3) {
        available += 1;
        source.set_available(item(10), main_location(), available);
        p.change(10);
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let reconciles = p.count(|m| m.reconciles_ok.get());
    assert!(
        reconciles >= 3,
        "the start-up reconcile and one a second during 3 s of changes: {reconciles}"
    );
    assert_eq!(
        held(&sink, "93"),
        Some(7),
        "the schedule undid the hand edit while the changes kept coming"
    );
    p.stop().await.unwrap();
    assert_eq!(held(&sink, "91"), Some(available as u32));
}

#[tokio::test(start_paused = true)]
async fn a_stop_ends_a_flush_whose_re_read_never_answers_within_the_limit() {
    let (source, sink) = shop();
    let store = Arc::new(InMemoryStore::new());
    let slow = FaultySource::slow(source, Duration::ZERO);
    let limit = options().final_flush_limit;
    let mut p = spawn(stores(slow.clone(), sink, &store), options());
    p.until_ready().await;
    slow.hang_item_reads.store(true, Ordering::SeqCst);
    p.change(20);
    slow.item_read_started.notified().await;
    let stopped = Virtual::now();
    let ended = tokio::time::timeout(Duration::from_secs(600), p.stop()).await;
    assert!(ended.is_ok(), "the stop waited for a flush that never ends");
    assert!(
        stopped.elapsed() <= limit + Duration::from_millis(10),
        "stopped after {:?}",
        stopped.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_does_not_wait_for_a_retry_due_later_and_tries_the_item_once_more() {
    let (source, sink) = shop();
    let store = Arc::new(InMemoryStore::new());
    let writes = FaultySink::new(sink);
    let mut options = options();
    options.retry_after = Duration::from_secs(600);
    let limit = options.final_flush_limit;
    let mut p = spawn(stores(source.clone(), writes.clone(), &store), options);
    p.until_ready().await;
    let before = writes.calls();
    writes.fail.store(usize::MAX, Ordering::SeqCst);
    source.set_available(item(30), main_location(), 70);
    p.change(30);
    // The first attempt fails; the item is requeued for ten minutes later.
    assert!(until(Duration::from_secs(1), || writes.calls() > before).await);
    let stopped = Virtual::now();
    let ended = tokio::time::timeout(Duration::from_secs(3600), p.stop()).await;
    assert!(ended.is_ok(), "the stop waited for the retry due later");
    assert!(
        stopped.elapsed() <= limit + Duration::from_millis(10),
        "stopped after {:?}",
        stopped.elapsed()
    );
    assert_eq!(
        writes.calls(),
        before + 2,
        "the final flush tries the pending item once, and only once"
    );
}

#[tokio::test(start_paused = true)]
async fn changes_acknowledged_while_the_server_finishes_are_written_after_the_stop() {
    let (source, sink) = shop();
    let store = Arc::new(InMemoryStore::new());
    let mut p = spawn(stores(source.clone(), sink.clone(), &store), options());
    p.until_ready().await;
    for (id, available) in [(10, 41), (20, 42), (30, 43)] {
        source.set_available(item(id), main_location(), available);
    }
    // Queued before the stop, with a location change between them.
    p.change(10);
    p.send(Change::Reconcile {
        reason: "locations/update".into(),
    });
    p.change(20);
    p.stop.cancel();
    // The server is still finishing a request (virtual time passes, within the limit).
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(
        !p.task.is_finished(),
        "the pipeline waits while the server can still acknowledge webhooks"
    );
    p.change(30);
    p.stop().await.unwrap();
    assert_eq!(
        (held(&sink, "91"), held(&sink, "92"), held(&sink, "93")),
        (Some(41), Some(42), Some(43))
    );
}

#[tokio::test(start_paused = true)]
async fn a_write_that_failed_after_being_applied_is_restated_when_shopify_goes_back() {
    let (source, sink) = shop();
    let store = Arc::new(InMemoryStore::new());
    let writes = FaultySink::new(sink.clone());
    let options = options();
    // The engine sends each write once (the adapter would retry it).
    let attempts = 1;
    let mut p = spawn(stores(source.clone(), writes.clone(), &store), options);
    p.until_ready().await;
    assert_eq!(held(&sink, "93"), Some(7));
    let before = writes.calls();
    writes.apply_then_fail.store(attempts, Ordering::SeqCst);
    source.set_available(item(30), main_location(), 70);
    p.change(30);
    assert!(
        until(Duration::from_secs(1), || writes.calls()
            == before + attempts)
        .await
    );
    assert_eq!(
        held(&sink, "93"),
        Some(70),
        "applied, though reported failed"
    );
    // Shopify goes back to the number the live view still believes TikTok holds.
    source.set_available(item(30), main_location(), 7);
    assert!(
        until(Duration::from_secs(5), || held(&sink, "93") == Some(7)).await,
        "the retry restates the line; TikTok holds {:?}",
        held(&sink, "93")
    );
    p.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_write_failing_past_every_attempt_is_left_to_the_scheduled_reconcile() {
    let (source, sink) = shop();
    let store = Arc::new(InMemoryStore::new());
    let writes = FaultySink::new(sink.clone());
    let mut options = options();
    options.reconcile_every = Duration::from_secs(10);
    let every_attempt = options.max_attempts as usize;
    let max_attempts = u64::from(options.max_attempts);
    let mut p = spawn(stores(source.clone(), writes.clone(), &store), options);
    p.until_ready().await;
    writes.fail.store(every_attempt, Ordering::SeqCst);
    source.set_available(item(30), main_location(), 70);
    p.change(30);
    assert!(
        until(Duration::from_secs(5), || p
            .count(|m| m.writes_failed.get())
            == max_attempts
            && p.count(|m| m.queue_depth.get() as u64) == 0)
        .await,
        "every attempt failed and the item left the queue"
    );
    assert_eq!(held(&sink, "93"), Some(7));
    let log = store.audit_log(50).await.unwrap();
    let failed = log
        .iter()
        .filter(|e| e.seller_sku == "C" && matches!(e.outcome, AuditOutcome::Failed { .. }))
        .count() as u64;
    assert_eq!(failed, max_attempts, "each failed update is audited");
    assert!(
        until(Duration::from_secs(15), || held(&sink, "93") == Some(70)).await,
        "the scheduled reconcile wrote it; TikTok holds {:?}",
        held(&sink, "93")
    );
    let log = store.audit_log(50).await.unwrap();
    assert!(
        log.iter().any(|e| e.seller_sku == "C"
            && e.new.get() == 70
            && e.outcome == AuditOutcome::Applied
            && e.trigger == Trigger::Reconcile),
        "{log:?}"
    );
    p.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_transient_failure_at_start_keeps_the_pipeline_unready_and_retrying() {
    let (source, sink) = shop();
    let store = Arc::new(InMemoryStore::new());
    source.fail_next(1);
    let mut p = spawn(stores(source, sink.clone(), &store), options());
    assert!(
        until(Duration::from_millis(20), || p
            .count(|m| m.reconciles_failed.get())
            == 1)
        .await
    );
    assert!(!*p.ready.borrow(), "not ready after a failed reconcile");
    assert_eq!(held(&sink, "91"), Some(0));
    tokio::time::timeout(Duration::from_secs(1), p.until_ready())
        .await
        .expect("the retry succeeded");
    assert_eq!(held(&sink, "91"), Some(5));
    p.stop().await.unwrap();
}
