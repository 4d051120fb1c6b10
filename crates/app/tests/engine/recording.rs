//! A state store that fails to record writes mid-sync.

use std::time::SystemTime;

use stockbridge_ports::{
    AuditEntry, ConfirmedQuantity, HeldWrite, PlatformTokens, RunCounts, RunId, RunRecord,
    StoreError,
};

use super::*;

/// The in-memory store, except that its first `failures` calls to `record_writes` fail.
struct FailingRecordStore {
    inner: InMemoryStore,
    failures: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl StateStore for FailingRecordStore {
    async fn confirmed(&self, skus: &[SkuId]) -> Result<Vec<ConfirmedQuantity>, StoreError> {
        self.inner.confirmed(skus).await
    }
    async fn record_writes(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let failing = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(StoreError::Unavailable {
                message: "disk full".into(),
            });
        }
        self.inner.record_writes(entries).await
    }
    async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.audit_log(limit).await
    }
    async fn start_run(&self, kind: RunKind, at: SystemTime) -> Result<RunId, StoreError> {
        self.inner.start_run(kind, at).await
    }
    async fn finish_run(
        &self,
        id: RunId,
        at: SystemTime,
        counts: RunCounts,
        outcome: RunOutcome,
    ) -> Result<(), StoreError> {
        self.inner.finish_run(id, at, counts, outcome).await
    }
    async fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        self.inner.runs(limit).await
    }
    async fn remember_delivery(&self, ids: &[String], at: SystemTime) -> Result<bool, StoreError> {
        self.inner.remember_delivery(ids, at).await
    }
    async fn forget_webhooks_before(&self, before: SystemTime) -> Result<u64, StoreError> {
        self.inner.forget_webhooks_before(before).await
    }
    async fn save_tokens(&self, platform: &str, tokens: &PlatformTokens) -> Result<(), StoreError> {
        self.inner.save_tokens(platform, tokens).await
    }
    async fn load_tokens(&self, platform: &str) -> Result<Option<PlatformTokens>, StoreError> {
        self.inner.load_tokens(platform).await
    }
    async fn hold_writes(&self, held: &[HeldWrite]) -> Result<(), StoreError> {
        self.inner.hold_writes(held).await
    }
    async fn held_writes(&self) -> Result<Vec<HeldWrite>, StoreError> {
        self.inner.held_writes().await
    }
}

/// Reconciles the seed (two products to write) through a store whose first recording fails.
async fn reconcile_with_failing_recording(
    concurrency: usize,
) -> (Arc<InMemorySink>, Arc<FailingRecordStore>, EngineError) {
    let f = fixture();
    let store = Arc::new(FailingRecordStore {
        inner: InMemoryStore::new(),
        failures: 1.into(),
    });
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
