//! Writes TikTok fails: sent once by the engine (the adapter retries within the one retry
//! policy), reported when they fail or a SKU is refused, and written by the next run.

use stockbridge_app::engine::LineStatus;
use stockbridge_ports::fakes::FaultySink;

use super::*;

#[tokio::test]
async fn a_failed_write_is_sent_once_by_the_engine_which_leaves_retries_to_the_adapter() {
    let f = fixture();
    let options = WriterOptions {
        concurrency: 1,
        ..fast()
    };
    let (report, calls) = reconcile_failing_writes(&f, 1, &options).await;
    assert_eq!(
        calls, 2,
        "one call per product, the failed one not repeated"
    );
    assert_eq!((report.counts.failed, report.counts.updated), (1, 1));
}

#[tokio::test]
async fn a_failed_write_is_reported_and_succeeds_next_run() {
    let f = fixture();
    let options = WriterOptions {
        concurrency: 1,
        ..fast()
    };
    let (report, _) = reconcile_failing_writes(&f, 1, &options).await;
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

/// Runs a reconciliation whose first `failures` write calls fail with a transient error;
/// its report, and how many write calls the engine made.
async fn reconcile_failing_writes(
    f: &Fixture,
    failures: usize,
    options: &WriterOptions,
) -> (stockbridge_app::engine::SyncReport, usize) {
    let sink = FaultySink::new(f.sink.clone());
    sink.fail
        .store(failures, std::sync::atomic::Ordering::SeqCst);
    let stores = Stores {
        sink: sink.clone(),
        ..f.stores.clone()
    };
    let report = reconcile(
        &stores,
        &rules_80(),
        RunKind::Sync,
        options,
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    (report, sink.calls())
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
