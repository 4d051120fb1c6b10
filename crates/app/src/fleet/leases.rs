//! The lease loop of a worker: every heartbeat it renews the leases it holds (stopping the
//! shops whose lease it lost), gives back what it holds beyond its fair share now that more
//! workers are alive, and takes free or expired leases up to that share (starting their
//! shops); between heartbeats it takes free or expired leases every second, so that a dead
//! worker's shops move as soon as their leases expire. Beside it, the loop that takes the
//! changes webhooks marked for the shops held and hands them to their engines (items) and
//! hold books (TikTok orders).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use stockbridge_adapters_postgres::{DirtyItem, DirtyLevel, Lease, RECONCILE_ITEM};
use stockbridge_domain::{InventoryItemId, LocationId, UpdatedAt};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::shop::ShopRun;
use super::trust::Trust;
use super::Context;
use crate::engine::{Change, Hint};

/// Runs the lease loop until `stop`.
pub async fn run(context: Arc<Context>, stop: CancellationToken) {
    let mut beat = tokio::time::interval(context.heartbeat);
    beat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Between heartbeats, free or expired leases are taken every `take_every`, so that a dead
    // worker's shops move as soon as their leases expire rather than at the next heartbeat.
    let mut take = tokio::time::interval(context.take_every);
    take.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Announced for one heartbeat before taking leases, so that workers started together
    // share the shops from the start instead of the first one taking them all.
    let mut announced = false;
    // Leases are taken between heartbeats only after the first heartbeat took a share.
    let mut beaten = false;
    loop {
        let full = tokio::select! {
            () = stop.cancelled() => return,
            _ = beat.tick() => true,
            _ = take.tick(), if beaten => false,
        };
        if !announced {
            match context
                .control
                .announce(&context.worker_id, context.lease_ttl)
                .await
            {
                Ok(()) => {
                    announced = true;
                    *context.last_beat.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some(Instant::now());
                }
                Err(e) => {
                    context.metrics.heartbeat_failures.inc();
                    tracing::warn!(worker = %context.worker_id, error = %e, "cannot announce the worker; trying again");
                }
            }
            continue;
        }
        if !full {
            if let Err(e) = take_free(&context).await {
                tracing::debug!(worker = %context.worker_id, error = %e, "could not take free leases; the next heartbeat tries again");
            }
            continue;
        }
        match heartbeat(&context).await {
            Ok(()) => {
                if !beaten {
                    beaten = true;
                    take.reset();
                }
            }
            Err(e) => {
                context.metrics.heartbeat_failures.inc();
                tracing::warn!(worker = %context.worker_id, error = %e, "heartbeat failed; the leases held are trusted until their margin runs out");
            }
        }
    }
}

/// One heartbeat: renew, give back the surplus, take up to the fair share.
pub async fn heartbeat(context: &Arc<Context>) -> Result<(), stockbridge_ports::StoreError> {
    let ttl = context.lease_ttl;
    let trusted_for = ttl.saturating_sub(context.margin);
    // Trust runs from before the question: the database's expiry is later than that.
    let asked = Instant::now();
    let held: Vec<Lease> = context.shops().values().map(|s| s.lease.clone()).collect();
    let renewed = context
        .control
        .renew(&context.worker_id, &held, ttl)
        .await?;
    *context.last_beat.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    let kept: HashSet<(i64, i64)> = renewed.iter().map(|l| (l.shop_id, l.epoch)).collect();
    {
        let mut shops = context.shops();
        let lost: Vec<i64> = shops
            .values()
            .filter(|s| !kept.contains(&(s.lease.shop_id, s.lease.epoch)))
            .map(|s| s.lease.shop_id)
            .collect();
        for id in lost {
            if let Some(shop) = shops.remove(&id) {
                context.metrics.leases_lost.inc();
                tracing::warn!(worker = %context.worker_id, shop_id = id, epoch = shop.lease.epoch, "lease lost: the shop is stopped here");
                shop.stop();
            }
        }
        for lease in &renewed {
            if let Some(shop) = shops.get_mut(&lease.shop_id) {
                shop.trust.extend(asked + trusted_for);
                shop.lease.expires_at = lease.expires_at;
            }
        }
    }

    let surplus = context.control.surplus(&context.worker_id).await?;
    if !surplus.is_empty() {
        {
            let mut shops = context.shops();
            for id in &surplus {
                if let Some(shop) = shops.remove(id) {
                    shop.stop();
                }
            }
        }
        let released = context
            .control
            .release(&context.worker_id, &surplus)
            .await?;
        context.metrics.leases_released.inc_by(released);
        tracing::info!(worker = %context.worker_id, released, "leases given back to workers that joined");
    }

    take_free(context).await
}

