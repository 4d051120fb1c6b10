//! The hold on units sold on TikTok that Shopify does not know yet (sync-rules.md §7): the
//! ledger of TikTok orders in flight, fed by order search (at every reconciliation and at
//! start-up) and by TikTok's order webhooks, and ended by the Shopify copy (recent orders
//! and `orders/create`), by TikTok's status, or by `max_hold`.
//!
//! Webhooks naming orders not known yet are read together: the first one waits
//! [`WEBHOOK_BATCH_WINDOW`] for the others, then one search by `update_time` from the oldest
//! of them reads them all (a LIVE sale sends several per second; one search each would spend
//! TikTok's request budget on the same orders again and again).
//!
//! The race: a copy ends a hold only for computations whose Shopify levels were read after
//! the copy was seen (`copied_at_ms`, taken once the read that found it had finished), so that
//! at no moment is a sold unit missing both from the hold and from Shopify's number.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stockbridge_domain::{
    HeldOrder, HoldEnd, Holds, MatchField, OrderId, ShopifyOrderMarks, TikTokOrder, TikTokSku,
};
use stockbridge_ports::{
    ShopifyOrders, SinkError, SourceError, StateStore, StoreError, TikTokOrders,
};

/// Orders updated this long before the last search are searched again: TikTok's clock and
/// ours differ, and an order may change within the second of a search.
const SEARCH_OVERLAP_SECONDS: i64 = 120;
/// Shopify copies are looked for from this long before the oldest held order was placed (an
/// order-sync app may date the copy back to the TikTok order).
const COPY_LOOKBACK_SECONDS: i64 = 3600;
/// How long the first webhook naming an unknown order waits for others before the one search
/// that reads them all.
pub const WEBHOOK_BATCH_WINDOW: Duration = Duration::from_millis(250);
/// A webhook's `update_time` is the order's at the notification; the search reads from a
/// second before the oldest in the batch.
const WEBHOOK_SEARCH_SLACK_SECONDS: i64 = 1;
/// Ended orders are forgotten this long after `max_hold`.
const FORGET_AFTER_MAX_HOLD: Duration = Duration::from_secs(24 * 3600);

/// Why the ledger could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    /// TikTok's order search failed.
    #[error("reading TikTok orders failed (the hold on TikTok orders in flight needs the app's order scope; grant it, or set [orders] enabled = false): {0}")]
    TikTok(#[from] SinkError),
    /// Shopify's orders read failed.
    #[error("reading Shopify orders failed (the hold on TikTok orders in flight reads them with the read_orders scope; grant it, or set [orders] enabled = false): {0}")]
    Shopify(#[from] SourceError),
    /// The state store failed.
    #[error("the state store failed: {0}")]
    Store(#[from] StoreError),
}

/// What one refresh read, for the logs and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// TikTok orders the search returned.
    pub orders_read: usize,
    /// Shopify orders read looking for copies (0 when no order was held).
    pub shopify_orders_read: usize,
    /// Orders holding after the refresh.
    pub holding: usize,
}

/// What the ledger holds now and what it read since start, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HoldFigures {
    /// Orders holding units now (for levels read now).
    pub held_orders: u64,
    /// Units they hold.
    pub held_units: u64,
    /// TikTok order searches at reconciliations and start-up (one request per 100 orders).
    pub searches_refresh: u64,
    /// TikTok order searches for webhooks naming unknown orders, one per batch.
    pub searches_webhook: u64,
    /// Reads of recent Shopify orders looking for copies (one request per 100 orders).
    pub shopify_reads: u64,
}

#[derive(Default)]
struct ReadCounts {
    searches_refresh: AtomicU64,
    searches_webhook: AtomicU64,
    shopify_reads: AtomicU64,
}

/// Unknown orders named by webhooks, waiting for the search that reads them together.
#[derive(Default)]
struct Batch {
    /// Order -> the `update_time` its webhook gave.
    orders: BTreeMap<OrderId, i64>,
    /// Whether a webhook is already waiting to search for the batch.
    waiting: bool,
    /// Batch searches under way.
    searching: usize,
}

/// The longest [`HoldBook::settled`] waits: a TikTok search that hangs must not stop the
/// real-time path.
const SETTLE_AT_MOST: Duration = Duration::from_secs(1);

