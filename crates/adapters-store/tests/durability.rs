//! What the SQLite file keeps: across reopening, across schema versions, across a refused
//! batch, and under many callers at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stockbridge_adapters_store::{SqliteError, SqliteStore, SCHEMA_VERSION};
use stockbridge_domain::{ProductId, Quantity, SkuId, WarehouseId};
use stockbridge_ports::{
    AuditEntry, AuditOutcome, HeldWrite, PlatformTokens, RunCounts, RunEnd, RunId, RunKind,
    RunOutcome, Secret, StateStore, StoreError, Trigger,
};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn sku(id: &str) -> SkuId {
    SkuId::new(id).unwrap()
}

fn applied(sku_id: &str, warehouse: &str, new: i64, secs: u64) -> AuditEntry {
    AuditEntry {
        at: at(secs),
        run_id: None,
        product_id: ProductId::new("9001").unwrap(),
        sku_id: sku(sku_id),
        seller_sku: format!("SELLER-{sku_id}"),
        warehouse: WarehouseId::new(warehouse).unwrap(),
        old: None,
        new: Quantity::new(new).unwrap(),
        explanation: format!("{new} in stock"),
        trigger: Trigger::Sync,
        outcome: AuditOutcome::Applied,
    }
}

fn tokens(access: &str) -> PlatformTokens {
    PlatformTokens {
        access_token: Secret::new(access),
        refresh_token: Secret::new("refresh-secret-77"),
        access_expires_at: Some(at(9_000)),
        refresh_expires_at: Some(at(90_000)),
    }
}

fn state_file(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("state.db")
}

fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(&format!("sqlite:{}", path.display())).unwrap()
}

/// Opens the file behind the store's back, as an operator's `sqlite3` shell would.
fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[tokio::test]
async fn reopening_a_file_keeps_confirmed_quantities_runs_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_file(&dir);
    {
        let store = open(&path);
        let run = store.start_run(RunKind::Sync, at(100)).await.unwrap();
        let mut entry = applied("1001", "7001", 12, 101);
        entry.run_id = Some(run);
        store.record_writes(&[entry]).await.unwrap();
        let counts = RunCounts {
            lines: 1,
            updated: 1,
            ..RunCounts::default()
        };
        store
            .finish_run(
                run,
                RunEnd {
                    at: at(102),
                    counts,
                    outcome: RunOutcome::Succeeded,
                },
            )
            .await
            .unwrap();
        store
            .save_tokens("tiktok", &tokens("access-1"))
            .await
            .unwrap();
        store
            .remember_delivery(&["wh-1".to_string()], at(103))
            .await
            .unwrap();
    }

    let store = open(&path);
    let confirmed = store.confirmed(&[sku("1001")]).await.unwrap();
    assert_eq!(confirmed.len(), 1);
    assert_eq!(confirmed[0].quantity.get(), 12);
    assert_eq!(confirmed[0].at, at(101));
    let runs = store.runs(10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].outcome, RunOutcome::Succeeded);
    assert_eq!(runs[0].counts.updated, 1);
    assert_eq!(
        store.audit_log(10).await.unwrap()[0].run_id,
        Some(runs[0].id)
    );
    assert_eq!(
        store.load_tokens("tiktok").await.unwrap(),
        Some(tokens("access-1"))
    );
    assert!(
        !store
            .remember_delivery(&["wh-1".to_string()], at(104))
            .await
            .unwrap(),
        "a webhook seen before the restart is still seen"
    );
}

#[tokio::test]
async fn opening_twice_migrates_once_and_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_file(&dir);
    open(&path)
        .save_tokens("shopify", &tokens("a"))
        .await
        .unwrap();
    let store = open(&path);
    assert_eq!(
        store.load_tokens("shopify").await.unwrap(),
        Some(tokens("a"))
    );
    let version: i64 = raw(&path)
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[tokio::test]
async fn writes_held_by_the_breaker_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_file(&dir);
    let held = HeldWrite {
        at: at(50),
        run_id: None,
        product_id: ProductId::new("9001").unwrap(),
        sku_id: sku("90011"),
        seller_sku: "TEE".into(),
        warehouse: WarehouseId::new("7001").unwrap(),
        old: Quantity::new(12).unwrap(),
        explanation: "Location A 0 = 0".into(),
    };
    open(&path)
        .hold_writes(std::slice::from_ref(&held))
        .await
        .unwrap();
    assert_eq!(open(&path).held_writes().await.unwrap(), vec![held]);
}

#[tokio::test]
async fn a_file_written_by_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_file(&dir);
    drop(open(&path));
    raw(&path)
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();

    let err = SqliteStore::open(path.to_str().unwrap()).unwrap_err();
    let StoreError::Other(source) = &err else {
        panic!("expected Other, got {err:?}");
    };
    let refusal = source.downcast_ref::<SqliteError>().unwrap();
    assert!(
        matches!(refusal, SqliteError::NewerSchema { found, known }
            if *found == SCHEMA_VERSION + 1 && *known == SCHEMA_VERSION),
        "{refusal:?}"
    );
    assert!(
        refusal.to_string().contains("newer Stockbridge"),
        "{refusal}"
    );
}