/// Takes free or expired leases up to the fair share, and starts their shops.
pub async fn take_free(context: &Arc<Context>) -> Result<(), stockbridge_ports::StoreError> {
    let trusted_for = context.lease_ttl.saturating_sub(context.margin);
    let asked = Instant::now();
    let granted = context
        .control
        .acquire(&context.worker_id, context.lease_ttl)
        .await?;
    if !granted.is_empty() {
        let mut shops = context.shops();
        for lease in granted {
            context.metrics.leases_granted.inc();
            if lease.epoch > 1 {
                context.metrics.takeovers.inc();
            }
            tracing::info!(worker = %context.worker_id, shop_id = lease.shop_id, epoch = lease.epoch, "lease granted: reconciling the shop");
            let trust = Trust::until(asked + trusted_for);
            let id = lease.shop_id;
            let run = ShopRun::start(context.clone(), lease, trust);
            if let Some(old) = shops.insert(id, run) {
                old.stop();
            }
        }
    }
    Ok(())
}

/// Gives back every lease held (a worker stopping), after stopping its shops.
pub async fn give_back_all(context: &Context) {
    let ids: Vec<i64> = {
        let mut shops = context.shops();
        let ids = shops.keys().copied().collect();
        for (_, shop) in shops.drain() {
            shop.stop();
        }
        ids
    };
    if ids.is_empty() {
        return;
    }
    match context.control.release(&context.worker_id, &ids).await {
        Ok(n) => tracing::info!(worker = %context.worker_id, released = n, "leases given back"),
        Err(e) => {
            tracing::warn!(worker = %context.worker_id, error = %e, "could not give the leases back; they expire on their own")
        }
    }
}

/// Takes the changes marked for the shops held, every `poll`, until `stop`.
pub async fn take_changes(context: Arc<Context>, stop: CancellationToken) {
    let mut tick = tokio::time::interval(context.poll);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        // Only leases still trusted: a paused worker that resumes takes nothing (and the
        // database checks the lease again in the same statement).
        let held: Vec<Lease> = context
            .shops()
            .values()
            .filter(|s| !s.trust.remaining().is_zero())
            .map(|s| s.lease.clone())
            .collect();
        let (items, levels) = match context.control.take_dirty(&context.worker_id, &held).await {
            Ok(marked) => {
                super::tiktok::hand_over(&context, marked.orders);
                super::ingress::hand_over(&context, marked.copies);
                (marked.items, marked.levels)
            }
            Err(e) => {
                tracing::warn!(worker = %context.worker_id, error = %e, "could not take the marked changes; trying again");
                continue;
            }
        };
        if items.is_empty() && levels.is_empty() {
            continue;
        }
        let received = tokio::time::Instant::now();
        let now = SystemTime::now();
        let mut by_shop: BTreeMap<i64, (Vec<DirtyItem>, Vec<DirtyLevel>)> = BTreeMap::new();
        for item in items {
            if let Ok(waited) = now.duration_since(item.first_marked_at) {
                context.metrics.picked_up(waited);
            }
            by_shop.entry(item.shop_id).or_default().0.push(item);
        }
        for level in levels {
            by_shop.entry(level.shop_id).or_default().1.push(level);
        }
        let shops = context.shops();
        for (shop_id, (items, levels)) in by_shop {
            let Some(shop) = shops.get(&shop_id) else {
                continue;
            };
            if items.iter().any(|i| i.item_id == RECONCILE_ITEM) {
                shop.send(Change::Reconcile {
                    reason: "a location changed".to_owned(),
                });
            }
            let sent = changes_of(&items, &levels, now, received)
                .into_iter()
                .all(|change| shop.send(change));
            if !sent {
                // Its engine is being built (or rebuilt): the start-up reconciliation that
                // follows reads everything these items changed.
                tracing::debug!(
                    shop_id,
                    "changes for a shop whose engine is starting: its reconciliation covers them"
                );
            }
        }
    }
}