/// The ledger of TikTok orders in flight, shared by reconciliations, the real-time path and
/// the webhook server.
pub struct HoldBook {
    tiktok: Arc<dyn TikTokOrders>,
    shopify: Arc<dyn ShopifyOrders>,
    store: Arc<dyn StateStore>,
    match_fields: Vec<MatchField>,
    max_hold: Duration,
    state: Mutex<State>,
    batch: Mutex<Batch>,
    /// Woken when a batch search ends.
    batch_done: tokio::sync::Notify,
    reads: ReadCounts,
}

#[derive(Default)]
struct State {
    ledger: BTreeMap<OrderId, HeldOrder>,
    /// `update_time` from which the next search reads, TikTok seconds.
    searched_until: Option<i64>,
    /// Orders whose expiry was already warned about.
    warned: BTreeSet<OrderId>,
    /// Whether Shopify's orders were read once (so a missing `read_orders` shows at once).
    probed: bool,
}

fn now_ms() -> i64 {
    millis(SystemTime::now())
}

/// Unix milliseconds of a time (0 before the epoch).
pub fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl HoldBook {
    /// Loads the ledger from the state store.
    pub async fn load(
        tiktok: Arc<dyn TikTokOrders>,
        shopify: Arc<dyn ShopifyOrders>,
        store: Arc<dyn StateStore>,
        match_fields: Vec<MatchField>,
        max_hold: Duration,
    ) -> Result<HoldBook, StoreError> {
        let ledger = store
            .orders()
            .await?
            .into_iter()
            .map(|o| (o.order.id.clone(), o))
            .collect();
        Ok(HoldBook {
            tiktok,
            shopify,
            store,
            match_fields,
            max_hold,
            state: Mutex::new(State {
                ledger,
                ..State::default()
            }),
            batch: Mutex::default(),
            batch_done: tokio::sync::Notify::new(),
            reads: ReadCounts::default(),
        })
    }

    fn max_hold_ms(&self) -> i64 {
        i64::try_from(self.max_hold.as_millis()).unwrap_or(i64::MAX)
    }

    /// Brings the ledger up to date: TikTok orders updated since the last search (since
    /// `max_hold` ago the first time), then the Shopify orders that may be copies of the
    /// orders still held. Run before every full read of Shopify's levels.
    pub async fn refresh(&self) -> Result<Refreshed, HoldError> {
        let now = now_ms() / 1000;
        let from = self
            .state
            .lock()
            .unwrap()
            .searched_until
            .unwrap_or_else(|| now - self.max_hold.as_secs() as i64);
        self.reads.searches_refresh.fetch_add(1, Ordering::Relaxed);
        let orders = self.tiktok.orders_updated(from, None).await?;
        let orders_read = orders.len();
        self.record(orders).await?;
        self.state.lock().unwrap().searched_until = Some(now - SEARCH_OVERLAP_SECONDS);
        let shopify_orders_read = self.find_copies().await?;
        self.forget_old().await?;
        let holding = self.holding_count();
        tracing::debug!(
            orders_read,
            shopify_orders_read,
            holding,
            "TikTok orders in flight read"
        );
        Ok(Refreshed {
            orders_read,
            shopify_orders_read,
            holding,
        })
    }

    fn holding_count(&self) -> usize {
        let now = now_ms();
        let state = self.state.lock().unwrap();
        state
            .ledger
            .values()
            .filter(|o| o.holds(0, now, self.max_hold_ms()).is_ok())
            .count()
    }

    /// Records what TikTok says of these orders: new ones that hold enter the ledger, known
    /// ones take the newer status. Saved in the state store.
    pub async fn record(&self, orders: Vec<TikTokOrder>) -> Result<(), StoreError> {
        let now = now_ms();
        let changed: Vec<HeldOrder> = {
            let mut state = self.state.lock().unwrap();
            let mut changed = Vec::new();
            for order in orders {
                match state.ledger.get_mut(&order.id) {
                    Some(known) if known.order.update_time > order.update_time => {}
                    Some(known) if known.order == order => {}
                    Some(known) => {
                        known.order = order;
                        changed.push(known.clone());
                    }
                    None if !order.status.holds() => {}
                    None => {
                        // It holds from its placing: a restart must not make an old order
                        // hold for another `max_hold`.
                        let placed = order.create_time.saturating_mul(1000);
                        let held = HeldOrder {
                            first_seen_ms: if placed > 0 { placed.min(now) } else { now },
                            copied_at_ms: None,
                            order,
                        };
                        tracing::info!(order = %held.order.id, status = held.order.status.as_str(), "TikTok order holds its units until Shopify has it");
                        state.ledger.insert(held.order.id.clone(), held.clone());
                        changed.push(held);
                    }
                }
            }
            changed
        };
        if changed.is_empty() {
            return Ok(());
        }
        self.store.save_orders(&changed).await
    }

    /// A TikTok order webhook: the status is taken at once for a known order; an order not
    /// known yet is read for its lines by a search around its `update_time`, together with the
    /// other unknown orders named within [`WEBHOOK_BATCH_WINDOW`]: the first call waits and
    /// searches for all of them, the others return at once.
    pub async fn on_tiktok_change(
        &self,
        id: &OrderId,
        status: stockbridge_domain::OrderStatus,
        update_time: i64,
    ) -> Result<(), HoldError> {
        let known = self.state.lock().unwrap().ledger.get(id).cloned();
        match known {
            Some(mut held) => {
                if held.order.update_time <= update_time && held.order.status != status {
                    held.order.status = status;
                    held.order.update_time = update_time;
                    self.record(vec![held.order]).await?;
                }
                Ok(())
            }
            None if !status.holds() => Ok(()),
            None => {
                let first = {
                    let mut batch = self.batch.lock().unwrap();
                    let at = batch.orders.entry(id.clone()).or_insert(update_time);
                    *at = (*at).min(update_time);
                    !std::mem::replace(&mut batch.waiting, true)
                };
                if !first {
                    return Ok(());
                }
                tokio::time::sleep(WEBHOOK_BATCH_WINDOW).await;
                let searched = self.search_batch().await;
                self.batch.lock().unwrap().searching -= 1;
                self.batch_done.notify_waiters();
                searched
            }
        }
    }

    /// Waits until the orders webhooks named so far are in the ledger (at most
    /// [`SETTLE_AT_MOST`]). A number computed without an order TikTok has already taken
    /// would give its units back (TikTok's stock is written whole), so computations call this
    /// before taking the holds.
    pub async fn settled(&self) {
        let wait = async {
            loop {
                let done = self.batch_done.notified();
                {
                    let batch = self.batch.lock().unwrap();
                    if !batch.waiting && batch.searching == 0 {
                        return;
                    }
                }
                done.await;
            }
        };
        if tokio::time::timeout(SETTLE_AT_MOST, wait).await.is_err() {
            tracing::debug!(
                "TikTok orders named by webhooks are still being read; planning without them"
            );
        }
    }

    /// The search for the orders webhooks named while the first of them waited.
    async fn search_batch(&self) -> Result<(), HoldError> {
        let wanted = {
            let mut batch = self.batch.lock().unwrap();
            batch.waiting = false;
            batch.searching += 1;
            std::mem::take(&mut batch.orders)
        };
        let Some(&oldest) = wanted.values().min() else {
            return Ok(());
        };
        self.reads.searches_webhook.fetch_add(1, Ordering::Relaxed);
        // Every order the search returns is recorded, not only the wanted ones: those in
        // flight hold anyway, and a known order's webhook needs no search.
        let found = self
            .tiktok
            .orders_updated(oldest - WEBHOOK_SEARCH_SLACK_SECONDS, None)
            .await?;
        for id in wanted
            .keys()
            .filter(|id| !found.iter().any(|o| &o.id == *id))
        {
            tracing::warn!(order = %id, "a TikTok order webhook named an order the search does not find yet; the next reconciliation reads it");
        }
        Ok(self.record(found).await?)
    }

    /// A Shopify order (from `orders/create` or the recent orders): when it carries the id
    /// of a held order, that order's hold ends for levels read from now on.
    pub async fn on_shopify_order(&self, marks: &[ShopifyOrderMarks]) -> Result<usize, StoreError> {
        self.on_shopify_order_seen(marks, SystemTime::now()).await
    }

    /// A Shopify order seen at `seen` (by the fleet worker that answered its `orders/create`,
    /// before the owner took it): when it carries the id of a held order, that order's hold
    /// ends for levels read from `seen` on.
    pub async fn on_shopify_order_seen(
        &self,
        marks: &[ShopifyOrderMarks],
        seen: SystemTime,
    ) -> Result<usize, StoreError> {
        let seen = millis(seen);
        let changed: Vec<HeldOrder> = {
            let mut state = self.state.lock().unwrap();
            state
                .ledger
                .values_mut()
                .filter(|o| o.copied_at_ms.is_none())
                .filter(|o| marks.iter().any(|m| m.carries(&o.order.id, &self.match_fields)))
                .map(|o| {
                    o.copied_at_ms = Some(seen);
                    tracing::info!(order = %o.order.id, "the Shopify copy of the TikTok order arrived; its hold ends");
                    o.clone()
                })
                .collect()
        };
        if !changed.is_empty() {
            self.store.save_orders(&changed).await?;
        }
        Ok(changed.len())
    }

    /// Reads the Shopify orders that may be copies of the held orders; returns how many.
    async fn find_copies(&self) -> Result<usize, HoldError> {
        let oldest = {
            let now = now_ms();
            let state = self.state.lock().unwrap();
            state
                .ledger
                .values()
                .filter(|o| o.copied_at_ms.is_none() && o.holds(0, now, self.max_hold_ms()).is_ok())
                .map(|o| o.first_seen_ms / 1000)
                .min()
        };
        let probed = std::mem::replace(&mut self.state.lock().unwrap().probed, true);
        let oldest = match oldest {
            Some(oldest) => oldest,
            // Nothing held: one read at the first refresh all the same, so that a token
            // without `read_orders` is a configuration error at start, not at the first sale.
            None if !probed => now_ms() / 1000,
            None => return Ok(0),
        };
        self.reads.shopify_reads.fetch_add(1, Ordering::Relaxed);
        let marks = self
            .shopify
            .orders_created_since(oldest - COPY_LOOKBACK_SECONDS)
            .await?;
        // `copied_at_ms` is taken now, after the read: levels read from here on show the sale.
        self.on_shopify_order(&marks).await?;
        Ok(marks.len())
    }

    async fn forget_old(&self) -> Result<(), StoreError> {
        let keep = self.max_hold + FORGET_AFTER_MAX_HOLD;
        let before = now_ms().saturating_sub(i64::try_from(keep.as_millis()).unwrap_or(i64::MAX));
        let gone = {
            let mut state = self.state.lock().unwrap();
            let len = state.ledger.len();
            state.ledger.retain(|_, o| o.first_seen_ms >= before);
            len - state.ledger.len()
        };
        if gone > 0 {
            self.store.forget_orders_before(before).await?;
        }
        Ok(())
    }

    /// The orders and units held now, and the reads made since start.
    pub fn figures(&self) -> HoldFigures {
        let now = now_ms();
        let (held_orders, held_units) = {
            let state = self.state.lock().unwrap();
            state
                .ledger
                .values()
                .filter(|o| o.holds(now, now, self.max_hold_ms()).is_ok())
                .fold((0u64, 0u64), |(orders, units), o| {
                    let held: u64 = o.order.lines.iter().map(|l| l.quantity).sum();
                    (orders + 1, units.saturating_add(held))
                })
        };
        HoldFigures {
            held_orders,
            held_units,
            searches_refresh: self.reads.searches_refresh.load(Ordering::Relaxed),
            searches_webhook: self.reads.searches_webhook.load(Ordering::Relaxed),
            shopify_reads: self.reads.shopify_reads.load(Ordering::Relaxed),
        }
    }

    /// The units held for a computation whose Shopify levels were read from `read_at` on.
    /// An order that held for longer than `max_hold` is named in a warning, once.
    pub fn holds(&self, read_at: SystemTime, tiktok: &[TikTokSku]) -> Holds {
        let (read_at, now) = (millis(read_at), now_ms());
        let mut state = self.state.lock().unwrap();
        let mut lines = Vec::new();
        let mut expired = Vec::new();
        for order in state.ledger.values() {
            match order.holds(read_at, now, self.max_hold_ms()) {
                Ok(()) => lines.extend(order.hold_lines()),
                Err(HoldEnd::Expired) => expired.push(order.order.id.clone()),
                Err(_) => {}
            }
        }
        for id in expired {
            if state.warned.insert(id.clone()) {
                tracing::warn!(order = %id, max_hold = ?self.max_hold, "a TikTok order held its units for longer than orders.max_hold without a Shopify copy; its hold ends");
            }
        }
        Holds::new(lines, tiktok)
    }
}

#[cfg(test)]
mod tests;