#[tokio::test]
async fn a_refused_entry_mid_batch_leaves_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&state_file(&dir));
    store
        .record_writes(&[applied("1001", "7001", 5, 10)])
        .await
        .unwrap();

    // An audit entry must name a recorded run (a foreign key), so this one is refused by the
    // database after the two before it were already inserted.
    let mut orphan = applied("1003", "7001", 30, 23);
    orphan.run_id = Some(RunId(424_242));
    let batch = [
        applied("1001", "7001", 10, 21),
        applied("1002", "7001", 20, 22),
        orphan,
    ];
    let err = store.record_writes(&batch).await.unwrap_err();
    assert!(matches!(err, StoreError::Other(_)), "{err:?}");

    let log = store.audit_log(10).await.unwrap();
    assert_eq!(
        log.len(),
        1,
        "no entry of the refused batch is kept: {log:?}"
    );
    let confirmed = store
        .confirmed(&[sku("1001"), sku("1002"), sku("1003")])
        .await
        .unwrap();
    assert_eq!(confirmed.len(), 1, "{confirmed:?}");
    assert_eq!(
        confirmed[0].quantity.get(),
        5,
        "the confirmed number before the batch stands"
    );

    store.record_writes(&batch[..2]).await.unwrap();
    assert_eq!(
        store.all_confirmed().await.unwrap().len(),
        2,
        "the same entries without the orphan are written"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_state_file_and_its_journal_are_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("deeper").join("state.db");
    let store = SqliteStore::open(&format!("sqlite://{}", path.display())).unwrap();
    assert_eq!(store.path(), Some(path.as_path()));
    store.save_tokens("tiktok", &tokens("a")).await.unwrap();

    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600, "state file");
    let wal = path.with_file_name("state.db-wal");
    assert!(wal.exists(), "WAL mode keeps a -wal file while open");
    assert_eq!(mode(&wal), 0o600, "write-ahead log");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_file(&dir);
    std::fs::write(&path, vec![0x5a; 4096]).unwrap();
    let err = SqliteStore::open(path.to_str().unwrap()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
}

#[tokio::test]
async fn a_damaged_row_reads_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_file(&dir);
    let store = open(&path);
    store
        .record_writes(&[applied("1001", "7001", 5, 10)])
        .await
        .unwrap();
    raw(&path)
        .execute("UPDATE audit_log SET \"trigger\" = 'cron'", [])
        .unwrap();
    let err = store.audit_log(10).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { message } if message.contains("cron")),
        "{err:?}"
    );
}

#[tokio::test]
async fn tokens_appear_neither_in_debug_output_nor_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_file(&dir);
    let store = open(&path);
    store
        .save_tokens("tiktok", &tokens("access-secret-42"))
        .await
        .unwrap();
    let loaded = store.load_tokens("tiktok").await.unwrap().unwrap();
    assert_eq!(loaded.access_token.expose(), "access-secret-42");
    let shown = format!("{store:?} {loaded:?}");
    assert!(!shown.contains("secret-"), "{shown}");

    raw(&path)
        .execute("UPDATE platform_tokens SET access_expires_at = 'soon'", [])
        .unwrap();
    let err = store.load_tokens("tiktok").await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("secret-"), "{shown}");
}

#[tokio::test]
async fn the_audit_of_one_sku_is_its_entries_newest_first() {
    let store = SqliteStore::open("sqlite::memory:").unwrap();
    store
        .record_writes(&[
            applied("1001", "7001", 1, 10),
            applied("1002", "7001", 2, 11),
            applied("1001", "7002", 3, 12),
            applied("1001", "7001", 4, 13),
        ])
        .await
        .unwrap();
    let news: Vec<u32> = store
        .audit_for_sku(&sku("1001"), 10)
        .await
        .unwrap()
        .iter()
        .map(|entry| entry.new.get())
        .collect();
    assert_eq!(news, [4, 3, 1]);
    assert_eq!(store.audit_for_sku(&sku("1001"), 2).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_calling_at_once_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(&state_file(&dir)));
    let tasks: Vec<_> = (0..64u64)
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let run = store.start_run(RunKind::Reconcile, at(n)).await?;
                let mut entry = applied(&format!("{}", 5000 + n), "7001", n as i64, n);
                entry.run_id = Some(run);
                store.record_writes(&[entry]).await?;
                assert!(store.remember_delivery(&[format!("wh-{n}")], at(n)).await?);
                store
                    .finish_run(
                        run,
                        RunEnd {
                            at: at(n + 1),
                            counts: RunCounts::default(),
                            outcome: RunOutcome::Succeeded,
                        },
                    )
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(store.runs(1_000).await.unwrap().len(), 64);
    assert_eq!(store.audit_log(1_000).await.unwrap().len(), 64);
    assert_eq!(store.all_confirmed().await.unwrap().len(), 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_wait_for_each_other_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_file(&dir);
    let stores = [Arc::new(open(&path)), Arc::new(open(&path))];
    let tasks: Vec<_> = (0..40u64)
        .map(|n| {
            let store = Arc::clone(&stores[(n % 2) as usize]);
            tokio::spawn(async move {
                store
                    .record_writes(&[applied(&format!("{}", 6000 + n), "7001", 1, n)])
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(stores[0].audit_log(100).await.unwrap().len(), 40);
    assert_eq!(stores[1].all_confirmed().await.unwrap().len(), 40);
}
