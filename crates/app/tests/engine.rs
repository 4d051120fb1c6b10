//! The reconciliation engine against in-memory fakes and mocks of the ports.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use stockbridge_app::reconcile::{jobs_for, read_and_plan, reconcile, EngineError, Stores};
use stockbridge_app::writer::{LineStatus, WriterOptions};
use stockbridge_domain::*;
use stockbridge_ports::fakes::{InMemorySink, InMemorySource, InMemoryStore};
use stockbridge_ports::{
    AuditEntry, AuditOutcome, ConfirmedQuantity, MockInventorySink, PlatformTokens, RunCounts,
    RunId, RunKind, RunOutcome, RunRecord, StateStore, StoreError, Trigger,
};
use tokio_util::sync::CancellationToken;

fn seed_source() -> InMemorySource {
    let locations = vec![
        Location {
            id: LocationId::new(1).unwrap(),
            name: "Location A".into(),
            active: true,
        },
        Location {
            id: LocationId::new(2).unwrap(),
            name: "Location B".into(),
            active: true,
        },
    ];
    let variant = |id: u64, sku: &str, levels: &[(u64, i64)]| VariantSnapshot {
        variant_id: VariantId::new(id).unwrap(),
        inventory_item_id: InventoryItemId::new(id * 10).unwrap(),
        sku: Some(Sku::new(sku).unwrap()),
        tracked: true,
        policy: InventoryPolicy::Deny,
        product_status: ProductStatus::Active,
        levels: levels
            .iter()
            .map(|&(l, a)| StockLevel {
                location: LocationId::new(l).unwrap(),
                available: a,
            })
            .collect(),
    };
    let mut untracked = variant(102, "POSTER", &[]);
    untracked.tracked = false;
    InMemorySource::new(
        locations,
        vec![
            variant(101, "TEE-RED-S", &[(1, 100), (2, 200)]),
            untracked,
            variant(103, "MUG", &[(1, 985)]),
        ],
    )
}

fn warehouses() -> Vec<Warehouse> {
    let wh = |id: &str, name: &str, default| Warehouse {
        id: WarehouseId::new(id).unwrap(),
        name: name.into(),
        kind: WarehouseKind::Sales,
        status: WarehouseStatus::Enabled,
        is_default: default,
    };
    vec![wh("7001", "α", true), wh("7002", "β", false)]
}

fn tiktok_sku(product: &str, id: &str, seller: &str, stock: &[(&str, i64)]) -> TikTokSku {
    TikTokSku {
        product_id: ProductId::new(product).unwrap(),
        sku_id: SkuId::new(id).unwrap(),
        seller_sku: seller.into(),
        stock: stock
            .iter()
            .map(|&(w, q)| WarehouseStock {
                warehouse: WarehouseId::new(w).unwrap(),
                quantity: Quantity::new(q).unwrap(),
            })
            .collect(),
    }
}

fn seed_sink() -> InMemorySink {
    InMemorySink::new(
        warehouses(),
        vec![
            tiktok_sku("9001", "90011", "TEE-RED-S", &[("7001", 0), ("7002", 0)]),
            tiktok_sku("9002", "90021", "POSTER", &[("7001", 5)]),
            tiktok_sku("9003", "90031", "MUG", &[("7001", 788)]),
        ],
    )
}

struct Fixture {
    stores: Stores,
    sink: Arc<InMemorySink>,
    store: Arc<InMemoryStore>,
}

fn fixture() -> Fixture {
    let sink = Arc::new(seed_sink());
    let store = Arc::new(InMemoryStore::new());
    let stores = Stores {
        source: Arc::new(seed_source()),
        sink: sink.clone(),
        store: store.clone(),
    };
    Fixture {
        stores,
        sink,
        store,
    }
}

fn fast() -> WriterOptions {
    WriterOptions {
        backoff: Duration::from_millis(1),
        ..WriterOptions::default()
    }
}

fn rules_80() -> RuleSet {
    RuleSet {
        quantity_percent: Percent::from_f64(80.0).unwrap(),
        ..RuleSet::default()
    }
}

fn q(f: &Fixture, sku: &str, wh: &str) -> Option<u32> {
    f.sink
        .quantity(&SkuId::new(sku).unwrap(), &WarehouseId::new(wh).unwrap())
}

