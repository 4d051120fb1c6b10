//! The reconciliation engine against in-memory fakes and mocks of the ports: what a sync
//! writes, and how it goes when writes fail (`retries`), when it is cancelled
//! (`cancellation`), and when the state store fails mid-sync (`recording`).

mod cancellation;
mod recording;
mod retries;

use std::sync::Arc;
use std::time::Duration;

use stockbridge_app::engine::{read_and_plan, reconcile, EngineError, Stores, WriterOptions};
use stockbridge_domain::*;
use stockbridge_ports::fakes::shop::{location, tiktok_sku, variant, warehouse};
use stockbridge_ports::fakes::{InMemorySink, InMemorySource, InMemoryStore};
use stockbridge_ports::{
    AuditOutcome, MockInventorySink, RunKind, RunOutcome, StateStore, Trigger,
};
use tokio_util::sync::CancellationToken;

fn seed_source() -> InMemorySource {
    let locations = vec![location(1, "Location A"), location(2, "Location B")];
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
    vec![warehouse("7001", "α", true), warehouse("7002", "β", false)]
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
    WriterOptions::default()
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
    let jobs = snapshot.plan.write_jobs(&snapshot.tiktok);
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
