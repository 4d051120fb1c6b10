//! Upgrading a state file written by an older build: a version 2 file (before the ledger of
//! TikTok orders in flight) opens under the current code, migrates to the current version,
//! keeps every row it had, and then keeps held orders like a new file.
//!
//! The old file is built here from the SQL of migrations 1 and 2 as they were released (copied
//! below, not taken from the current code), so that editing a released migration, or a new
//! migration that does not apply to a file in use, fails this test.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::params;
use stockbridge_adapters_store::{SqliteStore, SCHEMA_VERSION};
use stockbridge_domain::{
    HeldOrder, OrderId, OrderLine, OrderStatus, ProductId, Quantity, Sku, SkuId, TikTokOrder,
    WarehouseId,
};
use stockbridge_ports::{
    AuditEntry, AuditOutcome, HeldWrite, PlatformTokens, RunKind, RunOutcome, Secret, StateStore,
    Trigger,
};

/// Migrations 1 and 2 as released: the schema of a version 2 state file.
const VERSION_2: &str = r#"
    CREATE TABLE confirmed_quantities (
        sku_id        TEXT    NOT NULL,
        warehouse_id  TEXT    NOT NULL,
        quantity      INTEGER NOT NULL CHECK (quantity BETWEEN 0 AND 999999),
        confirmed_at  INTEGER NOT NULL,
        PRIMARY KEY (sku_id, warehouse_id)
    ) WITHOUT ROWID;

    CREATE TABLE runs (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        kind            TEXT    NOT NULL CHECK (kind IN ('sync', 'reconcile')),
        started_at      INTEGER NOT NULL,
        finished_at     INTEGER,
        lines           INTEGER NOT NULL DEFAULT 0 CHECK (lines >= 0),
        updated         INTEGER NOT NULL DEFAULT 0 CHECK (updated >= 0),
        unchanged       INTEGER NOT NULL DEFAULT 0 CHECK (unchanged >= 0),
        failed          INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
        outcome         TEXT    NOT NULL
            CHECK (outcome IN ('running', 'succeeded', 'partly_failed', 'aborted')),
        outcome_detail  TEXT
    );

    CREATE TABLE audit_log (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        at            INTEGER NOT NULL,
        run_id        INTEGER REFERENCES runs (id),
        product_id    TEXT    NOT NULL,
        sku_id        TEXT    NOT NULL,
        seller_sku    TEXT    NOT NULL,
        warehouse_id  TEXT    NOT NULL,
        old           INTEGER CHECK (old BETWEEN 0 AND 999999),
        new           INTEGER NOT NULL CHECK (new BETWEEN 0 AND 999999),
        explanation   TEXT    NOT NULL,
        "trigger"     TEXT    NOT NULL,
        outcome       TEXT    NOT NULL CHECK (outcome IN ('applied', 'rejected', 'failed')),
        code          TEXT,
        message       TEXT
    );
    CREATE INDEX audit_log_by_sku ON audit_log (sku_id, id);

    CREATE TABLE processed_webhooks (
        id           TEXT    PRIMARY KEY,
        received_at  INTEGER NOT NULL
    );
    CREATE INDEX processed_webhooks_by_time ON processed_webhooks (received_at);

    CREATE TABLE platform_tokens (
        platform            TEXT    PRIMARY KEY,
        access_token        TEXT    NOT NULL,
        refresh_token       TEXT    NOT NULL,
        access_expires_at   INTEGER,
        refresh_expires_at  INTEGER
    );

    CREATE TABLE held_writes (
        sku_id        TEXT    NOT NULL,
        warehouse_id  TEXT    NOT NULL,
        held_at       INTEGER NOT NULL,
        run_id        INTEGER REFERENCES runs (id),
        product_id    TEXT    NOT NULL,
        seller_sku    TEXT    NOT NULL,
        old           INTEGER NOT NULL CHECK (old BETWEEN 1 AND 999999),
        explanation   TEXT    NOT NULL,
        PRIMARY KEY (sku_id, warehouse_id)
    ) WITHOUT ROWID;

    PRAGMA user_version = 2;
"#;

