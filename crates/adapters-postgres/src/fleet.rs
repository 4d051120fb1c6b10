//! The fleet's tables: shops (their secrets sealed), and one lease per shop with a fencing
//! epoch, taken by workers up to a fair share. A worker writes a shop's state through
//! [`PostgresStore::scoped`] with [`Lease::scope`]; the database refuses those writes once
//! the epoch is no longer current (see the migration of the fleet tables).

mod dirty;
mod sealing;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use stockbridge_ports::{Secret, StoreError};
use tokio_postgres::GenericClient;

use crate::error::store_error;
use crate::store::{PostgresStore, ShopScope};

pub use dirty::{
    Delivery, DirtyItem, DirtyLevel, DirtyOrder, LevelMark, Marked, OrderMark, ShopifyCopy,
    WebhookTarget, RECONCILE_ITEM,
};
pub use sealing::SecretKey;

/// A shop to store: one (Shopify store, TikTok shop) pair, its settings without secrets, and
/// its secrets, sealed before they reach the database.
#[derive(Debug, Clone)]
pub struct NewShop {
    /// The Shopify `*.myshopify.com` domain.
    pub shop_domain: String,
    /// The TikTok shop cipher.
    pub tiktok_shop_cipher: String,
    /// The shop's configuration without its secrets (the application's format).
    pub settings: String,
    /// The secrets, by configuration key (`shopify.access_token`, ...).
    pub secrets: BTreeMap<String, Secret>,
}

/// A stored shop as `shops list` shows it: never its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopRow {
    /// Its id (the `shop_id` of its state rows).
    pub id: i64,
    /// The Shopify domain.
    pub shop_domain: String,
    /// The TikTok shop cipher.
    pub tiktok_shop_cipher: String,
    /// Its configuration without secrets.
    pub settings: String,
    /// When it was stored.
    pub added_at: SystemTime,
    /// The worker holding its lease, while the lease is unexpired.
    pub owner: Option<String>,
    /// The lease's epoch: how many times it was granted.
    pub epoch: i64,
    /// When the newest finished reconciliation or sync of the shop ended.
    pub last_reconcile_at: Option<SystemTime>,
    /// How the newest finished run of the shop ended (`succeeded`, `partly_failed`,
    /// `aborted`), if any.
    pub last_outcome: Option<String>,
    /// How long the oldest change marked for the shop (item, TikTok order or new Shopify
    /// order) has waited for its owner to take it (`None` when none waits).
    pub waiting: Option<Duration>,
}

/// A stored shop with its secrets opened: what a worker runs it from.
#[derive(Debug, Clone)]
pub struct StoredShop {
    /// Its id.
    pub id: i64,
    /// The Shopify domain.
    pub shop_domain: String,
    /// The TikTok shop cipher.
    pub tiktok_shop_cipher: String,
    /// Its configuration without secrets.
    pub settings: String,
    /// Its secrets, by configuration key.
    pub secrets: BTreeMap<String, Secret>,
    /// Its TikTok shop id (the `shop_id` of TikTok's webhooks), once its owner read it.
    pub tiktok_shop_id: Option<String>,
}

/// A lease a worker holds on a shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The shop.
    pub shop_id: i64,
    /// The epoch it was granted under.
    pub epoch: i64,
    /// When it expires unless renewed (by the database's clock).
    pub expires_at: SystemTime,
}

impl Lease {
    /// The scope whose writes carry this lease's epoch.
    pub fn scope(&self) -> ShopScope {
        ShopScope {
            shop_id: self.shop_id,
            epoch: Some(self.epoch),
        }
    }
}

/// The fleet's tables in the database of a [`PostgresStore`].
#[derive(Debug, Clone)]
pub struct Fleet {
    store: PostgresStore,
}

impl Fleet {
    /// The fleet tables of `store`'s database.
    pub fn new(store: &PostgresStore) -> Fleet {
        Fleet {
            store: store.clone(),
        }
    }

