//! How PostgreSQL's failures become the port's [`StoreError`], and the store's own errors.

use stockbridge_ports::StoreError;
use tokio_postgres::error::SqlState;

/// The SQLSTATE the database raises when a write carries a lease epoch that is no longer
/// current (see the fleet tables' migration).
pub(crate) const STALE_EPOCH: &str = "SB001";

/// What went wrong in the PostgreSQL store itself. It reaches callers as the source of
/// [`StoreError::Other`], so `{:#}` with anyhow (or a walk of `source()`) prints it, and a
/// caller may downcast to act on it.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    /// The address is not a PostgreSQL URL the store can use. The message never repeats the
    /// address (it may hold a password).
    #[error("the PostgreSQL address is not usable: {reason}")]
    Address {
        /// What is wrong.
        reason: String,
    },
    /// The database was written by a newer Stockbridge, whose schema this build does not know.
    #[error(
        "the database was written by a newer Stockbridge (schema version {found}; this build \
         knows versions up to {known}): run that newer version, or point it at another schema"
    )]
    NewerSchema {
        /// The database's schema version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A migration failed; the database stays at the version before it.
    #[error("cannot bring the database to schema version {version}")]
    Migration {
        /// The version the migration leads to.
        version: i64,
        /// Why.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The database refused a write because the lease under which it was made is no longer
    /// current: another worker owns the shop now (or the lease expired). Retrying cannot help;
    /// the writer must stop writing for the shop.
    #[error("the lease of shop {shop_id} under epoch {epoch} is no longer current: {message}")]
    StaleEpoch {
        /// The shop.
        shop_id: i64,
        /// The epoch the write carried.
        epoch: i64,
        /// What the database said.
        message: String,
    },
    /// The fleet's secret key is not usable. Never repeats the key.
    #[error("the fleet secret key (STOCKBRIDGE__FLEET__SECRET_KEY) is not usable: {reason}")]
    SecretKey {
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// A shop's sealed secrets do not open with this key.
    #[error(
        "the secrets of shop {shop} do not open with this fleet secret key (another key \
         sealed them, or the row was changed)"
    )]
    Unseal {
        /// The shop.
        shop: String,
    },
    /// A value cannot be stored as a 64-bit integer.
    #[error("{what} does not fit in the database: {value}")]
    OutOfRange {
        /// What the value is.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// Any other failure of the database or the connection.
    #[error(transparent)]
    Database(#[from] tokio_postgres::Error),
}

impl PostgresError {
    /// Whether `err` says a write was refused for a stale lease epoch
    /// ([`PostgresError::StaleEpoch`]).
    pub fn is_stale_epoch(err: &StoreError) -> bool {
        matches!(err, StoreError::Other(source)
            if matches!(source.downcast_ref(), Some(PostgresError::StaleEpoch { .. })))
    }
}

impl From<PostgresError> for StoreError {
    fn from(err: PostgresError) -> StoreError {
        match err {
            PostgresError::Database(source) => store_error(source),
            PostgresError::Migration { ref source, .. } if is_unavailable(source) => {
                StoreError::Unavailable {
                    message: format!("{err}: {source}"),
                }
            }
            other => StoreError::Other(Box::new(other)),
        }
    }
}

/// Maps a PostgreSQL failure to the port's error: a lost connection, a server that is
/// starting or stopping, too many connections, a deadlock or a serialization failure is
/// `Unavailable` (worth retrying); a stale lease epoch is `Other` with
/// [`PostgresError::StaleEpoch`] as its source; anything else is `Other` with the failure as
/// its source. SQL never embeds a value (all are bound parameters), so no message carries a
/// token.
pub(crate) fn store_error(err: tokio_postgres::Error) -> StoreError {
    if is_unavailable(&err) {
        return StoreError::Unavailable {
            message: describe(&err),
        };
    }
    if let Some(db) = err.as_db_error() {
        if db.code().code() == STALE_EPOCH {
            let (shop_id, epoch) = stale_fields(db.detail().unwrap_or_default());
            return PostgresError::StaleEpoch {
                shop_id,
                epoch,
                message: db.message().to_owned(),
            }
            .into();
        }
    }
    StoreError::Other(Box::new(err))
}

/// The pool could not hand out a connection: the server is unreachable, refused the login,
/// or every connection stayed busy.
pub(crate) fn pool_error(err: deadpool_postgres::PoolError) -> StoreError {
    use deadpool_postgres::PoolError as P;
    match err {
        P::Backend(source) => match source.as_db_error() {
            // A refused login or a missing database needs a person, not a retry.
            Some(db)
                if [
                    SqlState::INVALID_PASSWORD,
                    SqlState::INVALID_AUTHORIZATION_SPECIFICATION,
                    SqlState::INVALID_CATALOG_NAME,
                ]
                .contains(db.code()) =>
            {
                StoreError::Other(Box::new(source))
            }
            _ => StoreError::Unavailable {
                message: describe(&source),
            },
        },
        other => StoreError::Unavailable {
            message: other.to_string(),
        },
    }
}

fn is_unavailable(err: &tokio_postgres::Error) -> bool {
    match err.as_db_error() {
        Some(db) => [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::LOCK_NOT_AVAILABLE,
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::QUERY_CANCELED,
        ]
        .contains(db.code()),
        // No answer from the server: the connection failed or closed.
        None => {
            err.is_closed()
                || std::error::Error::source(err).is_some_and(|s| s.is::<std::io::Error>())
        }
    }
}

/// The error and its cause on one line (tokio-postgres keeps the server's words in the cause).
fn describe(err: &tokio_postgres::Error) -> String {
    match std::error::Error::source(err) {
        Some(cause) => format!("{err}: {cause}"),
        None => err.to_string(),
    }
}

/// Reads `shop=<id> epoch=<n>` from the detail the fence function raises with.
fn stale_fields(detail: &str) -> (i64, i64) {
    let field = |name: &str| {
        detail
            .split_whitespace()
            .find_map(|part| part.strip_prefix(name))
            .and_then(|n| n.parse().ok())
            .unwrap_or(-1)
    };
    (field("shop="), field("epoch="))
}

/// A number that does not fit in PostgreSQL's 64-bit integers.
pub(crate) fn to_i64<T>(what: &'static str, value: T) -> Result<i64, StoreError>
where
    T: TryInto<i64> + Copy + ToString,
{
    value.try_into().map_err(|_| {
        PostgresError::OutOfRange {
            what,
            value: value.to_string(),
        }
        .into()
    })
}

/// A stored value that does not read back.
pub(crate) fn corrupt(message: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shop_and_epoch_of_a_stale_write() {
        assert_eq!(stale_fields("shop=12 epoch=3 current=4"), (12, 3));
        assert_eq!(stale_fields("nothing"), (-1, -1));
    }

    #[test]
    fn a_stale_epoch_is_not_retried() {
        let err: StoreError = PostgresError::StaleEpoch {
            shop_id: 1,
            epoch: 2,
            message: "stale".into(),
        }
        .into();
        assert!(PostgresError::is_stale_epoch(&err));
        assert_eq!(err.retry(), stockbridge_ports::Retry::Never);
    }
}
