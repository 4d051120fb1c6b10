//! Request counts per endpoint and answer kind, so a test can see what a sync did.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Counts since start or the last reset (`GET /_sandbox/stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Shopify endpoint (`graphql`, `bulk_download`) -> answer kind (`ok`, `throttled`,
    /// `max_cost_exceeded`, `unauthorized`, `graphql_error`, `error`) -> count.
    pub shopify: BTreeMap<String, BTreeMap<String, u64>>,
    /// TikTok endpoint (`shops`, `warehouses`, `product_search`, `inventory_search`,
    /// `inventory_update`, `token_get`, `token_refresh`) -> answer kind (`ok`,
    /// `partial_failure`, `rate_limited`, `invalid_sign`, `unauthorized`, `rejected`,
    /// `not_found`, `error`) -> count.
    pub tiktok: BTreeMap<String, BTreeMap<String, u64>>,
    /// Inventory writes as TikTok saw them.
    pub inventory_updates: InventoryUpdateStats,
    /// Webhook deliveries, Shopify's and TikTok's.
    pub webhooks: WebhookStats,
    /// Units TikTok accepted in orders beyond what Shopify could still fulfil at that moment
    /// (Shopify's available over active locations, minus the TikTok orders not yet in
    /// Shopify). A correct sync keeps it at 0.
    #[serde(default)]
    pub oversold: u64,
    /// Cost points Shopify's bucket was charged: the actual cost of every query that ran
    /// (requested cost taken up front, the difference refunded).
    #[serde(default)]
    pub shopify_cost_points: u64,
}

/// What the update-inventory endpoint received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryUpdateStats {
    /// Update-inventory calls that reached the handler (authorized and not rate limited).
    pub calls: u64,
    /// SKU writes applied.
    pub sku_writes: u64,
    /// SKU writes refused (reported in `data.errors`).
    pub sku_failures: u64,
    /// Applied writes per TikTok SKU id.
    pub per_sku: BTreeMap<String, u64>,
}

/// Webhook delivery counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookStats {
    /// Changes that produced a webhook (one per topic and change).
    pub events: u64,
    /// Deliveries answered 2xx.
    pub delivered: u64,
    /// Deliveries given up after the last attempt.
    pub failed: u64,
    /// HTTP attempts, retries included.
    pub attempts: u64,
    /// Extra deliveries made by the `duplicate_rate` fault.
    pub duplicates: u64,
    /// Deliveries dropped by the `drop_rate` fault.
    pub dropped: u64,
    /// Events per topic.
    pub per_topic: BTreeMap<String, u64>,
}

impl Stats {
    /// `count("tiktok", "inventory_update", "ok")`; 0 when never seen.
    pub fn count(&self, emulator: &str, endpoint: &str, kind: &str) -> u64 {
        let table = match emulator {
            "shopify" => &self.shopify,
            "tiktok" => &self.tiktok,
            _ => return 0,
        };
        table
            .get(endpoint)
            .and_then(|kinds| kinds.get(kind))
            .copied()
            .unwrap_or(0)
    }

    /// Total requests to one endpoint, every answer kind included.
    pub fn total(&self, emulator: &str, endpoint: &str) -> u64 {
        let table = match emulator {
            "shopify" => &self.shopify,
            "tiktok" => &self.tiktok,
            _ => return 0,
        };
        table.get(endpoint).map_or(0, |kinds| kinds.values().sum())
    }
}

/// The live counters.
#[derive(Default)]
pub(crate) struct StatsRecorder {
    inner: Mutex<Stats>,
}

impl StatsRecorder {
    pub(crate) fn snapshot(&self) -> Stats {
        self.inner.lock().expect("stats lock").clone()
    }

    pub(crate) fn reset(&self) {
        *self.inner.lock().expect("stats lock") = Stats::default();
    }

    pub(crate) fn shopify(&self, endpoint: &str, kind: &str) {
        let mut stats = self.inner.lock().expect("stats lock");
        bump(&mut stats.shopify, endpoint, kind);
    }

    pub(crate) fn tiktok(&self, endpoint: &str, kind: &str) {
        let mut stats = self.inner.lock().expect("stats lock");
        bump(&mut stats.tiktok, endpoint, kind);
    }

    pub(crate) fn inventory_update(&self, applied: &[String], failed: u64) {
        let mut stats = self.inner.lock().expect("stats lock");
        let updates = &mut stats.inventory_updates;
        updates.calls += 1;
        updates.sku_writes += applied.len() as u64;
        updates.sku_failures += failed;
        for sku in applied {
            *updates.per_sku.entry(sku.clone()).or_default() += 1;
        }
    }

    pub(crate) fn shopify_cost(&self, points: u64) {
        self.inner.lock().expect("stats lock").shopify_cost_points += points;
    }

    pub(crate) fn oversold(&self, units: u64) {
        self.inner.lock().expect("stats lock").oversold += units;
    }

    pub(crate) fn webhooks(&self, change: impl FnOnce(&mut WebhookStats)) {
        let mut stats = self.inner.lock().expect("stats lock");
        change(&mut stats.webhooks);
    }
}

fn bump(table: &mut BTreeMap<String, BTreeMap<String, u64>>, endpoint: &str, kind: &str) {
    *table
        .entry(endpoint.to_owned())
        .or_default()
        .entry(kind.to_owned())
        .or_default() += 1;
}
