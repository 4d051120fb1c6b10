//! Where the state lives: `[state] url` names an SQLite file (the default,
//! [`DEFAULT_STATE`]) or a PostgreSQL database (`postgres://...`). The one place that
//! tells them apart and opens the store behind the `StateStore` port.

use std::sync::Arc;

use stockbridge_adapters_postgres::{PostgresError, PostgresStore};
use stockbridge_adapters_store::{SqliteError, SqliteStore, StoreAddress};
use stockbridge_ports::StateStore;

use crate::wiring::WireError;

/// The state store when `[state] url` is not set.
pub const DEFAULT_STATE: &str = "sqlite://stockbridge.db";

/// What `[state] url` accepts, for messages.
pub const ALLOWED: &str = "\"sqlite::memory:\", \"sqlite://PATH\", \"sqlite:PATH\", a path to a \
                           file, or \"postgres://USER@HOST:PORT/DATABASE\"";

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres(url: &str) -> bool {
    let url = url.trim();
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Why `[state] url` cannot be used. The message never holds the URL (it may hold a
/// password).
#[derive(Debug, thiserror::Error)]
pub enum StateUrlError {
    /// A PostgreSQL URL the store cannot use.
    #[error(transparent)]
    Postgres(#[from] PostgresError),
    /// A `scheme://` that is neither SQLite nor PostgreSQL.
    #[error("the scheme `{scheme}://` is not supported")]
    UnsupportedScheme {
        /// The scheme.
        scheme: String,
    },
    /// An SQLite address that cannot be used.
    #[error(transparent)]
    Sqlite(SqliteError),
}

/// Checks `url` without opening anything: a PostgreSQL URL the store can use, or an SQLite
/// address.
pub fn check(url: &str) -> Result<(), StateUrlError> {
    if is_postgres(url) {
        Ok(PostgresStore::check_url(url)?)
    } else {
        StoreAddress::parse(url).map(drop).map_err(|e| match e {
            SqliteError::UnsupportedScheme { scheme, .. } => {
                StateUrlError::UnsupportedScheme { scheme }
            }
            other => StateUrlError::Sqlite(other),
        })
    }
}

/// `url` with any password masked, for messages.
pub fn redact(url: &str) -> String {
    StoreAddress::redact(url)
}

/// Opens the state store at `location`: connects to PostgreSQL (bringing its schema up to
/// date) or opens the SQLite file (creating it).
///
/// # Errors
///
/// [`WireError::StateNotPrivate`] for an SQLite file that is not private to this user (a
/// configuration error); [`WireError::Store`] when the store cannot be opened or reached.
/// Both name the location with any password masked.
pub async fn open(location: &str) -> Result<Arc<dyn StateStore>, WireError> {
    let shown = redact(location);
    if is_postgres(location) {
        return match PostgresStore::connect(location).await {
            Ok(store) => Ok(Arc::new(store)),
            Err(source) => Err(WireError::Store {
                location: shown,
                source,
            }),
        };
    }
    match SqliteStore::open(location) {
        Ok(store) => Ok(Arc::new(store)),
        Err(source) if SqliteError::is_unsafe_file(&source) => Err(WireError::StateNotPrivate {
            location: shown,
            source,
        }),
        Err(source) => Err(WireError::Store {
            location: shown,
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_postgres_urls_from_sqlite_addresses() {
        assert!(is_postgres("postgres://u@host/db"));
        assert!(is_postgres("postgresql://u@host/db"));
        assert!(!is_postgres("sqlite://state.db"));
        assert!(!is_postgres("postgres.db"));
    }

    #[test]
    fn checks_both_kinds_and_refuses_other_schemes_without_repeating_the_url() {
        assert!(check("sqlite://state.db").is_ok());
        assert!(check("postgres://u:pw@127.0.0.1:5432/db").is_ok());
        let mysql = check("mysql://u:hunter2@host/db").unwrap_err();
        assert!(
            matches!(&mysql, StateUrlError::UnsupportedScheme { scheme } if scheme == "mysql"),
            "{mysql:?}"
        );
        let mysql = mysql.to_string();
        assert!(mysql.contains("mysql://"), "{mysql}");
        assert!(!mysql.contains("hunter2"), "{mysql}");
        let tls = check("postgres://u:hunter2@host/db?sslmode=require")
            .unwrap_err()
            .to_string();
        assert!(tls.contains("TLS"), "{tls}");
        assert!(!tls.contains("hunter2"), "{tls}");
        let bad = check("postgres://u:hunter2@host/db?nonsense=1")
            .unwrap_err()
            .to_string();
        assert!(!bad.contains("hunter2"), "{bad}");
    }
}
