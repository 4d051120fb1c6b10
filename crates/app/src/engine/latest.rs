//! What the console shows of the running engine without reading the stores again: the last
//! full reconciliation's plan, and the real-time lag of the last day.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use stockbridge_domain::Plan;
use stockbridge_ports::RunId;

/// The plan of a finished full reconciliation.
#[derive(Debug)]
pub struct LatestPlan {
    /// The plan.
    pub plan: Plan,
    /// When the reconciliation finished.
    pub at: SystemTime,
    /// Its run.
    pub run_id: RunId,
}

/// How long lag samples are kept.
pub const LAG_RETENTION: Duration = Duration::from_secs(24 * 3600);
/// The most lag samples kept (the oldest go first).
pub const MAX_LAG_SAMPLES: usize = 100_000;

/// The latest plan and the recent lags, shared between the pipeline (which records them)
/// and the console.
#[derive(Debug, Default)]
pub struct Latest {
    plan: RwLock<Option<Arc<LatestPlan>>>,
    lags: Mutex<VecDeque<(SystemTime, Duration)>>,
}

impl Latest {
    /// Replaces the latest plan.
    pub fn set(&self, plan: LatestPlan) {
        *self.plan.write().unwrap() = Some(Arc::new(plan));
    }

    /// The latest plan, once a full reconciliation has finished.
    pub fn get(&self) -> Option<Arc<LatestPlan>> {
        self.plan.read().unwrap().clone()
    }

    /// Records that a real-time change reached TikTok at `at`, `lag` after Shopify's change.
    pub fn record_lag(&self, at: SystemTime, lag: Duration) {
        let mut lags = self.lags.lock().unwrap();
        while lags.len() >= MAX_LAG_SAMPLES
            || lags
                .front()
                .is_some_and(|(t, _)| at.duration_since(*t).unwrap_or_default() > LAG_RETENTION)
        {
            lags.pop_front();
        }
        lags.push_back((at, lag));
    }

    /// The lags recorded since `since`, oldest first.
    pub fn lags_since(&self, since: SystemTime) -> Vec<(SystemTime, Duration)> {
        let lags = self.lags.lock().unwrap();
        lags.iter().filter(|(t, _)| *t >= since).copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lags_older_than_a_day_are_dropped_when_a_new_one_arrives() {
        let latest = Latest::default();
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        latest.record_lag(start, Duration::from_millis(300));
        latest.record_lag(start + Duration::from_secs(3600), Duration::from_secs(2));
        assert_eq!(latest.lags_since(start).len(), 2);
        latest.record_lag(
            start + LAG_RETENTION + Duration::from_secs(1),
            Duration::ZERO,
        );
        let kept = latest.lags_since(SystemTime::UNIX_EPOCH);
        assert_eq!(
            kept.len(),
            2,
            "the first is over a day older than the last: {kept:?}"
        );
        assert_eq!(kept[0].1, Duration::from_secs(2));
    }
}
