//! The schema of the state file and its migrations, versioned by `PRAGMA user_version`.
//!
//! Migration `n` (1-based) brings the file from version `n - 1` to `n`. Migrations are only
//! ever appended: a released one is never edited.

use rusqlite::{Connection, TransactionBehavior};
use stockbridge_ports::StoreError;

use crate::error::{store_error, SqliteError};

/// The migrations, oldest first.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"
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
    "#,
    // 2: writes the mass-drop breaker holds (sync-rules.md §9).
    r#"
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
    "#,
];

/// The schema version this build writes: the number of migrations.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the file to [`SCHEMA_VERSION`], one transaction per migration, and refuses a file
/// from a newer build. Safe to run on every start, and by two processes at once: each
/// migration takes the write lock first and reads the version again under it.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found = user_version(conn).map_err(store_error)?;
    refuse_newer(found)?;
    let pending = usize::try_from(found).unwrap_or(0);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(pending) {
        let version = index as i64 + 1;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(store_error)?;
        let found = user_version(&tx).map_err(store_error)?;
        refuse_newer(found)?;
        if found >= version {
            continue;
        }
        let applied = tx
            .execute_batch(sql)
            .and_then(|()| tx.pragma_update(None, "user_version", version))
            .and_then(|()| tx.commit());
        applied.map_err(|source| SqliteError::Migration { version, source })?;
        tracing::info!(version, "state file migrated");
    }
    Ok(())
}

fn refuse_newer(found: i64) -> Result<(), StoreError> {
    if found > SCHEMA_VERSION {
        return Err(SqliteError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        }
        .into());
    }
    Ok(())
}

/// The file's schema version.
pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}