fn at_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// A version 2 file with one finished run, its applied write (and so a confirmed quantity),
/// a remembered webhook, TikTok's tokens and a write the breaker holds, as that build wrote
/// them (times in milliseconds).
fn version_2_file(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(VERSION_2).unwrap();
    conn.execute(
        "INSERT INTO runs (id, kind, started_at, finished_at, lines, updated, unchanged, failed, outcome) \
         VALUES (1, 'sync', 100000, 102000, 2, 1, 1, 0, 'succeeded')",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO audit_log (at, run_id, product_id, sku_id, seller_sku, warehouse_id, old, new, \
         explanation, \"trigger\", outcome) \
         VALUES (101000, 1, '9001', '90011', 'TEE', '7001', 3, 12, 'Location A 12 = 12', 'sync', 'applied')",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO confirmed_quantities (sku_id, warehouse_id, quantity, confirmed_at) \
         VALUES ('90011', '7001', 12, 101000)",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO processed_webhooks (id, received_at) VALUES ('shopify:wh-1', 103000)",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO platform_tokens VALUES ('tiktok', 'access-1', 'refresh-1', 9000000, 90000000)",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO held_writes VALUES ('90012', '7001', 104000, 1, '9001', 'TEE-L', 7, 'Location A 0 = 0')",
        params![],
    )
    .unwrap();
}

fn user_version(path: &Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap()
}

fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(&format!("sqlite:{}", path.display())).unwrap()
}

fn order(id: &str) -> HeldOrder {
    HeldOrder {
        order: TikTokOrder {
            id: OrderId::new(id).unwrap(),
            status: OrderStatus::AwaitingShipment,
            create_time: 1_700_000_000,
            update_time: 1_700_000_100,
            lines: vec![OrderLine {
                sku_id: SkuId::new("90011").unwrap(),
                seller_sku: Some(Sku::new("TEE").unwrap()),
                warehouse: Some(WarehouseId::new("7001").unwrap()),
                quantity: 3,
            }],
        },
        first_seen_ms: 1_700_000_000_000,
        copied_at_ms: None,
    }
}

#[tokio::test]
async fn a_version_2_file_migrates_to_the_current_version_keeps_its_data_and_holds_orders() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    version_2_file(&path);
    assert_eq!(user_version(&path), 2, "the old file as that build left it");

    let store = open(&path);
    assert_eq!(user_version(&path), SCHEMA_VERSION, "migrated on open");

    let runs = store.runs(10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (
            runs[0].kind,
            runs[0].outcome.clone(),
            runs[0].counts.updated
        ),
        (RunKind::Sync, RunOutcome::Succeeded, 1)
    );
    assert_eq!(runs[0].started_at, at_ms(100_000));
    assert_eq!(
        store.audit_log(10).await.unwrap(),
        vec![AuditEntry {
            at: at_ms(101_000),
            run_id: Some(runs[0].id),
            product_id: ProductId::new("9001").unwrap(),
            sku_id: SkuId::new("90011").unwrap(),
            seller_sku: "TEE".into(),
            warehouse: WarehouseId::new("7001").unwrap(),
            old: Some(Quantity::new(3).unwrap()),
            new: Quantity::new(12).unwrap(),
            explanation: "Location A 12 = 12".into(),
            trigger: Trigger::Sync,
            outcome: AuditOutcome::Applied,
        }]
    );
    let confirmed = store
        .confirmed(&[SkuId::new("90011").unwrap()])
        .await
        .unwrap();
    assert_eq!(
        (
            confirmed.len(),
            confirmed[0].quantity.get(),
            confirmed[0].at
        ),
        (1, 12, at_ms(101_000))
    );
    assert_eq!(
        store.load_tokens("tiktok").await.unwrap(),
        Some(PlatformTokens {
            access_token: Secret::new("access-1"),
            refresh_token: Secret::new("refresh-1"),
            access_expires_at: Some(at_ms(9_000_000)),
            refresh_expires_at: Some(at_ms(90_000_000)),
        })
    );
    assert!(
        !store
            .remember_delivery(&["shopify:wh-1".to_owned()], at_ms(105_000))
            .await
            .unwrap(),
        "a webhook processed before the upgrade is still known"
    );
    assert_eq!(
        store.held_writes().await.unwrap(),
        vec![HeldWrite {
            at: at_ms(104_000),
            run_id: Some(runs[0].id),
            product_id: ProductId::new("9001").unwrap(),
            sku_id: SkuId::new("90012").unwrap(),
            seller_sku: "TEE-L".into(),
            warehouse: WarehouseId::new("7001").unwrap(),
            old: Quantity::new(7).unwrap(),
            explanation: "Location A 0 = 0".into(),
        }]
    );

    // The new table works: the ledger starts empty, keeps an order, survives a reopen.
    assert_eq!(store.orders().await.unwrap(), Vec::new());
    store.save_orders(&[order("576001")]).await.unwrap();
    drop(store);
    let reopened = open(&path);
    assert_eq!(reopened.orders().await.unwrap(), vec![order("576001")]);
    assert_eq!(
        user_version(&path),
        SCHEMA_VERSION,
        "opening again changes nothing"
    );
    assert_eq!(reopened.runs(10).await.unwrap().len(), 1);
}
