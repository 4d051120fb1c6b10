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
