//! A state store that fails to record writes mid-sync.

use stockbridge_ports::fakes::FaultyStore;

use super::*;

/// Reconciles the seed (two products to write) through a store whose first recording fails.
async fn reconcile_with_failing_recording(
    concurrency: usize,
) -> (Arc<InMemorySink>, Arc<FaultyStore>, EngineError) {
    let f = fixture();
    let store = FaultyStore::new(Arc::new(InMemoryStore::new()));
    store
        .fail_record_writes
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let stores = Stores {
        store: store.clone(),
        ..f.stores.clone()
    };
    let options = WriterOptions {
        concurrency,
        ..fast()
    };
    let cancel = CancellationToken::new();
    let err = reconcile(&stores, &rules_80(), RunKind::Sync, &options, &cancel)
        .await
        .err()
        .expect("a store failure fails the run");
    (f.sink, store, err)
}

#[tokio::test]
async fn a_store_failure_mid_sync_still_records_the_writes_in_flight_and_aborts_the_run() {
    let (sink, store, err) = reconcile_with_failing_recording(2).await;
    assert!(matches!(err, EngineError::Store(_)), "{err}");
    assert_eq!(sink.writes().len(), 2, "both writes were in flight");
    let log = store.audit_log(10).await.unwrap();
    assert_eq!(
        log.len(),
        1,
        "the write in flight when the store failed is recorded: {log:?}"
    );
    assert_eq!(log[0].outcome, AuditOutcome::Applied);
    let runs = store.runs(1).await.unwrap();
    match &runs[0].outcome {
        RunOutcome::Aborted(why) => assert!(why.contains("disk full"), "{why}"),
        other => panic!("the run must end aborted, not {other:?}"),
    }
    assert!(runs[0].finished_at.is_some());
}

#[tokio::test]
async fn a_store_failure_mid_sync_starts_no_new_write() {
    let (sink, store, err) = reconcile_with_failing_recording(1).await;
    assert!(err.to_string().contains("disk full"), "{err}");
    assert_eq!(
        sink.writes().len(),
        1,
        "the second product is never written"
    );
    assert!(store.audit_log(10).await.unwrap().is_empty());
    assert!(matches!(
        store.runs(1).await.unwrap()[0].outcome,
        RunOutcome::Aborted(_)
    ));
}

/// Six products of one SKU each, all to write, with a state store that takes 10 ms (on
/// Tokio's paused clock) to record writes.
async fn sync_six_through_a_slow_store(
    concurrency: usize,
) -> (Arc<InMemorySink>, Arc<FaultyStore>) {
    let ids = 1..=6u64;
    let source = InMemorySource::new(
        vec![location(1, "Location A")],
        ids.clone()
            .map(|i| variant(100 + i, &format!("SKU-{i}"), &[(1, 10 * i as i64)]))
            .collect(),
    );
    let sink = Arc::new(InMemorySink::new(
        warehouses(),
        ids.map(|i| {
            tiktok_sku(
                &format!("900{i}"),
                &format!("9000{i}"),
                &format!("SKU-{i}"),
                &[("7001", 0)],
            )
        })
        .collect(),
    ));
    let store = FaultyStore::slow(Arc::new(InMemoryStore::new()), Duration::from_millis(10));
    let stores = Stores {
        source: Arc::new(source),
        sink: sink.clone(),
        store: store.clone(),
        holds: None,
    };
    let options = WriterOptions {
        concurrency,
        ..fast()
    };
    let report = reconcile(
        &stores,
        &RuleSet::default(),
        RunKind::Sync,
        &options,
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(report.counts.updated, 6);
    (sink, store)
}

#[tokio::test(start_paused = true)]
async fn writes_answered_during_a_recording_are_recorded_together_in_the_next_one() {
    let (sink, store) = sync_six_through_a_slow_store(8).await;
    assert_eq!(sink.writes().len(), 6);
    assert_eq!(
        store.record_sizes(),
        [1, 5],
        "the first answer is recorded at once; the five answered meanwhile in one transaction"
    );
    assert_eq!(store.audit_log(10).await.unwrap().len(), 6);
}

#[tokio::test(start_paused = true)]
async fn a_write_keeps_its_place_until_its_answer_is_recorded() {
    // Two places: the first two answers are recorded one after the other (the second was
    // answered while the first was recorded), and only then can the next two writes start.
    let (sink, store) = sync_six_through_a_slow_store(2).await;
    assert_eq!(sink.writes().len(), 6);
    assert_eq!(store.record_sizes(), [1, 1, 1, 1, 1, 1]);
}
