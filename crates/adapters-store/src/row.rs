//! Rows read back through the ports' shared decoding ([`stockbridge_ports::rows`]): SQLite's
//! column types, times as integer milliseconds (see [`crate::time`]).

use std::time::SystemTime;

use rusqlite::{Params, Statement};
use stockbridge_ports::{StoreError, StoredRow};

use crate::error::store_error;
use crate::time::{from_millis, from_optional_millis};

/// A SQLite row as [`StoredRow`].
pub(crate) struct SqliteRow<'a, 'stmt>(&'a rusqlite::Row<'stmt>);

impl StoredRow for SqliteRow<'_, '_> {
    fn int(&self, index: usize) -> Result<i64, StoreError> {
        self.0.get(index).map_err(store_error)
    }

    fn optional_int(&self, index: usize) -> Result<Option<i64>, StoreError> {
        self.0.get(index).map_err(store_error)
    }

    fn text(&self, index: usize) -> Result<String, StoreError> {
        self.0.get(index).map_err(store_error)
    }

    fn optional_text(&self, index: usize) -> Result<Option<String>, StoreError> {
        self.0.get(index).map_err(store_error)
    }

    fn time(&self, index: usize) -> Result<SystemTime, StoreError> {
        from_millis(self.int(index)?)
    }

    fn optional_time(&self, index: usize) -> Result<Option<SystemTime>, StoreError> {
        from_optional_millis(self.optional_int(index)?)
    }
}

/// Runs `statement` with `params` and reads every row it returns with `decode`.
pub(crate) fn read_all<T>(
    statement: &mut Statement<'_>,
    params: impl Params,
    decode: impl Fn(&SqliteRow<'_, '_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let rows = statement
        .query_map(params, |row| Ok(decode(&SqliteRow(row))))
        .map_err(store_error)?;
    rows.map(|row| row.map_err(store_error)?).collect()
}
