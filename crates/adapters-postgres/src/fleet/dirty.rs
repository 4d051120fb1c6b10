//! The fleet's webhook ingress and its hand-over to the owner: any worker marks the items a
//! webhook names as dirty, in the same transaction as the delivery's ids (so an answered
//! webhook is never lost, and a redelivered one is marked once); the shop's lease holder
//! takes them with one statement that checks its lease, so a worker that lost the lease
//! (paused, say) never takes what the new owner must write.

use std::collections::BTreeMap;
use std::time::SystemTime;

use stockbridge_ports::{Secret, StoreError};

use super::{identity, Fleet, Lease};
use crate::error::store_error;
use crate::store::ShopScope;
use crate::webhooks;

/// The item id that asks the owner for a full reconciliation instead of re-reading items.
pub const RECONCILE_ITEM: i64 = 0;

/// A shop a webhook from a Shopify domain may be for, with what verifies it.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    /// The shop.
    pub shop_id: i64,
    /// Its TikTok shop cipher.
    pub tiktok_shop_cipher: String,
    /// Its Shopify webhook signing secret, when stored.
    pub webhook_secret: Option<Secret>,
    /// Its stored secrets, opened (TikTok's app secret signs TikTok's webhooks).
    pub secrets: BTreeMap<String, Secret>,
}

/// What a webhook marked: items of one shop to re-read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtyItem {
    /// The shop.
    pub shop_id: i64,
    /// The Shopify inventory item id ([`RECONCILE_ITEM`]: a full reconciliation).
    pub item_id: i64,
    /// The topic of the newest webhook that marked it.
    pub topic: String,
    /// When the newest webhook says the change happened.
    pub changed_at: SystemTime,
    /// When it was first marked since it was last taken.
    pub first_marked_at: SystemTime,
}

/// One delivery to record: its ids, and the items it marks.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    /// Ids that make it unique (`webhook:...`, `event:...`); remembered with the marks.
    pub ids: &'a [String],
    /// The Shopify inventory item ids it names ([`RECONCILE_ITEM`] for a reconciliation).
    pub items: &'a [i64],
    /// The topic.
    pub topic: &'a str,
    /// When the webhook says the change happened.
    pub changed_at: SystemTime,
}

impl Fleet {
    /// The shops of `shop_domain` (case-insensitive), their secrets opened with `key`.
    pub async fn webhook_targets(
        &self,
        key: &super::SecretKey,
        shop_domain: &str,
    ) -> Result<Vec<WebhookTarget>, StoreError> {
        let client = self.store.client().await?;
        let rows = client
            .query(
                "SELECT id, shop_domain, tiktok_shop_cipher, sealed_secrets FROM shops \
                 WHERE lower(shop_domain) = lower($1) ORDER BY id",
                &[&shop_domain],
            )
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                let domain: String = row.get(1);
                let cipher: String = row.get(2);
                let sealed: Vec<u8> = row.get(3);
                let secrets = key.open(&identity(&domain, &cipher), &sealed)?;
                Ok(WebhookTarget {
                    shop_id: row.get(0),
                    webhook_secret: secrets.get("shopify.webhook_secret").cloned(),
                    tiktok_shop_cipher: cipher,
                    secrets,
                })
            })
            .collect()
    }

    /// Records `delivery` for `shop_id` in one transaction: its ids remembered, its items
    /// marked dirty (a mark already there keeps its first time and takes the newer topic
    /// and change time). Returns `false`, marking nothing, when its ids were seen before.
    pub async fn mark_dirty(
        &self,
        shop_id: i64,
        delivery: &Delivery<'_>,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        let mut pooled = self.store.client().await?;
        let client: &mut tokio_postgres::Client = &mut pooled;
        let tx = client.transaction().await.map_err(store_error)?;
        let scope = ShopScope {
            shop_id,
            epoch: None,
        };
        if !delivery.ids.is_empty() && !webhooks::remember(&tx, scope, delivery.ids, at).await? {
            tx.commit().await.map_err(store_error)?;
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO dirty_items (shop_id, item_id, marked_at, first_marked_at, changed_at, topic) \
             SELECT $1, item, clock_timestamp(), clock_timestamp(), $3, $4 \
             FROM unnest($2::bigint[]) AS item \
             ON CONFLICT (shop_id, item_id) DO UPDATE SET \
                 marked_at = excluded.marked_at, \
                 changed_at = greatest(dirty_items.changed_at, excluded.changed_at), \
                 topic = excluded.topic",
            &[&shop_id, &delivery.items, &delivery.changed_at, &delivery.topic],
        )
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(true)
    }

    /// Takes (removes and returns) the dirty items of the shops `worker` holds under
    /// `leases`: only those whose lease is still `worker`'s under the same epoch and
    /// unexpired, checked in the same statement. A worker that lost a lease takes nothing of
    /// that shop: the new owner's start-up reconciliation covers what was marked before its
    /// grant, and it takes what is marked after.
    pub async fn take_dirty(
        &self,
        worker: &str,
        leases: &[Lease],
    ) -> Result<Vec<DirtyItem>, StoreError> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = leases.iter().map(|l| l.shop_id).collect();
        let epochs: Vec<i64> = leases.iter().map(|l| l.epoch).collect();
        let client = self.store.client().await?;
        let rows = client
            .query(
                "DELETE FROM dirty_items d USING shop_leases l, \
                     unnest($2::bigint[], $3::bigint[]) AS h(shop_id, epoch) \
                 WHERE d.shop_id = h.shop_id AND l.shop_id = h.shop_id AND l.epoch = h.epoch \
                   AND l.owner = $1 AND l.expires_at > clock_timestamp() \
                 RETURNING d.shop_id, d.item_id, d.topic, d.changed_at, d.first_marked_at",
                &[&worker, &ids, &epochs],
            )
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                Ok(DirtyItem {
                    shop_id: row.try_get(0).map_err(store_error)?,
                    item_id: row.try_get(1).map_err(store_error)?,
                    topic: row.try_get(2).map_err(store_error)?,
                    changed_at: row.try_get(3).map_err(store_error)?,
                    first_marked_at: row.try_get(4).map_err(store_error)?,
                })
            })
            .collect()
    }
}
