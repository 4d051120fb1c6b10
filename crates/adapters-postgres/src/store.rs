//! [`PostgresStore`]: connecting, the pool, the shop scope, and the port calls.

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use stockbridge_domain::{HeldOrder, SkuId};
use stockbridge_ports::{
    AuditEntry, ConfirmedQuantity, HeldWrite, PlatformTokens, RunEnd, RunId, RunKind, RunRecord,
    StateStore, StoreError,
};
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, NoTls, Transaction};

use crate::error::{pool_error, store_error, PostgresError};
use crate::{audit, held, runs, schema, tokens, webhooks};

/// How many connections one store keeps at most.
const POOL_SIZE: usize = 8;

/// Whose state a store reads and writes: one shop, and for a fleet worker the lease epoch it
/// holds that shop under. Every write carries the epoch; the database refuses it once the
/// epoch is no longer current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShopScope {
    /// The shop (0 for a single-shop process).
    pub shop_id: i64,
    /// The lease epoch writes are made under; `None` for a single-shop process.
    pub epoch: Option<i64>,
}

impl ShopScope {
    /// The one shop of a single-shop process: shop 0, no lease.
    pub const SINGLE: ShopScope = ShopScope {
        shop_id: 0,
        epoch: None,
    };
}

/// The state store over a PostgreSQL database, for one [`ShopScope`]. Cheap to clone; clones
/// share one pool of connections, and [`PostgresStore::scoped`] gives the same pool another
/// scope.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    scope: ShopScope,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`, with any libpq
    /// keyword such as `?options=-csearch_path%3Dname`), brings its schema up to date, and
    /// answers for [`ShopScope::SINGLE`].
    ///
    /// # Errors
    ///
    /// `Unavailable` when the server cannot be reached; `Other` with a [`PostgresError`]
    /// source when the URL is not usable ([`PostgresError::Address`]), the login is refused,
    /// a migration fails, or the schema was written by a newer Stockbridge
    /// ([`PostgresError::NewerSchema`]).
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect_with_pool(url, POOL_SIZE).await
    }

    /// [`PostgresStore::connect`] with a pool of at most `connections` (at least 1): a
    /// fleet worker keeps its lease loop on a pool of its own, so that its heartbeats never
    /// wait behind its shops' state writes.
    ///
    /// # Errors
    ///
    /// As [`PostgresStore::connect`].
    pub async fn connect_with_pool(
        url: &str,
        connections: usize,
    ) -> Result<PostgresStore, StoreError> {
        let config = parse_url(url)?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(connections.max(1))
            .build()
            .map_err(|err| PostgresError::Address {
                reason: err.to_string(),
            })?;
        let store = PostgresStore {
            pool,
            scope: ShopScope::SINGLE,
        };
        let mut client = store.client().await?;
        schema::migrate(&mut client).await?;
        drop(client);
        Ok(store)
    }

    /// Checks that `url` is a PostgreSQL URL this store can use, without connecting.
    ///
    /// # Errors
    ///
    /// [`PostgresError::Address`], which never repeats the URL.
    pub fn check_url(url: &str) -> Result<(), PostgresError> {
        parse_url(url).map(drop)
    }

    /// The same database, answering for `scope`.
    pub fn scoped(&self, scope: ShopScope) -> PostgresStore {
        PostgresStore {
            pool: self.pool.clone(),
            scope,
        }
    }

    /// The scope this store answers for.
    pub fn scope(&self) -> ShopScope {
        self.scope
    }

    /// A connection from the pool.
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pool_error)
    }
}

fn parse_url(url: &str) -> Result<tokio_postgres::Config, PostgresError> {
    let config =
        tokio_postgres::Config::from_str(url.trim()).map_err(|err| PostgresError::Address {
            reason: err.to_string(),
        })?;
    if config.get_ssl_mode() == SslMode::Require {
        return Err(PostgresError::Address {
            reason: "sslmode=require asks for TLS, which this build does not speak; connect \
                     over a local socket, the loopback interface or a trusted network"
                .into(),
        });
    }
    Ok(config)
}

/// Begins a transaction that writes for `scope`. It carries the scope's epoch
/// (`stockbridge.epoch`, local to the transaction), for the checks the database makes on the
/// rows it deletes; rows it inserts or updates carry the epoch in their `epoch` column.
pub(crate) async fn begin_write(
    client: &mut Client,
    scope: ShopScope,
) -> Result<Transaction<'_>, StoreError> {
    let tx = client.transaction().await.map_err(store_error)?;
    let epoch = scope.epoch.map(|e| e.to_string()).unwrap_or_default();
    tx.execute(
        "SELECT set_config('stockbridge.epoch', $1, true)",
        &[&epoch],
    )
    .await
    .map_err(store_error)?;
    Ok(tx)
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl StateStore for PostgresStore {
    async fn confirmed(&self, skus: &[SkuId]) -> Result<Vec<ConfirmedQuantity>, StoreError> {
        let client = self.client().await?;
        audit::confirmed(&client, self.scope, skus).await
    }

    async fn record_writes(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        audit::record(&mut client, self.scope, entries).await
    }

    async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let client = self.client().await?;
        audit::newest(&client, self.scope, limit).await
    }

    async fn start_run(&self, kind: RunKind, at: SystemTime) -> Result<RunId, StoreError> {
        let mut client = self.client().await?;
        runs::start(&mut client, self.scope, kind, at).await
    }

    async fn finish_run(&self, id: RunId, end: RunEnd) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        runs::finish(&mut client, self.scope, id, &end).await
    }

    async fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        let client = self.client().await?;
        runs::newest(&client, self.scope, limit).await
    }

    async fn remember_delivery(&self, ids: &[String], at: SystemTime) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        webhooks::remember_all(&mut client, self.scope, ids, at).await
    }

    async fn forget_webhooks_before(&self, before: SystemTime) -> Result<u64, StoreError> {
        let client = self.client().await?;
        webhooks::forget_before(&client, self.scope, before).await
    }

    async fn save_tokens(&self, platform: &str, tokens: &PlatformTokens) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        tokens::save(&mut client, self.scope, platform, tokens).await
    }

    async fn load_tokens(&self, platform: &str) -> Result<Option<PlatformTokens>, StoreError> {
        let client = self.client().await?;
        tokens::load(&client, self.scope, platform).await
    }

    async fn hold_writes(&self, held: &[HeldWrite]) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        held::replace(&mut client, self.scope, held).await
    }

    async fn held_writes(&self) -> Result<Vec<HeldWrite>, StoreError> {
        let client = self.client().await?;
        held::all(&client, self.scope).await
    }

    async fn save_orders(&self, orders: &[HeldOrder]) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        crate::orders::save(&mut client, self.scope, orders).await
    }

    async fn orders(&self) -> Result<Vec<HeldOrder>, StoreError> {
        let client = self.client().await?;
        crate::orders::load(&client, self.scope).await
    }

    async fn forget_orders_before(&self, before_ms: i64) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        crate::orders::forget_before(&mut client, self.scope, before_ms).await
    }
}
