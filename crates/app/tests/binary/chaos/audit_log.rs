//! What serve's state file says: counts and applied writes, read straight from SQLite.

use std::collections::BTreeMap;
use std::path::Path;

/// Applied writes per TikTok SKU id according to the audit log: distinct write times with
/// outcome `applied` (one product write records all its lines at one instant).
pub(super) fn applied_writes_in_audit(state: &Path) -> BTreeMap<String, u64> {
    let db =
        rusqlite::Connection::open_with_flags(state, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut query = db
        .prepare(
            "SELECT sku_id, COUNT(DISTINCT at) FROM audit_log WHERE outcome = 'applied' GROUP BY sku_id",
        )
        .unwrap();
    let rows = query
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap();
    rows.map(|r| {
        let (sku, n) = r.unwrap();
        (sku, n as u64)
    })
    .collect()
}

pub(super) fn count(state: &Path, sql: &str) -> i64 {
    let db =
        rusqlite::Connection::open_with_flags(state, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}
