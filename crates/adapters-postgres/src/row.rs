//! Rows read back through the ports' shared decoding ([`stockbridge_ports::rows`]):
//! PostgreSQL's column types, times as `TIMESTAMPTZ`.

use std::time::SystemTime;

use stockbridge_ports::{StoreError, StoredRow};
use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

use crate::error::corrupt;

/// A PostgreSQL row as [`StoredRow`].
pub(crate) struct PgRow<'a>(pub(crate) &'a Row);

impl PgRow<'_> {
    fn get<'r, T: FromSql<'r>>(&'r self, index: usize) -> Result<T, StoreError> {
        self.0.try_get(index).map_err(unreadable_row)
    }

    /// A `TEXT[]` column.
    pub(crate) fn texts(&self, index: usize) -> Result<Vec<String>, StoreError> {
        self.get(index)
    }

    /// A `BOOLEAN` column.
    pub(crate) fn flag(&self, index: usize) -> Result<bool, StoreError> {
        self.get(index)
    }
}

impl StoredRow for PgRow<'_> {
    fn int(&self, index: usize) -> Result<i64, StoreError> {
        self.get(index)
    }

    fn optional_int(&self, index: usize) -> Result<Option<i64>, StoreError> {
        self.get(index)
    }

    fn text(&self, index: usize) -> Result<String, StoreError> {
        self.get(index)
    }

    fn optional_text(&self, index: usize) -> Result<Option<String>, StoreError> {
        self.get(index)
    }

    fn time(&self, index: usize) -> Result<SystemTime, StoreError> {
        self.get(index)
    }

    fn optional_time(&self, index: usize) -> Result<Option<SystemTime>, StoreError> {
        self.get(index)
    }
}

/// Reads every row with `decode`.
pub(crate) fn read_all<T>(
    rows: &[Row],
    decode: impl Fn(&PgRow<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(|row| decode(&PgRow(row))).collect()
}

/// A column that does not read back as its type.
pub(crate) fn unreadable_row(err: tokio_postgres::Error) -> StoreError {
    corrupt(err.to_string())
}
