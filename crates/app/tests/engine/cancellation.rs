//! A sync cancelled before or while it reads the stores.

use std::sync::atomic::Ordering;

use stockbridge_ports::fakes::FaultySource;

use super::*;

#[tokio::test]
async fn cancelled_sync_writes_nothing_more_and_says_so() {
    let f = fixture();
    let cancel = CancellationToken::new();
    cancel.cancel();
    let report = reconcile(&f.stores, &rules_80(), RunKind::Sync, &fast(), &cancel)
        .await
        .unwrap();
    assert!(report.interrupted);
    assert!(f.sink.writes().is_empty());
    assert_eq!(report.counts.failed, 2);
    assert!(matches!(
        f.store.runs(1).await.unwrap()[0].outcome,
        RunOutcome::Aborted(_)
    ));
}

#[tokio::test(start_paused = true)]
async fn cancelling_while_the_stores_are_still_being_read_stops_at_once_and_records_the_run() {
    let f = fixture();
    // A Shopify that never answers, as a huge catalog read looks from outside.
    let silent = FaultySource::new(f.stores.source.clone());
    silent.silent.store(true, Ordering::SeqCst);
    let stores = Stores {
        source: silent,
        ..f.stores.clone()
    };
    let cancel = CancellationToken::new();
    let later = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        later.cancel();
    });
    let started = tokio::time::Instant::now();
    let err = reconcile(&stores, &rules_80(), RunKind::Reconcile, &fast(), &cancel)
        .await
        .err()
        .expect("the read is abandoned");
    assert!(matches!(err, EngineError::Interrupted), "{err}");
    assert!(!err.is_configuration());
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    assert!(f.sink.writes().is_empty());
    assert!(matches!(
        f.store.runs(1).await.unwrap()[0].outcome,
        RunOutcome::Aborted(_)
    ));
}
