//! The fleet's webhook ingress and its hand-over to the owner: any worker marks the items a Shopify
//! webhook names as dirty (the order a TikTok webhook names, and the new Shopify order of an
//! `orders/create`), in the same transaction as the
//! delivery's ids (so an answered webhook is never lost, and a redelivered one is marked once); the
//! shop's lease holder takes them with one statement that checks its lease, so a worker that lost
//! the lease (paused, say) never takes what the new owner must write.

use std::collections::BTreeMap;
use std::time::SystemTime;

use stockbridge_domain::ShopifyOrderMarks;
use stockbridge_ports::{Secret, StoreError, StoredRow};
use tokio_postgres::types::ToSql;

use super::{identity, Fleet, Lease};
use crate::error::store_error;
use crate::row::read_all;
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
    /// Its stored configuration without secrets (where TikTok's app key is).
    pub settings: String,
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
    /// Whether a webhook other than an `inventory_levels/update` named it since it was last
    /// taken: it must be read from Shopify, whatever its payloads say.
    pub needs_read: bool,
}

/// What an `inventory_levels/update` said of one level, waiting beside its item's mark: the
/// owner offers it to its trust rule instead of re-reading the item when it is provably the
/// newest. `available` is `None` when the payload had no number, or when two payloads of the
/// level met without one being strictly newer: the owner then re-reads the item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtyLevel {
    /// The shop.
    pub shop_id: i64,
    /// The Shopify inventory item id.
    pub item_id: i64,
    /// The Shopify location id.
    pub location_id: i64,
    /// The number the newest payload carries, when it can be trusted alone.
    pub available: Option<i64>,
    /// The payload's `updated_at`, Unix seconds.
    pub updated_at: Option<i64>,
}

/// A TikTok order a webhook said changed, waiting for the shop's owner to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtyOrder {
    /// The shop.
    pub shop_id: i64,
    /// TikTok's order id.
    pub order_id: String,
    /// The status the newest webhook gave.
    pub status: String,
    /// When the order changed, TikTok's Unix seconds.
    pub update_time: i64,
    /// When it was first marked since it was last taken.
    pub first_marked_at: SystemTime,
}

/// A new Shopify order (`orders/create`) that may be the copy of a held TikTok order, waiting
/// for the shop's owner to look for it in its hold book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopifyCopy {
    /// The shop.
    pub shop_id: i64,
    /// The order's fields that may carry a TikTok order id.
    pub marks: ShopifyOrderMarks,
    /// When the worker that answered the webhook saw it.
    pub seen_at: SystemTime,
}

/// What the owner of some shops takes from the marks: items, TikTok orders and new Shopify
/// orders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marked {
    /// Inventory items to re-read.
    pub items: Vec<DirtyItem>,
    /// What `inventory_levels/update` payloads said of their levels.
    pub levels: Vec<DirtyLevel>,
    /// TikTok orders to read for the hold.
    pub orders: Vec<DirtyOrder>,
    /// New Shopify orders, in the order they were seen, that may end holds.
    pub copies: Vec<ShopifyCopy>,
}

impl Marked {
    /// Whether nothing was marked.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
            && self.levels.is_empty()
            && self.orders.is_empty()
            && self.copies.is_empty()
    }
}

/// One TikTok order webhook to record: its ids, and the order it names.
#[derive(Debug, Clone)]
pub struct OrderMark<'a> {
    /// Ids that make it unique (`tiktok:<tts_notification_id>`); remembered with the mark.
    pub ids: &'a [String],
    /// TikTok's order id.
    pub order_id: &'a str,
    /// Its new status, as TikTok names it.
    pub status: &'a str,
    /// When it changed, TikTok's Unix seconds.
    pub update_time: i64,
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
    /// What an `inventory_levels/update` says of its level (`None` for every other topic:
    /// its items are then read from Shopify).
    pub level: Option<LevelMark>,
}

/// The level an `inventory_levels/update` names, with the number and time it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelMark {
    /// The Shopify inventory item id.
    pub item_id: i64,
    /// The Shopify location id.
    pub location_id: i64,
    /// `available` (`None`: null in the payload).
    pub available: Option<i64>,
    /// `updated_at`, Unix seconds (`None`: missing or unreadable).
    pub updated_at: Option<i64>,
}

impl Fleet {
    /// The shops of `shop_domain` (case-insensitive), their secrets opened with `key`.
    pub async fn webhook_targets(
        &self,
        key: &super::SecretKey,
        shop_domain: &str,
    ) -> Result<Vec<WebhookTarget>, StoreError> {
        self.targets(key, "lower(shop_domain) = lower($1)", shop_domain)
            .await
    }

    /// The shops of the TikTok shop `tiktok_shop_id` (the `shop_id` of TikTok's webhooks, as
    /// their owners read it from TikTok), their secrets opened with `key`. Empty for a shop
    /// not stored, and for one whose owner has not read its id yet.
    pub async fn tiktok_targets(
        &self,
        key: &super::SecretKey,
        tiktok_shop_id: &str,
    ) -> Result<Vec<WebhookTarget>, StoreError> {
        self.targets(key, "tiktok_shop_id = $1", tiktok_shop_id)
            .await
    }

