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
pub(crate) fn remember_all(
    conn: &mut Connection,
    ids: &[String],
    at: SystemTime,
) -> Result<bool, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(store_error)?;
    let mut new = true;
    for id in ids {
        new &= remember(&tx, id, at)?;
    }
    tx.commit().map_err(store_error)?;
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
