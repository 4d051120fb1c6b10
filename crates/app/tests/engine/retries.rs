//! Writes TikTok fails: retried when transient, reported when they keep failing or a SKU is
//! refused, and written by the next run.

use stockbridge_app::engine::LineStatus;

use super::*;

#[tokio::test]
async fn transient_failure_is_retried_and_succeeds() {
    let f = fixture();
    let options = WriterOptions {
        concurrency: 1,
        ..fast()
    };
    let report = reconcile_failing_writes(&f, 2, &options).await;
    assert_eq!(report.counts.failed, 0);
    assert_eq!(report.counts.updated, 2);
    assert_eq!(q(&f, "90011", "7001"), Some(240));
}

#[tokio::test]
async fn write_still_failing_after_retries_is_reported_and_succeeds_next_run() {
    let f = fixture();
    let options = WriterOptions {
        attempts: 2,
        concurrency: 1,
        ..fast()
    };
    let report = reconcile_failing_writes(&f, 2, &options).await;
    assert_eq!(report.counts.failed, 1, "{:?}", report.statuses);
    let failed = report
        .statuses
        .iter()
        .find_map(|s| match s {
            LineStatus::Failed(why) => Some(why.clone()),
            _ => None,
        })
        .unwrap();
    assert!(failed.contains("unavailable"), "{failed}");
    let runs = f.store.runs(1).await.unwrap();
    assert_eq!(runs[0].outcome, RunOutcome::PartlyFailed);
    let log = f.store.audit_log(10).await.unwrap();
    assert!(
        log.iter()
            .any(|e| matches!(e.outcome, AuditOutcome::Failed { .. })),
        "the failure is audited"
    );

    let next = reconcile(
        &f.stores,
        &rules_80(),
        RunKind::Sync,
        &fast(),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!((next.counts.failed, next.counts.updated), (0, 1));
    assert_eq!(q(&f, "90011", "7001"), Some(240));
    assert_eq!(q(&f, "90021", "7001"), Some(999_999));
}

/// Runs a reconciliation whose first `failures` write calls fail with a transient error.
async fn reconcile_failing_writes(
    f: &Fixture,
    failures: u32,
    options: &WriterOptions,
) -> stockbridge_app::engine::SyncReport {
    let sink = FailWrites {
        inner: f.sink.clone(),
        remaining: std::sync::Mutex::new(failures),
    };
    let stores = Stores {
        sink: Arc::new(sink),
        ..f.stores.clone()
    };
    reconcile(
        &stores,
        &rules_80(),
        RunKind::Sync,
        options,
        &CancellationToken::new(),
    )
    .await
    .unwrap()
}

/// Delegates to the fake sink, failing the first `remaining` writes.
struct FailWrites {
    inner: Arc<InMemorySink>,
    remaining: std::sync::Mutex<u32>,
}

#[async_trait::async_trait]
impl stockbridge_ports::InventorySink for FailWrites {
    async fn warehouses(&self) -> Result<Vec<Warehouse>, stockbridge_ports::SinkError> {
        self.inner.warehouses().await
    }
    async fn skus_page(
        &self,
        cursor: Option<String>,
    ) -> Result<stockbridge_ports::Page<TikTokSku>, stockbridge_ports::SinkError> {
        self.inner.skus_page(cursor).await
    }
    async fn current_stock(
        &self,
        products: &[ProductId],
    ) -> Result<Vec<TikTokSku>, stockbridge_ports::SinkError> {
        self.inner.current_stock(products).await
    }
    async fn apply(
        &self,
        write: &ProductWrite,
    ) -> Result<Vec<WriteOutcome>, stockbridge_ports::SinkError> {
        {
            let mut remaining = self.remaining.lock().unwrap();
            if *remaining > 0 {
                *remaining -= 1;
                return Err(stockbridge_ports::SinkError::Transient {
                    message: "HTTP 503".into(),
                });
            }
        }
        self.inner.apply(write).await
    }
}

#[tokio::test]
async fn refused_sku_is_reported_with_tiktoks_code() {
    let f = fixture();
    f.sink.reject_sku(SkuId::new("90011").unwrap());
    let report = reconcile(
        &f.stores,
        &rules_80(),
        RunKind::Sync,
        &fast(),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    let tee = report
        .plan
        .lines
        .iter()
        .position(|l| l.sku == "TEE-RED-S")
        .unwrap();
    assert!(
        matches!(&report.statuses[tee], LineStatus::Failed(why) if why.contains("12052901")),
        "{:?}",
        report.statuses[tee]
    );
    assert_eq!(
        report.counts.updated, 1,
        "the other product is still written"
    );
}
