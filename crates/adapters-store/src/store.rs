//! [`SqliteStore`]: opening the file, and running each port call off the async runtime.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};
use stockbridge_domain::{HeldOrder, SkuId};
use stockbridge_ports::{
    AuditEntry, ConfirmedQuantity, HeldWrite, PlatformTokens, RunEnd, RunId, RunKind, RunRecord,
    StateStore, StoreError,
};

use crate::address::StoreAddress;
use crate::error::{store_error, SqliteError};
use crate::private;
use crate::{audit, confirmed, held, recovery, runs, schema, tokens, webhooks};

/// How long a call waits for another connection (another Stockbridge process, or an
/// operator's `sqlite3` shell) to release the file before failing with `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The state store over one SQLite file (or memory). Cheap to share behind an `Arc`; calls
/// from many tasks are serialised on one connection, each on Tokio's blocking pool, so the
/// async runtime never waits on the disk.
pub struct SqliteStore {
    address: StoreAddress,
    conn: Arc<Mutex<Connection>>,
    /// Held while the store lives, for a file (see [`recovery`]).
    _open_lock: Option<recovery::OpenLock>,
}

impl SqliteStore {
    /// Opens the store at `url_or_path` (`sqlite://stockbridge.db`, `sqlite:PATH`, a plain
    /// path, or `sqlite::memory:`), creating the file and its directory when missing, and
    /// brings its schema up to date. When no other process has the file open, runs still
    /// `running` were left by a process that stopped and are marked aborted with
    /// [`STOPPED_NOTE`](crate::STOPPED_NOTE).
    ///
    /// This blocks briefly on the disk; it is meant for start-up.
    ///
    /// # Errors
    ///
    /// `Unavailable` when another process holds the file locked past the busy timeout;
    /// `Corrupt` when the file is not a database; `Other` otherwise, with a [`SqliteError`]
    /// source when the address is empty, the file or its directory cannot be created, its
    /// lock file cannot be locked ([`SqliteError::Lock`]), a migration fails, or the file was
    /// written by a newer Stockbridge ([`SqliteError::NewerSchema`]).
    pub fn open(url_or_path: &str) -> Result<SqliteStore, StoreError> {
        let address = StoreAddress::parse(url_or_path)?;
        let mut conn = match &address {
            StoreAddress::Memory => Connection::open_in_memory(),
            StoreAddress::File(path) => {
                create_private_file(path)?;
                Connection::open_with_flags(
                    path,
                    OpenFlags::default() | OpenFlags::SQLITE_OPEN_NOFOLLOW,
                )
            }
        }
        .map_err(store_error)?;
        configure(&conn, &address).map_err(store_error)?;
        schema::migrate(&mut conn)?;
        let open_lock = match &address {
            StoreAddress::Memory => None,
            StoreAddress::File(path) => Some(recovery::open_and_recover(path, &mut conn)?),
        };
        Ok(SqliteStore {
            address,
            conn: Arc::new(Mutex::new(conn)),
            _open_lock: open_lock,
        })
    }

    /// The file holding the state; `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.address.path()
    }

    /// Where the state lives.
    pub fn address(&self) -> &StoreAddress {
        &self.address
    }

    /// The newest audit entries of one SKU first, at most `limit`: for an operator asking
    /// "what happened to this SKU".
    pub async fn audit_for_sku(
        &self,
        sku: &SkuId,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let sku = sku.clone();
        self.call(move |conn| audit::for_sku(conn, &sku, limit))
            .await
    }

    /// Every confirmed quantity, by SKU then warehouse: for an operator's state dump.
    pub async fn all_confirmed(&self) -> Result<Vec<ConfirmedQuantity>, StoreError> {
        self.call(confirmed::all).await
    }

    /// Runs `work` on the connection, on Tokio's blocking pool.
    async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic inside a call rolled its transaction back as it unwound, so the
            // connection behind a poisoned lock is still consistent.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut conn)
        })
        .await
        .map_err(|join| StoreError::Other(Box::new(join)))?
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// Creates the file (owner-only on unix, since it will hold tokens) and its directory, and
/// checks that it and the companions SQLite keeps beside it are private (see [`private`]).
fn create_private_file(path: &Path) -> Result<(), SqliteError> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| SqliteError::CreateDirectory {
            path: dir.to_owned(),
            source,
        })?;
    }
    private::create_private(path)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        private::check_if_present(&private::companion(path, suffix))?;
    }
    Ok(())
}

/// WAL, so readers never block the writer; `synchronous=FULL`, so a commit survives a power
/// cut (see the crate docs); a busy timeout; and foreign keys, so an audit entry cannot name
/// a run that does not exist.
fn configure(conn: &Connection, address: &StoreAddress) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))?;
    if address.path().is_some() && !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(journal_mode = %mode, "state file is not in WAL mode");
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

#[async_trait]
impl StateStore for SqliteStore {
    async fn confirmed(&self, skus: &[SkuId]) -> Result<Vec<ConfirmedQuantity>, StoreError> {
        let skus = skus.to_vec();
        self.call(move |conn| confirmed::for_skus(conn, &skus))
            .await
    }

    async fn record_writes(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        let entries = entries.to_vec();
        self.call(move |conn| audit::record(conn, &entries)).await
    }

    async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.call(move |conn| audit::newest(conn, limit)).await
    }

    async fn start_run(&self, kind: RunKind, at: SystemTime) -> Result<RunId, StoreError> {
        self.call(move |conn| runs::start(conn, kind, at)).await
    }

    async fn finish_run(&self, id: RunId, end: RunEnd) -> Result<(), StoreError> {
        self.call(move |conn| runs::finish(conn, id, &end)).await
    }

    async fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        self.call(move |conn| runs::newest(conn, limit)).await
    }

    async fn remember_delivery(&self, ids: &[String], at: SystemTime) -> Result<bool, StoreError> {
        let ids = ids.to_vec();
        self.call(move |conn| webhooks::remember_all(conn, &ids, at))
            .await
    }

    async fn forget_webhooks_before(&self, before: SystemTime) -> Result<u64, StoreError> {
        self.call(move |conn| webhooks::forget_before(conn, before))
            .await
    }

    async fn save_tokens(&self, platform: &str, tokens: &PlatformTokens) -> Result<(), StoreError> {
        let platform = platform.to_owned();
        let saved = tokens.clone();
        self.call(move |conn| tokens::save(conn, &platform, &saved))
            .await
    }

    async fn load_tokens(&self, platform: &str) -> Result<Option<PlatformTokens>, StoreError> {
        let platform = platform.to_owned();
        self.call(move |conn| tokens::load(conn, &platform)).await
    }

    async fn save_orders(&self, orders: &[HeldOrder]) -> Result<(), StoreError> {
        let orders = orders.to_vec();
        self.call(move |conn| crate::orders::save(conn, &orders))
            .await
    }

    async fn orders(&self) -> Result<Vec<HeldOrder>, StoreError> {
        self.call(crate::orders::load).await
    }

    async fn forget_orders_before(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.call(move |conn| crate::orders::forget_before(conn, before_ms))
            .await
    }

    async fn hold_writes(&self, held: &[HeldWrite]) -> Result<(), StoreError> {
        let held = held.to_vec();
        self.call(move |conn| held::replace(conn, &held)).await
    }

    async fn held_writes(&self) -> Result<Vec<HeldWrite>, StoreError> {
        self.call(held::all).await
    }
}