    /// Stores `shop`, or replaces the stored shop with the same domain and cipher (its id,
    /// lease and state stay); its secrets are sealed with `key`. Returns its id.
    pub async fn put_shop(&self, key: &SecretKey, shop: &NewShop) -> Result<i64, StoreError> {
        let identity = identity(&shop.shop_domain, &shop.tiktok_shop_cipher);
        let sealed = key.seal(&identity, &shop.secrets);
        let mut client = self.store.client().await?;
        let tx = client.transaction().await.map_err(store_error)?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO shops (shop_domain, tiktok_shop_cipher, settings, sealed_secrets) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (shop_domain, tiktok_shop_cipher) DO UPDATE SET \
                 settings = excluded.settings, sealed_secrets = excluded.sealed_secrets \
                 RETURNING id",
                &[
                    &shop.shop_domain,
                    &shop.tiktok_shop_cipher,
                    &shop.settings,
                    &sealed,
                ],
            )
            .await
            .map_err(store_error)?
            .get(0);
        tx.execute(
            "INSERT INTO shop_leases (shop_id) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&id],
        )
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(id)
    }

    /// Every stored shop with its lease and last reconciliation, by domain then cipher.
    pub async fn shops(&self) -> Result<Vec<ShopRow>, StoreError> {
        let client = self.store.client().await?;
        let rows = client
            .query(
                "SELECT s.id, s.shop_domain, s.tiktok_shop_cipher, s.settings, s.added_at, \
                 CASE WHEN l.expires_at > clock_timestamp() THEN l.owner END, \
                 coalesce(l.epoch, 0), \
                 (SELECT max(r.finished_at) FROM runs r WHERE r.shop_id = s.id \
                  AND r.outcome IN ('succeeded', 'partly_failed')), \
                 (SELECT r.outcome FROM runs r WHERE r.shop_id = s.id \
                  AND r.outcome <> 'running' ORDER BY r.id DESC LIMIT 1), \
                 extract(epoch FROM clock_timestamp() - least( \
                     (SELECT min(d.first_marked_at) FROM dirty_items d WHERE d.shop_id = s.id), \
                     (SELECT min(o.first_marked_at) FROM dirty_orders o WHERE o.shop_id = s.id), \
                     (SELECT min(c.marked_at) FROM shopify_order_marks c WHERE c.shop_id = s.id) \
                 ))::float8 \
                 FROM shops s LEFT JOIN shop_leases l ON l.shop_id = s.id \
                 ORDER BY s.shop_domain, s.tiktok_shop_cipher",
                &[],
            )
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                Ok(ShopRow {
                    id: row.try_get(0).map_err(store_error)?,
                    shop_domain: row.try_get(1).map_err(store_error)?,
                    tiktok_shop_cipher: row.try_get(2).map_err(store_error)?,
                    settings: row.try_get(3).map_err(store_error)?,
                    added_at: row.try_get(4).map_err(store_error)?,
                    owner: row.try_get(5).map_err(store_error)?,
                    epoch: row.try_get(6).map_err(store_error)?,
                    last_reconcile_at: row.try_get(7).map_err(store_error)?,
                    last_outcome: row.try_get(8).map_err(store_error)?,
                    waiting: row
                        .try_get::<_, Option<f64>>(9)
                        .map_err(store_error)?
                        .map(|s| Duration::from_secs_f64(s.max(0.0))),
                })
            })
            .collect()
    }

    /// Shop `id` as stored: its domain, cipher, settings and secrets (opened with `key`);
    /// `None` when there is no such shop.
    pub async fn stored_shop(
        &self,
        key: &SecretKey,
        id: i64,
    ) -> Result<Option<StoredShop>, StoreError> {
        let client = self.store.client().await?;
        let row = client
            .query_opt(
                "SELECT shop_domain, tiktok_shop_cipher, settings, sealed_secrets, tiktok_shop_id \
                 FROM shops WHERE id = $1",
                &[&id],
            )
            .await
            .map_err(store_error)?;
        let Some(row) = row else { return Ok(None) };
        let shop_domain: String = row.get(0);
        let tiktok_shop_cipher: String = row.get(1);
        let sealed: Vec<u8> = row.get(3);
        let secrets = key.open(&identity(&shop_domain, &tiktok_shop_cipher), &sealed)?;
        Ok(Some(StoredShop {
            id,
            settings: row.get(2),
            tiktok_shop_id: row.get(4),
            shop_domain,
            tiktok_shop_cipher,
            secrets,
        }))
    }

    /// The secrets of shop `id`, opened with `key`; `None` when there is no such shop.
    pub async fn shop_secrets(
        &self,
        key: &SecretKey,
        id: i64,
    ) -> Result<Option<BTreeMap<String, Secret>>, StoreError> {
        Ok(self.stored_shop(key, id).await?.map(|shop| shop.secrets))
    }

    /// Removes the shops of `shop_domain` (only the one of `tiktok_shop_cipher` when given),
    /// their leases and all their state, in one transaction; returns the ids removed. A
    /// worker still writing for one is refused from then on: its lease is gone.
    pub async fn remove_shops(
        &self,
        shop_domain: &str,
        tiktok_shop_cipher: Option<&str>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut client = self.store.client().await?;
        let tx = client.transaction().await.map_err(store_error)?;
        let ids: Vec<i64> = tx
            .query(
                "DELETE FROM shops WHERE shop_domain = $1 \
                 AND ($2::text IS NULL OR tiktok_shop_cipher = $2) RETURNING id",
                &[&shop_domain, &tiktok_shop_cipher],
            )
            .await
            .map_err(store_error)?
            .iter()
            .map(|row| row.get(0))
            .collect();
        // The leases went with the shops, so these deletes carry no epoch and are let through.
        for table in [
            "audit_log",
            "held_writes",
            "confirmed_quantities",
            "platform_tokens",
            "processed_webhooks",
            "runs",
        ] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE shop_id = ANY($1)"),
                &[&ids],
            )
            .await
            .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)?;
        Ok(ids)
    }

    /// Says `worker` is alive for `ttl`, taking no lease: a worker announces itself for one
    /// heartbeat before it takes leases, so that workers started together see each other and
    /// share the shops from the start.
    pub async fn announce(&self, worker: &str, ttl: Duration) -> Result<(), StoreError> {
        let client = self.store.client().await?;
        alive(&**client, worker, ttl).await
    }

    /// Says `worker` is alive for `ttl`, and takes free or expired leases up to its fair share
    /// (the shops divided by the live workers, rounded up), each under a new epoch. Returns
    /// the leases granted now (not those it already held).
    pub async fn acquire(&self, worker: &str, ttl: Duration) -> Result<Vec<Lease>, StoreError> {
        let mut pooled = self.store.client().await?;
        let client: &mut tokio_postgres::Client = &mut pooled;
        let tx = client.transaction().await.map_err(store_error)?;
        alive(&tx, worker, ttl).await?;
        let ttl = ttl_seconds(ttl);
        let rows = tx
            .query(
                "WITH share AS ( \
                     SELECT ceil((SELECT count(*) FROM shops)::numeric / \
                         greatest(1, (SELECT count(*) FROM fleet_workers \
                                      WHERE expires_at > clock_timestamp())))::bigint \
                       - (SELECT count(*) FROM shop_leases \
                          WHERE owner = $1 AND expires_at > clock_timestamp()) AS wanted), \
                 free AS ( \
                     SELECT shop_id FROM shop_leases \
                     WHERE owner IS NULL OR expires_at <= clock_timestamp() \
                     ORDER BY shop_id LIMIT (SELECT greatest(0, wanted) FROM share) \
                     FOR UPDATE SKIP LOCKED) \
                 UPDATE shop_leases l SET owner = $1, epoch = l.epoch + 1, \
                     expires_at = clock_timestamp() + make_interval(secs => $2) \
                 FROM free WHERE l.shop_id = free.shop_id \
                   AND (l.owner IS NULL OR l.expires_at <= clock_timestamp()) \
                 RETURNING l.shop_id, l.epoch, l.expires_at",
                &[&worker, &ttl],
            )
            .await
            .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        leases(&rows)
    }

    /// Renews the leases `worker` still holds under the same epoch, for `ttl` from now; the
    /// ones not returned are lost (another worker took them, or they were released).
    pub async fn renew(
        &self,
        worker: &str,
        held: &[Lease],
        ttl: Duration,
    ) -> Result<Vec<Lease>, StoreError> {
        let ttl = ttl_seconds(ttl);
        let ids: Vec<i64> = held.iter().map(|l| l.shop_id).collect();
        let epochs: Vec<i64> = held.iter().map(|l| l.epoch).collect();
        let client = self.store.client().await?;
        client
            .execute(
                "UPDATE fleet_workers SET expires_at = clock_timestamp() + make_interval(secs => $2) \
                 WHERE worker_id = $1",
                &[&worker, &ttl],
            )
            .await
            .map_err(store_error)?;
        let rows = client
            .query(
                "UPDATE shop_leases l SET expires_at = clock_timestamp() + make_interval(secs => $2) \
                 FROM unnest($3::bigint[], $4::bigint[]) AS h(shop_id, epoch) \
                 WHERE l.shop_id = h.shop_id AND l.epoch = h.epoch AND l.owner = $1 \
                 RETURNING l.shop_id, l.epoch, l.expires_at",
                &[&worker, &ttl, &ids, &epochs],
            )
            .await
            .map_err(store_error)?;
        leases(&rows)
    }

    /// The shops `worker` holds beyond its fair share now that more workers are alive (the
    /// highest shop ids first): what it should stop writing for and [`Fleet::release`], so
    /// the workers that joined can take them.
    pub async fn surplus(&self, worker: &str) -> Result<Vec<i64>, StoreError> {
        let client = self.store.client().await?;
        let rows = client
            .query(
                "WITH share AS ( \
                     SELECT ceil((SELECT count(*) FROM shops)::numeric / \
                         greatest(1, (SELECT count(*) FROM fleet_workers \
                                      WHERE expires_at > clock_timestamp())))::bigint AS n) \
                 SELECT shop_id FROM shop_leases \
                 WHERE owner = $1 AND expires_at > clock_timestamp() \
                 ORDER BY shop_id OFFSET (SELECT n FROM share)",
                &[&worker],
            )
            .await
            .map_err(store_error)?;
        let mut ids: Vec<i64> = rows.iter().map(|row| row.get(0)).collect();
        ids.reverse();
        Ok(ids)
    }

    /// Gives back leases `worker` holds (the epoch stays; the next grant raises it). Returns
    /// how many were given back.
    pub async fn release(&self, worker: &str, shop_ids: &[i64]) -> Result<u64, StoreError> {
        let client = self.store.client().await?;
        client
            .execute(
                "UPDATE shop_leases SET owner = NULL, expires_at = '-infinity' \
                 WHERE owner = $1 AND shop_id = ANY($2)",
                &[&worker, &shop_ids],
            )
            .await
            .map_err(store_error)
    }
}

