//! The numbers the engine and the webhook server record, kept in a registry of the
//! Prometheus project's client library (`prometheus-client`). Recording knows nothing of how
//! they are served; `serve` renders the registry for `GET /metrics` (OpenMetrics text).

use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Metric, Registry};

/// Upper bounds of the lag histogram, in seconds.
const LAG_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0];

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(&'static str, &'static str)>;

/// The series of the hold on TikTok orders in flight. The ledger counts its own reads; they
/// are copied here when `/metrics` is rendered.
struct HoldSeries {
    held_orders: Gauge,
    held_units: Gauge,
    searches_refresh: Counter,
    searches_webhook: Counter,
    shopify_reads: Counter,
    /// Serialises copying, so that two renders at once do not add a difference twice.
    copying: Mutex<()>,
}

impl HoldSeries {
    fn register(registry: &mut Registry) -> HoldSeries {
        let held_orders = gauge(
            registry,
            "stockbridge_held_orders",
            "TikTok orders holding units because Shopify does not have them yet",
        );
        let held_units = gauge(
            registry,
            "stockbridge_held_units",
            "Units those orders hold back from what TikTok is offered",
        );
        let searches = registered(
            registry,
            "stockbridge_hold_tiktok_order_searches",
            "TikTok order searches for the hold, by cause: refresh (reconciliations and start-up) or webhook (one per batch of unknown orders)",
            Family::<Labels, Counter>::default(),
        );
        let shopify_reads = counter(
            registry,
            "stockbridge_hold_shopify_order_reads",
            "Reads of recent Shopify orders looking for copies of held TikTok orders",
        );
        HoldSeries {
            held_orders,
            held_units,
            searches_refresh: series(&searches, "cause", "refresh"),
            searches_webhook: series(&searches, "cause", "webhook"),
            shopify_reads,
            copying: Mutex::new(()),
        }
    }
}

/// Raises a counter to `total` (counters only go up).
fn raise(counter: &Counter, total: u64) {
    counter.inc_by(total.saturating_sub(counter.get()));
}

fn gauge_value(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Counters and gauges of a running server. Each field is a handle on one series of the
/// registry: recording through it is what `/metrics` shows.
pub struct Metrics {
    registry: Registry,
    /// Webhooks received, valid or not, too large ones included.
    pub webhooks_received: Counter,
    /// Refused: bad signature.
    pub rejected_signature: Counter,
    /// Refused: another shop.
    pub rejected_shop: Counter,
    /// Refused: headers or body unreadable.
    pub rejected_malformed: Counter,
    /// Refused: too large (counted by the body limit layer's answer).
    pub rejected_too_large: Counter,
    /// Deliveries seen before.
    pub webhooks_duplicate: Counter,
    /// Lines written and applied.
    pub writes_updated: Counter,
    /// Lines whose write failed or was refused.
    pub writes_failed: Counter,
    /// `inventory_levels/update` numbers applied without a Shopify read (the trust rule).
    pub payloads_applied: Counter,
    /// `inventory_levels/update` numbers that could not be applied: their item was re-read.
    pub payloads_reread: Counter,
    /// Trusted numbers a later read contradicted (and corrected).
    pub payload_mismatch: Counter,
    /// Reconciliations finished.
    pub reconciles_ok: Counter,
    /// Reconciliations that could not run.
    pub reconciles_failed: Counter,
    /// Duration of the last reconciliation, in seconds.
    pub last_reconcile_seconds: Gauge<f64, AtomicU64>,
    /// Inventory items waiting to be read and written.
    pub queue_depth: Gauge,
    /// 1 while the configuration no longer fits the stores.
    configuration_error: Gauge,
    /// 1 while the mass-drop breaker holds writes.
    breaker_tripped: Gauge,
    /// Time from a Shopify change to TikTok holding the new number.
    lag: Histogram,
    /// The hold on TikTok orders in flight (sync-rules.md §7).
    holds: HoldSeries,
    /// Why the last reconciliation could not run, when the configuration no longer fits the
    /// stores (a warehouse disabled, a location deleted, credentials revoked).
    configuration_problem: Mutex<Option<String>>,
    /// Why the mass-drop breaker holds writes, while it does.
    breaker: Mutex<Option<String>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// One series of a labelled family, as a handle of its own.
fn series(family: &Family<Labels, Counter>, name: &'static str, value: &'static str) -> Counter {
    family.get_or_create(&vec![(name, value)]).clone()
}

/// `metric` registered in `registry` as `name`, returned as the handle to record through
/// (a counter's `_total` is added when rendered).
pub(crate) fn registered<M: Metric + Clone>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    metric: M,
) -> M {
    registry.register(name, help, metric.clone());
    metric
}

/// A counter registered in `registry` as `name`.
pub(crate) fn counter(registry: &mut Registry, name: &str, help: &str) -> Counter {
    registered(registry, name, help, Counter::default())
}

/// A gauge registered in `registry` as `name`.
pub(crate) fn gauge(registry: &mut Registry, name: &str, help: &str) -> Gauge {
    registered(registry, name, help, Gauge::default())
}

/// `registry` in the OpenMetrics text format ([`CONTENT_TYPE`]), which Prometheus reads.
pub(crate) fn render(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, registry);
    out
}

