//! Processed webhooks: ids remembered so that a redelivered webhook is handled once.

use std::time::SystemTime;

use rusqlite::{params, Connection, TransactionBehavior};
use stockbridge_ports::StoreError;

use crate::error::store_error;
use crate::time::to_millis;

/// Remembers `id`; `true` when it was not remembered yet. A seen id keeps its first time.
pub(crate) fn remember(conn: &Connection, id: &str, at: SystemTime) -> Result<bool, StoreError> {
    let at = to_millis(at)?;
    let inserted = conn
        .prepare_cached(
            "INSERT INTO processed_webhooks (id, received_at) VALUES (?1, ?2) \
             ON CONFLICT (id) DO NOTHING",
        )
        .and_then(|mut insert| insert.execute(params![id, at]))
        .map_err(store_error)?;
    Ok(inserted == 1)
}

/// Remembers every id in one transaction; `true` when none was remembered yet.
///
/// The commit is not flushed to disk on its own (`synchronous=NORMAL` for this transaction,
/// `FULL` again before the call returns, whatever happened): it survives the process
/// crashing, and a power cut can lose only the last ids (the next flushed commit makes them
/// durable too). Forgetting an id costs one more processing of a redelivered webhook, which
/// is harmless; flushing every delivery's commit bounded the webhooks a shop's server takes
/// per second to what the disk flushes (a few hundred).
pub(crate) fn remember_all(
    conn: &mut Connection,
    ids: &[String],
    at: SystemTime,
) -> Result<bool, StoreError> {
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(store_error)?;
    let remembered = (|| -> Result<bool, StoreError> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(store_error)?;
        let mut new = true;
        for id in ids {
            new &= remember(&tx, id, at)?;
        }
        tx.commit().map_err(store_error)?;
        Ok(new)
    })();
    let restored = conn
        .pragma_update(None, "synchronous", "FULL")
        .map_err(store_error);
    let new = remembered?;
    restored?;
    Ok(new)
}

/// Forgets ids received before `before`; returns how many.
pub(crate) fn forget_before(conn: &mut Connection, before: SystemTime) -> Result<u64, StoreError> {
    let before = to_millis(before)?;
    let deleted = conn
        .prepare_cached("DELETE FROM processed_webhooks WHERE received_at < ?1")
        .and_then(|mut delete| delete.execute([before]))
        .map_err(store_error)?;
    Ok(deleted as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synchronous(conn: &Connection) -> i64 {
        conn.pragma_query_value(None, "synchronous", |row| row.get(0))
            .unwrap()
    }

    fn connection(dir: &tempfile::TempDir) -> Connection {
        let conn = Connection::open(dir.path().join("state.db")).unwrap();
        conn.pragma_update(None, "journal_mode", "wal").unwrap();
        conn.pragma_update(None, "synchronous", "FULL").unwrap();
        conn.execute_batch(
            "CREATE TABLE processed_webhooks (id TEXT PRIMARY KEY, received_at INTEGER NOT NULL)",
        )
        .unwrap();
        conn
    }

    /// 2 is `FULL`.
    const FULL: i64 = 2;

    #[test]
    fn every_other_commit_stays_flushed_after_delivery_ids_are_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = connection(&dir);
        let ids = ["w1".to_owned(), "e1".to_owned()];
        assert!(remember_all(&mut conn, &ids, SystemTime::now()).unwrap());
        assert_eq!(synchronous(&conn), FULL);
        assert!(!remember_all(&mut conn, &ids, SystemTime::now()).unwrap());
        assert_eq!(synchronous(&conn), FULL);
    }

    #[test]
    fn every_other_commit_stays_flushed_after_remembering_failed() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = connection(&dir);
        conn.execute_batch("DROP TABLE processed_webhooks").unwrap();
        assert!(remember_all(&mut conn, &["w1".to_owned()], SystemTime::now()).is_err());
        assert_eq!(synchronous(&conn), FULL);
    }
}
