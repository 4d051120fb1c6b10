//! A fleet worker's numbers for `GET /metrics`: the shops it holds, its lease grants, takeovers,
//! losses and give-backs, the Shopify and TikTok webhooks it answered for any shop, and how long
//! marked changes waited for their owner. Per-shop series only while the worker holds at most
//! [`PER_SHOP_LIMIT`] shops, so that the number of series stays bounded.

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::engine::metrics::{counter, gauge, registered};

/// Most shops held for which per-shop series are shown.
pub const PER_SHOP_LIMIT: usize = 50;

/// Upper bounds of the pick-up histogram, in seconds.
const PICKUP_BUCKETS: [f64; 9] = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0];

type Labels = Vec<(&'static str, String)>;

/// The worker's series.
pub struct FleetMetrics {
    registry: Registry,
    /// Shops this worker holds a lease on.
    pub shops_held: Gauge,
    /// Of those, shops whose engine reconciled at least once under the lease.
    pub shops_ready: Gauge,
    /// Of those, shops whose configuration or credentials do not work.
    pub shops_failing: Gauge,
    /// Items waiting in the engines of the shops held.
    pub queue_depth: Gauge,
    /// Leases granted to this worker.
    pub leases_granted: Counter,
    /// Of those, leases another worker held before (a failover or a rebalance).
    pub takeovers: Counter,
    /// Leases this worker found it had lost (expired and taken, or the shop removed).
    pub leases_lost: Counter,
    /// Leases given back because more workers are alive.
    pub leases_released: Counter,
    /// Heartbeats the database did not answer.
    pub heartbeat_failures: Counter,
    webhooks: Family<Labels, Counter>,
    tiktok_webhooks: Family<Labels, Counter>,
    shop_queue: Family<Labels, Gauge>,
    pickup: Histogram,
}

impl Default for FleetMetrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let shops_held = gauge(
            &mut registry,
            "stockbridge_fleet_shops_held",
            "Shops this worker holds a lease on",
        );
        let shops_ready = gauge(
            &mut registry,
            "stockbridge_fleet_shops_ready",
            "Shops held whose first reconciliation under the lease succeeded",
        );
        let shops_failing = gauge(
            &mut registry,
            "stockbridge_fleet_shops_failing",
            "Shops held whose stored configuration or credentials do not work",
        );
        let queue_depth = gauge(
            &mut registry,
            "stockbridge_fleet_queue_depth",
            "Inventory items waiting in the engines of the shops held",
        );
        let leases_granted = counter(
            &mut registry,
            "stockbridge_fleet_leases_granted",
            "Leases granted to this worker",
        );
        let takeovers = counter(
            &mut registry,
            "stockbridge_fleet_takeovers",
            "Leases granted to this worker that another worker held before (failover, rebalance)",
        );
        let leases_lost = counter(
            &mut registry,
            "stockbridge_fleet_leases_lost",
            "Leases this worker found it no longer held",
        );
        let leases_released = counter(
            &mut registry,
            "stockbridge_fleet_leases_released",
            "Leases given back to workers that joined",
        );
        let heartbeat_failures = counter(
            &mut registry,
            "stockbridge_fleet_heartbeat_failures",
            "Heartbeats the database did not answer",
        );
        let webhooks = registered(
            &mut registry,
            "stockbridge_fleet_webhooks",
            "Shopify webhooks answered by this worker for any shop, by outcome",
            Family::<Labels, Counter>::default(),
        );
        let tiktok_webhooks = registered(
            &mut registry,
            "stockbridge_fleet_tiktok_webhooks",
            "TikTok order webhooks answered by this worker for any shop, by outcome",
            Family::<Labels, Counter>::default(),
        );
        let shop_queue = registered(
            &mut registry,
            "stockbridge_fleet_shop_queue_depth",
            "Items waiting in one shop's engine (only while at most 50 shops are held)",
            Family::<Labels, Gauge>::default(),
        );
        let pickup = registered(
            &mut registry,
            "stockbridge_fleet_pickup_seconds",
            "Time from a webhook marking an item to its owner taking it",
            Histogram::new(PICKUP_BUCKETS),
        );
        FleetMetrics {
            registry,
            shops_held,
            shops_ready,
            shops_failing,
            queue_depth,
            leases_granted,
            takeovers,
            leases_lost,
            leases_released,
            heartbeat_failures,
            webhooks,
            tiktok_webhooks,
            shop_queue,
            pickup,
        }
    }
}

impl FleetMetrics {
    /// Counts a webhook answered with `outcome` (`accepted`, `duplicate`, `unknown_shop`,
    /// `signature`, `malformed`, `unavailable`).
    pub fn webhook(&self, outcome: &'static str) {
        self.webhooks
            .get_or_create(&vec![("outcome", outcome.to_owned())])
            .inc();
    }

    /// Counts a TikTok webhook answered with `outcome` (`accepted`, `duplicate`,
    /// `unknown_shop`, `signature`, `malformed`, `unavailable`).
    pub fn tiktok_webhook(&self, outcome: &'static str) {
        self.tiktok_webhooks
            .get_or_create(&vec![("outcome", outcome.to_owned())])
            .inc();
    }

    /// Records how long a marked item waited for its owner.
    pub fn picked_up(&self, waited: Duration) {
        self.pickup.observe(waited.as_secs_f64());
    }

    /// Sets the per-shop series: `queues` holds each shop's domain and queue depth, and is
    /// shown only when it has at most [`PER_SHOP_LIMIT`] shops.
    pub fn set_shop_queues(&self, queues: &[(String, usize)]) {
        self.shop_queue.clear();
        if queues.len() > PER_SHOP_LIMIT {
            return;
        }
        for (shop, depth) in queues {
            self.shop_queue
                .get_or_create(&vec![("shop", shop.clone())])
                .set(i64::try_from(*depth).unwrap_or(i64::MAX));
        }
    }

    /// The registry in the OpenMetrics text format.
    pub fn render(&self) -> String {
        crate::engine::metrics::render(&self.registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_shop_series_appear_only_while_few_shops_are_held() {
        let m = FleetMetrics::default();
        m.set_shop_queues(&[("a.myshopify.com".into(), 3)]);
        assert!(m
            .render()
            .contains("stockbridge_fleet_shop_queue_depth{shop=\"a.myshopify.com\"} 3"));
        let many: Vec<(String, usize)> = (0..=PER_SHOP_LIMIT)
            .map(|n| (format!("s{n}.myshopify.com"), 1))
            .collect();
        m.set_shop_queues(&many);
        assert!(!m.render().contains("shop=\""), "{}", m.render());
    }
}