impl Default for Metrics {
    /// Every series registered, at zero.
    fn default() -> Self {
        let mut registry = Registry::default();
        let webhooks_received = counter(
            &mut registry,
            "stockbridge_webhooks_received",
            "Shopify webhooks received",
        );
        let rejected = registered(
            &mut registry,
            "stockbridge_webhooks_rejected",
            "Shopify webhooks refused, by reason",
            Family::<Labels, Counter>::default(),
        );
        let webhooks_duplicate = counter(
            &mut registry,
            "stockbridge_webhooks_duplicate",
            "Shopify webhooks already processed",
        );
        let writes = registered(
            &mut registry,
            "stockbridge_writes",
            "(SKU, warehouse) quantities written to TikTok Shop, by outcome",
            Family::<Labels, Counter>::default(),
        );
        let payloads = registered(
            &mut registry,
            "stockbridge_level_payloads",
            "inventory_levels/update numbers, by what became of them: applied without a Shopify read, or reread",
            Family::<Labels, Counter>::default(),
        );
        let payload_mismatch = counter(
            &mut registry,
            "stockbridge_payload_mismatch",
            "Numbers applied from webhooks that a later Shopify read contradicted at the same time; each was corrected with a write",
        );
        let reconciles = registered(
            &mut registry,
            "stockbridge_reconciles",
            "Full reconciliations, by outcome",
            Family::<Labels, Counter>::default(),
        );
        let last_reconcile_seconds = registered(
            &mut registry,
            "stockbridge_reconcile_duration_seconds",
            "Duration of the last full reconciliation",
            Gauge::<f64, AtomicU64>::default(),
        );
        let configuration_error = gauge(
            &mut registry,
            "stockbridge_configuration_error",
            "1 while the last reconciliation failed because the configuration no longer fits the stores",
        );
        let breaker_tripped = gauge(
            &mut registry,
            "stockbridge_breaker_tripped",
            "1 while the mass-drop breaker holds zeroing writes for an operator to approve",
        );
        let queue_depth = gauge(
            &mut registry,
            "stockbridge_queue_depth",
            "Inventory items waiting to be synced",
        );
        let holds = HoldSeries::register(&mut registry);
        let lag = registered(
            &mut registry,
            "stockbridge_sync_lag_seconds",
            "Time from a Shopify change to TikTok holding the new number",
            Histogram::new(LAG_BUCKETS),
        );
        Metrics {
            webhooks_received,
            rejected_signature: series(&rejected, "reason", "signature"),
            rejected_shop: series(&rejected, "reason", "shop"),
            rejected_malformed: series(&rejected, "reason", "malformed"),
            rejected_too_large: series(&rejected, "reason", "too_large"),
            webhooks_duplicate,
            writes_updated: series(&writes, "outcome", "updated"),
            writes_failed: series(&writes, "outcome", "failed"),
            payloads_applied: series(&payloads, "outcome", "applied"),
            payloads_reread: series(&payloads, "outcome", "reread"),
            payload_mismatch,
            reconciles_ok: series(&reconciles, "outcome", "ok"),
            reconciles_failed: series(&reconciles, "outcome", "failed"),
            last_reconcile_seconds,
            queue_depth,
            configuration_error,
            breaker_tripped,
            lag,
            holds,
            configuration_problem: Mutex::new(None),
            breaker: Mutex::new(None),
            registry,
        }
    }
}

impl Metrics {
    /// Adds one.
    pub fn inc(counter: &Counter) {
        counter.inc();
    }

    /// Sets the number of items waiting.
    pub fn set_queue_depth(&self, items: usize) {
        self.queue_depth
            .set(i64::try_from(items).unwrap_or(i64::MAX));
    }

    /// Records how long the last full reconciliation took.
    pub fn set_last_reconcile(&self, took: Duration) {
        self.last_reconcile_seconds.set(took.as_secs_f64());
    }

    /// Records why the configuration no longer fits the stores, or that it fits again (`None`).
    pub fn set_configuration_problem(&self, problem: Option<String>) {
        self.configuration_error.set(i64::from(problem.is_some()));
        *self.configuration_problem.lock().unwrap() = problem;
    }