#[tokio::test]
async fn sync_pushes_the_numbers_the_rules_give_and_only_those_that_differ() {
    let f = fixture();
    let report = reconcile(
        &f.stores,
        &rules_80(),
        RunKind::Sync,
        &fast(),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(q(&f, "90011", "7001"), Some(240), "300 at 80%");
    assert_eq!(
        q(&f, "90011", "7002"),
        Some(0),
        "β is untargeted and restated unchanged"
    );
    assert_eq!(q(&f, "90021", "7001"), Some(999_999), "untracked");
    assert_eq!(
        q(&f, "90031", "7001"),
        Some(788),
        "985 at 80%, already right"
    );
    assert_eq!(
        (
            report.counts.updated,
            report.counts.unchanged,
            report.counts.failed
        ),
        (2, 1, 0)
    );
    assert_eq!(
        f.sink.writes().len(),
        2,
        "one write per changed product, none for the unchanged one"
    );
}

#[tokio::test]
async fn second_sync_writes_nothing() {
    let f = fixture();
    let cancel = CancellationToken::new();
    reconcile(&f.stores, &rules_80(), RunKind::Sync, &fast(), &cancel)
        .await
        .unwrap();
    let writes = f.sink.writes().len();
    let again = reconcile(&f.stores, &rules_80(), RunKind::Sync, &fast(), &cancel)
        .await
        .unwrap();
    assert_eq!(f.sink.writes().len(), writes);
    assert_eq!(again.counts.updated, 0);
    assert_eq!(again.counts.unchanged, 3);
}

#[tokio::test]
async fn every_attempted_write_is_in_the_audit_log_with_its_explanation_and_trigger() {
    let f = fixture();
    let report = reconcile(
        &f.stores,
        &rules_80(),
        RunKind::Sync,
        &fast(),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    let log = f.store.audit_log(10).await.unwrap();
    assert_eq!(log.len(), 2);
    let tee = log.iter().find(|e| e.seller_sku == "TEE-RED-S").unwrap();
    assert_eq!((tee.old.map(|q| q.get()), tee.new.get()), (Some(0), 240));
    assert_eq!(
        tee.explanation,
        "Location A 100 + Location B 200 = 300; x 80% = 240"
    );
    assert_eq!(tee.trigger, Trigger::Sync);
    assert_eq!(tee.outcome, AuditOutcome::Applied);
    assert_eq!(tee.run_id, Some(report.run_id));
    let runs = f.store.runs(1).await.unwrap();
    assert_eq!(runs[0].outcome, RunOutcome::Succeeded);
    assert_eq!(runs[0].counts.updated, 2);
}

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
) -> stockbridge_app::reconcile::SyncReport {
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

#[tokio::test]
async fn rules_that_do_not_fit_the_stores_stop_before_any_write() {
    let f = fixture();
    let rules = RuleSet {
        location_mappings: vec![LocationMapping {
            locations: LocationSelector::All,
            warehouse: Some("γ".into()),
        }],
        ..RuleSet::default()
    };
    let err = reconcile(
        &f.stores,
        &rules,
        RunKind::Sync,
        &fast(),
        &CancellationToken::new(),
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, EngineError::Rules(_)));
    assert!(err.is_configuration());
    assert!(err.to_string().contains("γ"), "{err}");
    assert!(f.sink.writes().is_empty());
    assert!(matches!(
        f.store.runs(1).await.unwrap()[0].outcome,
        RunOutcome::Aborted(_)
    ));
}

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

#[tokio::test]
async fn writes_that_lower_stock_go_first() {
    let f = fixture();
    let snapshot = read_and_plan(
        &f.stores,
        &RuleSet {
            quantity_percent: Percent::from_f64(0.0).unwrap(),
            ..RuleSet::default()
        },
    )
    .await
    .unwrap();
    let jobs = jobs_for(&snapshot.plan, &snapshot.tiktok);
    // MUG goes 788 -> 0 (lower); TEE stays 0; POSTER goes 5 -> 999999 (higher).
    let order: Vec<&str> = jobs.iter().map(|j| j.write.product_id.as_str()).collect();
    assert_eq!(order, vec!["9003", "9002"]);
}

#[tokio::test]
async fn one_write_call_per_changed_product() {
    let f = fixture();
    let mut mock = MockInventorySink::new();
    let (warehouses, skus) = (warehouses(), seed_sink_skus());
    mock.expect_warehouses()
        .returning(move || Ok(warehouses.clone()));
    mock.expect_all_skus().returning(move || Ok(skus.clone()));
    mock.expect_apply().times(2).returning(|w| {
        Ok(w.skus
            .iter()
            .flat_map(|s| {
                s.stock.iter().map(|st| WriteOutcome {
                    sku_id: s.sku_id.clone(),
                    warehouse: st.warehouse.clone(),
                    outcome: WarehouseOutcome::Applied,
                })
            })
            .collect())
    });
    let stores = Stores {
        sink: Arc::new(mock),
        ..f.stores.clone()
    };
    let report = reconcile(
        &stores,
        &rules_80(),
        RunKind::Sync,
        &fast(),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(report.counts.updated, 2);
}

fn seed_sink_skus() -> Vec<TikTokSku> {
    vec![
        tiktok_sku("9001", "90011", "TEE-RED-S", &[("7001", 0), ("7002", 0)]),
        tiktok_sku("9002", "90021", "POSTER", &[("7001", 5)]),
        tiktok_sku("9003", "90031", "MUG", &[("7001", 788)]),
    ]
}

/// A Shopify that never answers, as a huge catalog read looks from outside.
struct SilentSource;

#[async_trait::async_trait]
impl stockbridge_ports::InventorySource for SilentSource {
    async fn locations(&self) -> Result<Vec<Location>, stockbridge_ports::SourceError> {
        std::future::pending().await
    }

    async fn variants_page(
        &self,
        _cursor: Option<String>,
    ) -> Result<stockbridge_ports::Page<VariantSnapshot>, stockbridge_ports::SourceError> {
        std::future::pending().await
    }

    async fn variants_for_items(
        &self,
        _items: &[InventoryItemId],
    ) -> Result<Vec<VariantSnapshot>, stockbridge_ports::SourceError> {
        std::future::pending().await
    }
}

#[tokio::test(start_paused = true)]
async fn cancelling_while_the_stores_are_still_being_read_stops_at_once_and_records_the_run() {
    let f = fixture();
    let stores = Stores {
        source: Arc::new(SilentSource),
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
    async fn remember_webhook(&self, id: &str, at: SystemTime) -> Result<bool, StoreError> {
        self.inner.remember_webhook(id, at).await
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
