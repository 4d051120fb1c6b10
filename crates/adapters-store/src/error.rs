//! How SQLite's failures become the port's [`StoreError`], and the store's own errors.

use std::io;
use std::path::PathBuf;

use rusqlite::ErrorCode;
use stockbridge_ports::StoreError;

/// What went wrong in the SQLite store itself. It reaches callers as the source of
/// [`StoreError::Other`], so `{:#}` with anyhow (or a walk of `source()`) prints it, and a
/// caller may downcast to act on it.
#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    /// The address names no file.
    #[error(
        "the state store address {given:?} names no file (expected `sqlite::memory:`, \
         `sqlite://PATH`, `sqlite:PATH` or a path)"
    )]
    EmptyAddress {
        /// What was given.
        given: String,
    },
    /// The address names a scheme other than SQLite's (`postgres://...`).
    #[error(
        "the state store address {given:?} uses the scheme `{scheme}://`, which this build does \
         not support (expected `sqlite::memory:`, `sqlite://PATH`, `sqlite:PATH` or a path)"
    )]
    UnsupportedScheme {
        /// The scheme.
        scheme: String,
        /// What was given, with any password masked.
        given: String,
    },
    /// The state file's directory could not be created.
    #[error("cannot create the directory {} for the state file", path.display())]
    CreateDirectory {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The state file could not be created.
    #[error("cannot create the state file {}", path.display())]
    CreateFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The state file, or a file beside it, is not private to the user running Stockbridge
    /// (a symbolic link, another user's file, not a regular file): it is refused, since the
    /// state file holds tokens.
    #[error("the state file {} {problem}", path.display())]
    UnsafeFile {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        problem: String,
    },
    /// The lock file beside the state file, which tells the stores that have it open, could
    /// not be opened or locked.
    #[error("cannot lock {}", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The file was written by a newer Stockbridge, whose schema this build does not know.
    #[error(
        "the state file was written by a newer Stockbridge (schema version {found}; this \
         build knows versions up to {known}): run that newer version, or point \
         `[state] url` at another file"
    )]
    NewerSchema {
        /// The file's schema version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A migration failed; the file stays at the version before it.
    #[error("cannot bring the state file to schema version {version}")]
    Migration {
        /// The version the migration leads to.
        version: i64,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// A value cannot be stored as a 64-bit integer.
    #[error("{what} does not fit in the state file: {value}")]
    OutOfRange {
        /// What the value is.
        what: &'static str,
        /// The value.
        value: String,
    },
}

impl SqliteError {
    /// Whether `err` says the state file is not private ([`SqliteError::UnsafeFile`]): the
    /// configuration must change, so a retry cannot help.
    pub fn is_unsafe_file(err: &StoreError) -> bool {
        matches!(err, StoreError::Other(source)
            if matches!(source.downcast_ref(), Some(SqliteError::UnsafeFile { .. })))
    }
}

impl From<SqliteError> for StoreError {
    fn from(err: SqliteError) -> StoreError {
        match err {
            SqliteError::Migration { ref source, .. } if is_busy(source) => {
                StoreError::Unavailable {
                    message: err.to_string(),
                }
            }
            other => StoreError::Other(Box::new(other)),
        }
    }
}

/// Maps a SQLite failure to the port's error: busy or locked is `Unavailable` (worth
/// retrying), unreadable values and a damaged file are `Corrupt`, anything else is `Other`
/// with the failure as its source. SQL never embeds a value (all are bound parameters), so
/// no message can carry a token.
pub(crate) fn store_error(err: rusqlite::Error) -> StoreError {
    use rusqlite::Error as E;
    if is_busy(&err) {
        return StoreError::Unavailable {
            message: err.to_string(),
        };
    }
    match &err {
        E::SqliteFailure(failure, _)
            if matches!(
                failure.code,
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase
            ) =>
        {
            corrupt(err.to_string())
        }
        E::FromSqlConversionFailure(..)
        | E::InvalidColumnType(..)
        | E::IntegralValueOutOfRange(..)
        | E::Utf8Error(..) => corrupt(err.to_string()),
        _ => StoreError::Other(Box::new(err)),
    }
}

fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err,
        rusqlite::Error::SqliteFailure(failure, _)
            if matches!(failure.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// A stored value that does not read back.
pub(crate) fn corrupt(message: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        message: message.into(),
    }
}

/// A number that does not fit in SQLite's 64-bit integers.
pub(crate) fn to_i64<T>(what: &'static str, value: T) -> Result<i64, StoreError>
where
    T: TryInto<i64> + Copy + ToString,
{
    value.try_into().map_err(|_| {
        SqliteError::OutOfRange {
            what,
            value: value.to_string(),
        }
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn busy_and_locked_are_unavailable_and_retried() {
        for code in [rusqlite::ffi::SQLITE_BUSY, rusqlite::ffi::SQLITE_LOCKED] {
            let err = store_error(failure(code));
            assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
        }
    }

    #[test]
    fn unreadable_values_and_damaged_files_are_corrupt() {
        let err = store_error(rusqlite::Error::InvalidColumnType(
            0,
            "quantity".into(),
            rusqlite::types::Type::Text,
        ));
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        let err = store_error(failure(rusqlite::ffi::SQLITE_NOTADB));
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    }

    #[test]
    fn other_failures_keep_sqlite_as_their_source() {
        let err = store_error(failure(rusqlite::ffi::SQLITE_CONSTRAINT));
        let StoreError::Other(source) = err else {
            panic!("expected Other, got {err:?}");
        };
        assert!(source.downcast_ref::<rusqlite::Error>().is_some());
    }

    #[test]
    fn a_busy_migration_is_unavailable() {
        let err: StoreError = SqliteError::Migration {
            version: 1,
            source: failure(rusqlite::ffi::SQLITE_BUSY),
        }
        .into();
        assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    }
}
