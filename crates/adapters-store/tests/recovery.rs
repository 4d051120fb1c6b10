//! A run whose process stopped before it finished is marked aborted when the file is next
//! opened, and a run of a store that is still open is left alone.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stockbridge_adapters_store::{SqliteStore, STOPPED_NOTE};
use stockbridge_domain::{ProductId, Quantity, SkuId, WarehouseId};
use stockbridge_ports::{
    AuditEntry, AuditOutcome, RunCounts, RunEnd, RunKind, RunOutcome, StateStore, Trigger,
};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(&format!("sqlite:{}", path.display())).unwrap()
}

fn outcome_in_file(path: &Path, run: i64) -> (String, Option<String>, Option<i64>) {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row(
            "SELECT outcome, outcome_detail, finished_at FROM runs WHERE id = ?1",
            [run],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap()
}

fn written(run: stockbridge_ports::RunId) -> AuditEntry {
    AuditEntry {
        at: at(101),
        run_id: Some(run),
        product_id: ProductId::new("9001").unwrap(),
        sku_id: SkuId::new("90011").unwrap(),
        seller_sku: "TEE-RED-S".into(),
        warehouse: WarehouseId::new("7001").unwrap(),
        old: Some(Quantity::new(300).unwrap()),
        new: Quantity::new(240).unwrap(),
        explanation: "300; x 80% = 240".into(),
        trigger: Trigger::Reconcile,
        outcome: AuditOutcome::Applied,
    }
}

#[tokio::test]
async fn a_run_left_running_by_a_stopped_process_reads_aborted_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = open(&path);
    let done = store.start_run(RunKind::Sync, at(10)).await.unwrap();
    store
        .finish_run(
            done,
            RunEnd {
                at: at(11),
                counts: RunCounts::default(),
                outcome: RunOutcome::Succeeded,
            },
        )
        .await
        .unwrap();
    let cut = store.start_run(RunKind::Reconcile, at(100)).await.unwrap();
    store.record_writes(&[written(cut)]).await.unwrap();
    // The process goes away mid-run: its lock goes with it, the run never finishes.
    drop(store);
    assert_eq!(outcome_in_file(&path, cut.0).0, "running");

    let reopened = open(&path);
    let runs = reopened.runs(10).await.unwrap();
    assert_eq!(runs[0].id, cut);
    assert_eq!(runs[0].outcome, RunOutcome::Aborted(STOPPED_NOTE.into()));
    assert_eq!(runs[0].finished_at, None, "when it stopped is unknown");
    assert_eq!(runs[1].outcome, RunOutcome::Succeeded, "finished runs stay");
    assert_eq!(
        reopened.audit_log(10).await.unwrap(),
        vec![written(cut)],
        "what the cut run wrote is kept"
    );
    let (outcome, note, finished) = outcome_in_file(&path, cut.0);
    assert_eq!(
        (outcome.as_str(), note.as_deref(), finished),
        ("aborted", Some(STOPPED_NOTE), None)
    );
    assert!(STOPPED_NOTE.contains("stopped before the run finished"));
}

#[tokio::test]
async fn a_run_of_a_store_still_open_elsewhere_is_left_running_and_finishes_normally() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let serving = open(&path);
    let run = serving
        .start_run(RunKind::Reconcile, at(100))
        .await
        .unwrap();

    // An operator's `stockbridge audit` opens the same file while the run goes on.
    let onlooker = open(&path);
    assert_eq!(
        onlooker.runs(1).await.unwrap()[0].outcome,
        RunOutcome::Running
    );
    drop(onlooker);
    assert_eq!(outcome_in_file(&path, run.0).0, "running");

    let counts = RunCounts {
        lines: 4,
        updated: 1,
        unchanged: 3,
        failed: 0,
    };
    serving
        .finish_run(
            run,
            RunEnd {
                at: at(101),
                counts,
                outcome: RunOutcome::Succeeded,
            },
        )
        .await
        .unwrap();
    drop(serving);
    let records = open(&path).runs(1).await.unwrap();
    assert_eq!(records[0].outcome, RunOutcome::Succeeded);
    assert_eq!(records[0].counts, counts);
}

#[tokio::test]
async fn an_orphan_is_marked_once_the_last_store_over_the_file_has_closed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let crashed = open(&path);
    let run = crashed.start_run(RunKind::Sync, at(100)).await.unwrap();
    let still_open = open(&path);
    drop(crashed);

    // Another store still has the file open, so a live run cannot be told from a lost one.
    drop(open(&path));
    assert_eq!(outcome_in_file(&path, run.0).0, "running");

    drop(still_open);
    let alone = open(&path);
    assert_eq!(
        alone.runs(1).await.unwrap()[0].outcome,
        RunOutcome::Aborted(STOPPED_NOTE.into())
    );
}
