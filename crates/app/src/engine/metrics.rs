//! The numbers `GET /metrics` serves, in Prometheus text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the lag histogram, in seconds.
const LAG_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; LAG_BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters and gauges of a running server.
#[derive(Default)]
pub struct Metrics {
    /// Webhooks received, valid or not, too large ones included.
    pub webhooks_received: AtomicU64,
    /// Refused: bad signature.
    pub rejected_signature: AtomicU64,
    /// Refused: another shop.
    pub rejected_shop: AtomicU64,
    /// Refused: headers or body unreadable.
    pub rejected_malformed: AtomicU64,
    /// Refused: too large (counted by the body limit layer's answer).
    pub rejected_too_large: AtomicU64,
    /// Deliveries seen before.
    pub webhooks_duplicate: AtomicU64,
    /// Lines written and applied.
    pub writes_updated: AtomicU64,
    /// Lines whose write failed or was refused.
    pub writes_failed: AtomicU64,
    /// Reconciliations finished.
    pub reconciles_ok: AtomicU64,
    /// Reconciliations that could not run.
    pub reconciles_failed: AtomicU64,
    /// Duration of the last reconciliation, in milliseconds.
    pub last_reconcile_ms: AtomicU64,
    /// Inventory items waiting to be read and written.
    pub queue_depth: AtomicU64,
    lag: Mutex<Histogram>,
    /// Why the last reconciliation could not run, when the configuration no longer fits the
    /// stores (a warehouse disabled, a location deleted, credentials revoked).
    configuration_problem: Mutex<Option<String>>,
    /// Why the mass-drop breaker holds writes, while it does.
    breaker: Mutex<Option<String>>,
}

impl Metrics {
    /// Adds one.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Records why the configuration no longer fits the stores, or that it fits again (`None`).
    pub fn set_configuration_problem(&self, problem: Option<String>) {
        *self.configuration_problem.lock().unwrap() = problem;
    }

    /// Why the configuration no longer fits the stores, if it does not.
    pub fn configuration_problem(&self) -> Option<String> {
        self.configuration_problem.lock().unwrap().clone()
    }

    /// Records that the mass-drop breaker holds writes (why), or that it holds none (`None`).
    pub fn set_breaker(&self, reason: Option<String>) {
        *self.breaker.lock().unwrap() = reason;
    }

    /// Why the mass-drop breaker holds writes, if it does.
    pub fn breaker(&self) -> Option<String> {
        self.breaker.lock().unwrap().clone()
    }

    /// Records the time from a Shopify change to TikTok holding the new number.
    pub fn observe_lag(&self, lag: Duration) {
        let seconds = lag.as_secs_f64();
        let mut h = self.lag.lock().unwrap();
        for (i, bound) in LAG_BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut counter = |name: &str, help: &str, kind: &str, rows: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in rows {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        counter(
            "stockbridge_webhooks_received_total",
            "Shopify webhooks received.",
            "counter",
            &[("", get(&self.webhooks_received))],
        );
        counter(
            "stockbridge_webhooks_rejected_total",
            "Shopify webhooks refused, by reason.",
            "counter",
            &[
                ("{reason=\"signature\"}", get(&self.rejected_signature)),
                ("{reason=\"shop\"}", get(&self.rejected_shop)),
                ("{reason=\"malformed\"}", get(&self.rejected_malformed)),
                ("{reason=\"too_large\"}", get(&self.rejected_too_large)),
            ],
        );
        counter(
            "stockbridge_webhooks_duplicate_total",
            "Shopify webhooks already processed.",
            "counter",
            &[("", get(&self.webhooks_duplicate))],
        );
        counter(
            "stockbridge_writes_total",
            "(SKU, warehouse) quantities written to TikTok Shop, by outcome.",
            "counter",
            &[
                ("{outcome=\"updated\"}", get(&self.writes_updated)),
                ("{outcome=\"failed\"}", get(&self.writes_failed)),
            ],
        );
        counter(
            "stockbridge_reconciles_total",
            "Full reconciliations, by outcome.",
            "counter",
            &[
                ("{outcome=\"ok\"}", get(&self.reconciles_ok)),
                ("{outcome=\"failed\"}", get(&self.reconciles_failed)),
            ],
        );
        let last = get(&self.last_reconcile_ms) as f64 / 1000.0;
        let _ = writeln!(out, "# HELP stockbridge_reconcile_duration_seconds Duration of the last full reconciliation.\n# TYPE stockbridge_reconcile_duration_seconds gauge\nstockbridge_reconcile_duration_seconds {last}");
        let broken = u8::from(self.configuration_problem.lock().unwrap().is_some());
        let _ = writeln!(out, "# HELP stockbridge_configuration_error 1 while the last reconciliation failed because the configuration no longer fits the stores.\n# TYPE stockbridge_configuration_error gauge\nstockbridge_configuration_error {broken}");
        let tripped = u8::from(self.breaker.lock().unwrap().is_some());
        let _ = writeln!(out, "# HELP stockbridge_breaker_tripped 1 while the mass-drop breaker holds zeroing writes for an operator to approve.\n# TYPE stockbridge_breaker_tripped gauge\nstockbridge_breaker_tripped {tripped}");
        let _ = writeln!(out, "# HELP stockbridge_queue_depth Inventory items waiting to be synced.\n# TYPE stockbridge_queue_depth gauge\nstockbridge_queue_depth {}", get(&self.queue_depth));
        let h = self.lag.lock().unwrap();
        let _ = writeln!(out, "# HELP stockbridge_sync_lag_seconds Time from a Shopify change to TikTok holding the new number.\n# TYPE stockbridge_sync_lag_seconds histogram");
        for (i, bound) in LAG_BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "stockbridge_sync_lag_seconds_bucket{{le=\"{bound}\"}} {}",
                h.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "stockbridge_sync_lag_seconds_bucket{{le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(out, "stockbridge_sync_lag_seconds_sum {}", h.sum);
        let _ = writeln!(out, "stockbridge_sync_lag_seconds_count {}", h.count);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_lag_histogram() {
        let m = Metrics::default();
        Metrics::inc(&m.webhooks_received);
        Metrics::inc(&m.rejected_signature);
        m.observe_lag(Duration::from_millis(300));
        m.observe_lag(Duration::from_secs(3));
        let text = m.render();
        assert!(
            text.contains("stockbridge_webhooks_received_total 1"),
            "{text}"
        );
        assert!(
            text.contains("stockbridge_webhooks_rejected_total{reason=\"signature\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("stockbridge_sync_lag_seconds_bucket{le=\"0.5\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("stockbridge_sync_lag_seconds_bucket{le=\"5\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("stockbridge_sync_lag_seconds_count 2"),
            "{text}"
        );
    }
}