/// What one shop's engine is told of its taken marks, as a one-shop server tells it of the
/// same webhooks: the items another topic named, to be read; then the items only
/// `inventory_levels/update` named, with the numbers and times their payloads carry, which
/// its trust rule applies without a read when they are provably the newest (a level whose
/// payloads could not be ordered has no number and is read). A payload taken before its
/// item's mark (marked between the poll's statements) is offered with its item.
pub fn changes_of(
    items: &[DirtyItem],
    levels: &[DirtyLevel],
    now: SystemTime,
    received: tokio::time::Instant,
) -> Vec<Change> {
    let id = |raw: i64| {
        u64::try_from(raw)
            .ok()
            .and_then(|i| InventoryItemId::new(i).ok())
    };
    // The newest mark's topic and time (`now` and the payload topic when none).
    let newest = |marks: &[&DirtyItem]| {
        marks.iter().max_by_key(|i| i.changed_at).map_or_else(
            || ("inventory_levels/update".to_owned(), now),
            |i| (i.topic.clone(), i.changed_at),
        )
    };
    let (to_read, trusted): (Vec<&DirtyItem>, Vec<&DirtyItem>) =
        items.iter().partition(|i| i.needs_read);
    let mut changes = Vec::new();
    let read: Vec<InventoryItemId> = to_read.iter().filter_map(|i| id(i.item_id)).collect();
    if !read.is_empty() {
        let (topic, changed_at) = newest(&to_read);
        changes.push(Change::Items {
            items: read,
            hints: Vec::new(),
            topic,
            changed_at,
            received,
        });
    }
    let hints: Vec<Hint> = levels
        .iter()
        .filter_map(|l| {
            Some(Hint {
                item: id(l.item_id)?,
                location: u64::try_from(l.location_id)
                    .ok()
                    .and_then(|i| LocationId::new(i).ok())?,
                available: l.available,
                updated_at: l.updated_at.and_then(UpdatedAt::from_unix_seconds),
            })
        })
        .collect();
    let mut offered: Vec<InventoryItemId> = trusted.iter().filter_map(|i| id(i.item_id)).collect();
    offered.extend(hints.iter().map(|h| h.item));
    offered.sort_unstable();
    offered.dedup();
    if !offered.is_empty() {
        let (topic, changed_at) = newest(&trusted);
        changes.push(Change::Items {
            items: offered,
            hints,
            topic,
            changed_at,
            received,
        });
    }
    changes
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn mark(item_id: i64, needs_read: bool, topic: &str, seconds: u64) -> DirtyItem {
        DirtyItem {
            shop_id: 1,
            item_id,
            topic: topic.to_owned(),
            changed_at: UNIX_EPOCH + Duration::from_secs(seconds),
            first_marked_at: UNIX_EPOCH,
            needs_read,
        }
    }

    fn level(item_id: i64, available: Option<i64>) -> DirtyLevel {
        DirtyLevel {
            shop_id: 1,
            item_id,
            location_id: 7,
            available,
            updated_at: Some(1_764_000_000),
        }
    }

    fn id(raw: u64) -> InventoryItemId {
        InventoryItemId::new(raw).unwrap()
    }

    #[test]
    fn items_to_read_go_alone_and_payloads_go_with_their_items() {
        let now = UNIX_EPOCH + Duration::from_secs(99);
        let items = [
            mark(1, true, "inventory_items/update", 20),
            mark(2, false, "inventory_levels/update", 10),
            mark(3, false, "inventory_levels/update", 30),
        ];
        // Item 4's payload was taken before its mark (marked between the statements).
        let levels = [level(2, Some(5)), level(4, None)];
        let changes = changes_of(&items, &levels, now, tokio::time::Instant::now());
        let [Change::Items {
            items: read,
            hints: no_hints,
            topic: read_topic,
            changed_at: read_at,
            ..
        }, Change::Items {
            items: offered,
            hints,
            topic,
            changed_at,
            ..
        }] = changes.as_slice()
        else {
            panic!("two changes: {changes:?}");
        };
        assert_eq!(read, &[id(1)]);
        assert!(no_hints.is_empty(), "nothing of item 1 can be trusted");
        assert_eq!(read_topic, "inventory_items/update");
        assert_eq!(*read_at, UNIX_EPOCH + Duration::from_secs(20));
        assert_eq!(offered, &[id(2), id(3), id(4)]);
        assert_eq!(
            hints
                .iter()
                .map(|h| (h.item, h.location.get(), h.available))
                .collect::<Vec<_>>(),
            [(id(2), 7, Some(5)), (id(4), 7, None)]
        );
        assert_eq!(
            hints[0].updated_at,
            UpdatedAt::from_unix_seconds(1_764_000_000)
        );
        assert_eq!(topic, "inventory_levels/update");
        assert_eq!(
            *changed_at,
            UNIX_EPOCH + Duration::from_secs(30),
            "the newest"
        );
    }

    #[test]
    fn a_payload_alone_is_offered_at_the_time_it_was_taken_and_nothing_gives_nothing() {
        let now = UNIX_EPOCH + Duration::from_secs(99);
        let changes = changes_of(&[], &[level(4, Some(1))], now, tokio::time::Instant::now());
        let [Change::Items {
            items, changed_at, ..
        }] = changes.as_slice()
        else {
            panic!("one change: {changes:?}");
        };
        assert_eq!(items, &[id(4)]);
        assert_eq!(*changed_at, now);
        assert!(changes_of(&[], &[], now, tokio::time::Instant::now()).is_empty());
    }
}
