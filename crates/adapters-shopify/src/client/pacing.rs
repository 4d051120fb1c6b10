//! A mirror of Shopify's cost bucket, shared by every call of one client: before a query is
//! sent it waits until the bucket likely holds the query's cost, then books that cost so
//! concurrent calls queue behind it. Every answer's `throttleStatus` corrects the mirror.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use tokio::time::Instant;

/// `extensions.cost` of an answer. Each part is read on its own and dropped when its shape is
/// unknown, so a change Shopify makes here never fails an answer.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Cost {
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) requested_query_cost: Option<f64>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) throttle_status: Option<ThrottleStatus>,
}

/// A value of the expected shape, or `None` for any other.
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// `extensions.cost.throttleStatus`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ThrottleStatus {
    pub(crate) maximum_available: f64,
    pub(crate) currently_available: f64,
    pub(crate) restore_rate: f64,
}

impl Cost {
    /// How long the bucket needs to hold the requested cost again, when the answer says.
    pub(crate) fn refill_wait(&self) -> Option<Duration> {
        let status = self.throttle_status?;
        let requested = self.requested_query_cost?.min(status.maximum_available);
        if status.restore_rate <= 0.0 {
            return None;
        }
        let missing = (requested - status.currently_available).max(0.0);
        Some(Duration::from_secs_f64(missing / status.restore_rate))
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    maximum: f64,
    available: f64,
    restore_rate: f64,
    at: Instant,
}

impl Bucket {
    fn level_at(&self, now: Instant) -> f64 {
        let restored = now.duration_since(self.at).as_secs_f64() * self.restore_rate;
        (self.available + restored).min(self.maximum)
    }
}

#[derive(Debug, Default)]
struct State {
    bucket: Option<Bucket>,
    /// Last requested cost per query shape.
    costs: HashMap<String, f64>,
}

/// The shared pacer of one client.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    state: Mutex<State>,
}

impl Pacer {
    /// Books the cost of a query of this shape (the last requested cost seen for it, else
    /// `estimate`) and says how long to wait before sending it.
    pub(crate) fn reserve(&self, shape: &str, estimate: f64) -> Duration {
        let mut state = self.state.lock().expect("pacer lock");
        let cost = state.costs.get(shape).copied().unwrap_or(estimate);
        let Some(bucket) = state.bucket.as_mut() else {
            return Duration::ZERO;
        };
        let now = Instant::now();
        let level = bucket.level_at(now);
        // A query dearer than the whole bucket can only wait for a full one.
        let needed = cost.min(bucket.maximum);
        bucket.available = level - needed;
        bucket.at = now;
        if level >= needed || bucket.restore_rate <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((needed - level) / bucket.restore_rate)
        }
    }

    /// Takes in what an answer said about the bucket and the query's cost.
    pub(crate) fn observe(&self, shape: &str, cost: &Cost) {
        let mut state = self.state.lock().expect("pacer lock");
        if let Some(requested) = cost.requested_query_cost {
            state.costs.insert(shape.to_owned(), requested);
        }
        if let Some(status) = cost.throttle_status {
            state.bucket = Some(Bucket {
                maximum: status.maximum_available,
                available: status.currently_available,
                restore_rate: status.restore_rate,
                at: Instant::now(),
            });
        }
    }

    /// What the bucket likely holds now, booked costs taken out (negative while queries
    /// wait for it), if any answer said.
    pub(crate) fn holds(&self) -> Option<f64> {
        let state = self.state.lock().expect("pacer lock");
        state.bucket.map(|b| b.level_at(Instant::now()))
    }

    /// The bucket size last reported, if any answer said.
    pub(crate) fn maximum(&self) -> Option<f64> {
        let state = self.state.lock().expect("pacer lock");
        state.bucket.map(|b| b.maximum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(requested: f64, available: f64) -> Cost {
        Cost {
            requested_query_cost: Some(requested),
            throttle_status: Some(ThrottleStatus {
                maximum_available: 100.0,
                currently_available: available,
                restore_rate: 50.0,
            }),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn sends_at_once_while_nothing_is_known_about_the_bucket() {
        assert_eq!(Pacer::default().reserve("q", 500.0), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn waits_until_the_bucket_holds_the_last_requested_cost() {
        let pacer = Pacer::default();
        pacer.observe("q", &cost(80.0, 30.0));
        // 80 needed, 30 held, 50 restored per second: one second.
        assert_eq!(pacer.reserve("q", 1.0), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_calls_queue_behind_booked_cost() {
        let pacer = Pacer::default();
        pacer.observe("q", &cost(50.0, 100.0));
        assert_eq!(pacer.reserve("q", 1.0), Duration::ZERO);
        assert_eq!(pacer.reserve("q", 1.0), Duration::ZERO);
        assert_eq!(pacer.reserve("q", 1.0), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn time_refills_the_mirrored_bucket() {
        let pacer = Pacer::default();
        pacer.observe("q", &cost(100.0, 0.0));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(pacer.reserve("q", 1.0), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn the_bucket_holds_what_was_reported_less_bookings_plus_what_time_restored() {
        let pacer = Pacer::default();
        assert_eq!(pacer.holds(), None, "nothing known yet");
        pacer.observe("q", &cost(30.0, 60.0));
        pacer.reserve("q", 1.0);
        assert_eq!(pacer.holds(), Some(30.0));
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(pacer.holds(), Some(55.0));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(pacer.holds(), Some(100.0), "never above its size");
    }

    #[test]
    fn a_cost_of_unknown_shape_keeps_the_parts_it_understands() {
        let cost: Cost = serde_json::from_str(
            r#"{"requestedQueryCost":"twelve","actualQueryCost":{"new":true},
            "throttleStatus":{"maximumAvailable":100.0,"currentlyAvailable":40,"restoreRate":50}}"#,
        )
        .unwrap();
        assert_eq!(cost.requested_query_cost, None);
        assert_eq!(
            cost.throttle_status.map(|s| s.currently_available),
            Some(40.0)
        );
        let cost: Cost =
            serde_json::from_str(r#"{"requestedQueryCost":7,"throttleStatus":"busy"}"#).unwrap();
        assert_eq!(
            (cost.requested_query_cost, cost.throttle_status),
            (Some(7.0), None)
        );
    }

    #[test]
    fn throttled_answer_says_how_long_the_bucket_needs() {
        assert_eq!(cost(80.0, 30.0).refill_wait(), Some(Duration::from_secs(1)));
        assert_eq!(cost(80.0, 90.0).refill_wait(), Some(Duration::ZERO));
        let unknown = Cost {
            requested_query_cost: None,
            throttle_status: None,
        };
        assert_eq!(unknown.refill_wait(), None);
    }
}