    /// Why the configuration no longer fits the stores, if it does not.
    pub fn configuration_problem(&self) -> Option<String> {
        self.configuration_problem.lock().unwrap().clone()
    }

    /// Records that the mass-drop breaker holds writes (why), or that it holds none (`None`).
    pub fn set_breaker(&self, reason: Option<String>) {
        self.breaker_tripped.set(i64::from(reason.is_some()));
        *self.breaker.lock().unwrap() = reason;
    }

    /// Why the mass-drop breaker holds writes, if it does.
    pub fn breaker(&self) -> Option<String> {
        self.breaker.lock().unwrap().clone()
    }

    /// Records the time from a Shopify change to TikTok holding the new number.
    pub fn observe_lag(&self, lag: Duration) {
        self.lag.observe(lag.as_secs_f64());
    }

    /// Records what the hold on TikTok orders in flight holds now and has read so far.
    pub fn set_holds(&self, figures: &crate::engine::HoldFigures) {
        let h = &self.holds;
        let _copying = h.copying.lock().unwrap();
        h.held_orders.set(gauge_value(figures.held_orders));
        h.held_units.set(gauge_value(figures.held_units));
        raise(&h.searches_refresh, figures.searches_refresh);
        raise(&h.searches_webhook, figures.searches_webhook);
        raise(&h.shopify_reads, figures.shopify_reads);
    }

    /// The registry in the OpenMetrics text format ([`CONTENT_TYPE`]), which Prometheus
    /// reads.
    pub fn render(&self) -> String {
        render(&self.registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_by_label_and_a_cumulative_lag_histogram() {
        let m = Metrics::default();
        Metrics::inc(&m.webhooks_received);
        Metrics::inc(&m.rejected_signature);
        m.observe_lag(Duration::from_millis(300));
        m.observe_lag(Duration::from_secs(3));
        let text = m.render();
        for sample in [
            "stockbridge_webhooks_received_total 1",
            "stockbridge_webhooks_rejected_total{reason=\"signature\"} 1",
            "stockbridge_webhooks_rejected_total{reason=\"too_large\"} 0",
            "stockbridge_writes_total{outcome=\"updated\"} 0",
            "stockbridge_sync_lag_seconds_bucket{le=\"0.5\"} 1",
            "stockbridge_sync_lag_seconds_bucket{le=\"5.0\"} 2",
            "stockbridge_sync_lag_seconds_bucket{le=\"+Inf\"} 2",
            "stockbridge_sync_lag_seconds_count 2",
            "stockbridge_queue_depth 0",
        ] {
            assert!(
                text.lines().any(|l| l == sample),
                "{sample} missing:\n{text}"
            );
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn gauges_follow_what_is_recorded() {
        let m = Metrics::default();
        m.set_queue_depth(7);
        m.set_last_reconcile(Duration::from_millis(1500));
        m.set_configuration_problem(Some("warehouse 7002 disabled".into()));
        m.set_breaker(Some("9 of 10 lines would go to 0".into()));
        let text = m.render();
        for sample in [
            "stockbridge_queue_depth 7",
            "stockbridge_reconcile_duration_seconds 1.5",
            "stockbridge_configuration_error 1",
            "stockbridge_breaker_tripped 1",
        ] {
            assert!(
                text.lines().any(|l| l == sample),
                "{sample} missing:\n{text}"
            );
        }
        m.set_configuration_problem(None);
        m.set_breaker(None);
        let text = m.render();
        assert!(text
            .lines()
            .any(|l| l == "stockbridge_configuration_error 0"));
        assert!(text.lines().any(|l| l == "stockbridge_breaker_tripped 0"));
    }

    #[test]
    fn the_hold_shows_what_it_holds_and_its_reads_only_go_up() {
        let m = Metrics::default();
        let text = m.render();
        assert!(
            text.lines().any(|l| l == "stockbridge_held_units 0"),
            "{text}"
        );
        let mut figures = crate::engine::HoldFigures {
            held_orders: 2,
            held_units: 5,
            searches_refresh: 3,
            searches_webhook: 1,
            shopify_reads: 3,
        };
        m.set_holds(&figures);
        figures.held_units = 4;
        figures.searches_webhook = 2;
        m.set_holds(&figures);
        m.set_holds(&figures);
        let text = m.render();
        for sample in [
            "stockbridge_held_orders 2",
            "stockbridge_held_units 4",
            "stockbridge_hold_tiktok_order_searches_total{cause=\"refresh\"} 3",
            "stockbridge_hold_tiktok_order_searches_total{cause=\"webhook\"} 2",
            "stockbridge_hold_shopify_order_reads_total 3",
        ] {
            assert!(
                text.lines().any(|l| l == sample),
                "{sample} missing:\n{text}"
            );
        }
    }
}