/// What the sealed secrets of a shop are bound to.
fn identity(shop_domain: &str, tiktok_shop_cipher: &str) -> String {
    format!("{shop_domain} {tiktok_shop_cipher}")
}

/// Says `worker` is alive for `ttl` from now (by the database's clock).
async fn alive(client: &impl GenericClient, worker: &str, ttl: Duration) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO fleet_workers (worker_id, expires_at) \
             VALUES ($1, clock_timestamp() + make_interval(secs => $2)) \
             ON CONFLICT (worker_id) DO UPDATE SET expires_at = excluded.expires_at",
            &[&worker, &ttl_seconds(ttl)],
        )
        .await
        .map_err(store_error)?;
    Ok(())
}

fn ttl_seconds(ttl: Duration) -> f64 {
    ttl.as_secs_f64()
}

fn leases(rows: &[tokio_postgres::Row]) -> Result<Vec<Lease>, StoreError> {
    let mut leases: Vec<Lease> = rows
        .iter()
        .map(|row| {
            Ok(Lease {
                shop_id: row.try_get(0).map_err(store_error)?,
                epoch: row.try_get(1).map_err(store_error)?,
                expires_at: row.try_get(2).map_err(store_error)?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    leases.sort_by_key(|l| l.shop_id);
    Ok(leases)
}