    /// The shops `filter` (SQL over `shops`, with one text parameter) selects, by id.
    async fn targets(
        &self,
        key: &super::SecretKey,
        filter: &'static str,
        value: &str,
    ) -> Result<Vec<WebhookTarget>, StoreError> {
        let client = self.store.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT id, shop_domain, tiktok_shop_cipher, sealed_secrets, settings \
                     FROM shops WHERE {filter} ORDER BY id"
                ),
                &[&value],
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
                    settings: row.get(4),
                    secrets,
                })
            })
            .collect()
    }

    /// Records the TikTok shop id of shop `shop_id` (read by its owner from TikTok), so that
    /// TikTok's webhooks find the shop.
    pub async fn set_tiktok_shop_id(
        &self,
        shop_id: i64,
        tiktok_shop_id: &str,
    ) -> Result<(), StoreError> {
        let client = self.store.client().await?;
        client
            .execute(
                "UPDATE shops SET tiktok_shop_id = $2 WHERE id = $1",
                &[&shop_id, &tiktok_shop_id],
            )
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// Records a TikTok order webhook for `shop_id` in one transaction: its ids remembered,
    /// the order marked for the owner (a mark already there keeps its first time and takes
    /// the newer status). Returns `false`, marking nothing, when its ids were seen before.
    pub async fn mark_order(
        &self,
        shop_id: i64,
        mark: &OrderMark<'_>,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        self.record(
            shop_id,
            mark.ids,
            at,
            "INSERT INTO dirty_orders (shop_id, order_id, status, update_time, first_marked_at) \
             VALUES ($1, $2, $3, $4, clock_timestamp()) \
             ON CONFLICT (shop_id, order_id) DO UPDATE SET \
                 status = excluded.status, update_time = excluded.update_time \
             WHERE dirty_orders.update_time <= excluded.update_time",
            &[&shop_id, &mark.order_id, &mark.status, &mark.update_time],
        )
        .await
    }

    /// Records a Shopify `orders/create` for `shop_id` in one transaction: its ids remembered,
    /// the order's `marks` kept for the owner with `seen_at`, when this worker saw it.
    /// Returns `false`, keeping nothing, when its ids were seen before.
    pub async fn mark_copy(
        &self,
        shop_id: i64,
        ids: &[String],
        marks: &ShopifyOrderMarks,
        seen_at: SystemTime,
    ) -> Result<bool, StoreError> {
        self.record(
            shop_id,
            ids,
            seen_at,
            "INSERT INTO shopify_order_marks \
             (shop_id, source_identifier, tags, attribute_values, note, seen_at, marked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp())",
            &[
                &shop_id,
                &marks.source_identifier,
                &marks.tags,
                &marks.attribute_values,
                &marks.note,
                &seen_at,
            ],
        )
        .await
    }

    /// Records `delivery` for `shop_id` in one transaction: its ids remembered, its items
    /// marked dirty (a mark already there keeps its first time and takes the newer topic
    /// and change time; once a delivery without a level payload named an item, it is to be
    /// read), and its level payload kept beside them (a payload strictly newer than the one
    /// waiting replaces it; any other meeting of two payloads of one level leaves no number,
    /// so the item is read). Returns `false`, marking nothing, when its ids were seen before.
    pub async fn mark_dirty(
        &self,
        shop_id: i64,
        delivery: &Delivery<'_>,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        let level = delivery.level;
        let needs_read = level.is_none();
        let level_item = level.map(|l| l.item_id);
        let location = level.map(|l| l.location_id);
        let available = level.and_then(|l| l.available);
        let updated = level.and_then(|l| l.updated_at);
        self.record(
            shop_id,
            delivery.ids,
            at,
            // Without a payload ($6 null) the statement's first part inserts nothing.
            "WITH level AS ( \
                 INSERT INTO dirty_levels (shop_id, item_id, location_id, available, updated_at) \
                 SELECT $1, $6, $7, $8, $9 WHERE $6::bigint IS NOT NULL \
                 ON CONFLICT (shop_id, item_id, location_id) DO UPDATE SET \
                     available = CASE WHEN dirty_levels.available IS NOT NULL \
                                       AND excluded.updated_at > dirty_levels.updated_at \
                                      THEN excluded.available END, \
                     updated_at = greatest(dirty_levels.updated_at, excluded.updated_at)) \
             INSERT INTO dirty_items \
                 (shop_id, item_id, marked_at, first_marked_at, changed_at, topic, needs_read) \
             SELECT $1, item, clock_timestamp(), clock_timestamp(), $3, $4, $5 \
             FROM unnest($2::bigint[]) AS item \
             ON CONFLICT (shop_id, item_id) DO UPDATE SET \
                 marked_at = excluded.marked_at, \
                 changed_at = greatest(dirty_items.changed_at, excluded.changed_at), \
                 topic = excluded.topic, \
                 needs_read = dirty_items.needs_read OR excluded.needs_read",
            &[
                &shop_id,
                &delivery.items,
                &delivery.changed_at,
                &delivery.topic,
                &needs_read,
                &level_item,
                &location,
                &available,
                &updated,
            ],
        )
        .await
    }

    /// Remembers a delivery's `ids` for `shop_id` and, when none was seen before, runs the
    /// marking statement `mark` in the same transaction; `false` (nothing marked) for a
    /// delivery seen before.
    async fn record(
        &self,
        shop_id: i64,
        ids: &[String],
        at: SystemTime,
        mark: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<bool, StoreError> {
        let mut pooled = self.store.client().await?;
        let client: &mut tokio_postgres::Client = &mut pooled;
        let tx = client.transaction().await.map_err(store_error)?;
        let scope = ShopScope {
            shop_id,
            epoch: None,
        };
        if !ids.is_empty() && !webhooks::remember(&tx, scope, ids, at).await? {
            tx.commit().await.map_err(store_error)?;
            return Ok(false);
        }
        tx.execute(mark, params).await.map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(true)
    }

    /// Takes (removes and returns) what webhooks marked for the shops `worker` holds under
    /// `leases`, items, TikTok orders and new Shopify orders: only those whose lease is still `worker`'s under
    /// the same epoch and unexpired, checked in the same statement. A worker that lost a
    /// lease takes nothing of that shop: the new owner's start-up reconciliation covers what
    /// was marked before its grant (it reads every item, and the TikTok orders of the whole
    /// hold period, and the Shopify orders that may be their copies), and it takes what is marked
    /// after. The three statements go in one round trip.
    pub async fn take_dirty(&self, worker: &str, leases: &[Lease]) -> Result<Marked, StoreError> {
        if leases.is_empty() {
            return Ok(Marked::default());
        }
        let ids: Vec<i64> = leases.iter().map(|l| l.shop_id).collect();
        let epochs: Vec<i64> = leases.iter().map(|l| l.epoch).collect();
        // Driven by the marks (usually few), each checked against its shop's lease and the
        // epoch held for it: the cost follows what is marked, not how many shops are held (a
        // join of the held leases took one index scan per held shop at every poll).
        let held = "USING shop_leases l \
             WHERE l.shop_id = d.shop_id AND l.owner = $1 \
               AND l.expires_at > clock_timestamp() \
               AND l.epoch = ($3::bigint[])[array_position($2::bigint[], d.shop_id)]";
        let items_sql = format!(
            "DELETE FROM dirty_items d {held} \
             RETURNING d.shop_id, d.item_id, d.topic, d.changed_at, d.first_marked_at, d.needs_read"
        );
        let levels_sql = format!(
            "DELETE FROM dirty_levels d {held} \
             RETURNING d.shop_id, d.item_id, d.location_id, d.available, d.updated_at"
        );
        let orders_sql = format!(
            "DELETE FROM dirty_orders d {held} \
             RETURNING d.shop_id, d.order_id, d.status, d.update_time, d.first_marked_at"
        );
        let copies_sql = format!(
            "DELETE FROM shopify_order_marks d {held} \
             RETURNING d.shop_id, d.source_identifier, d.tags, d.attribute_values, d.note, d.seen_at"
        );
        let client = self.store.client().await?;
        let params: [&(dyn ToSql + Sync); 3] = [&worker, &ids, &epochs];
        // The items first: a payload marked between two of these statements is taken with
        // the levels before its item's mark, which the next poll takes (one more read).
        let (items, levels, orders, copies) = tokio::try_join!(
            client.query(&items_sql, &params),
            client.query(&levels_sql, &params),
            client.query(&orders_sql, &params),
            client.query(&copies_sql, &params)
        )
        .map_err(store_error)?;
        let items = read_all(&items, |row| {
            Ok(DirtyItem {
                shop_id: row.int(0)?,
                item_id: row.int(1)?,
                topic: row.text(2)?,
                changed_at: row.time(3)?,
                first_marked_at: row.time(4)?,
                needs_read: row.flag(5)?,
            })
        })?;
        let levels = read_all(&levels, |row| {
            Ok(DirtyLevel {
                shop_id: row.int(0)?,
                item_id: row.int(1)?,
                location_id: row.int(2)?,
                available: row.optional_int(3)?,
                updated_at: row.optional_int(4)?,
            })
        })?;
        let orders = read_all(&orders, |row| {
            Ok(DirtyOrder {
                shop_id: row.int(0)?,
                order_id: row.text(1)?,
                status: row.text(2)?,
                update_time: row.int(3)?,
                first_marked_at: row.time(4)?,
            })
        })?;
        let mut copies = read_all(&copies, |row| {
            Ok(ShopifyCopy {
                shop_id: row.int(0)?,
                marks: ShopifyOrderMarks {
                    source_identifier: row.optional_text(1)?,
                    tags: row.texts(2)?,
                    attribute_values: row.texts(3)?,
                    note: row.optional_text(4)?,
                },
                seen_at: row.time(5)?,
            })
        })?;
        // The first copy seen of an order ends its hold: the earliest first.
        copies.sort_by_key(|c| c.seen_at);
        Ok(Marked {
            items,
            levels,
            orders,
            copies,
        })
    }
}
