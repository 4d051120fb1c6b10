//! The request pace, shared by every call of one sink: requests leave at most `rate` per
//! second, evenly spaced. A throttled answer halves the rate (and holds every caller back for
//! the wait TikTok asked for); each success wins back a little, never above the configured
//! rate.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The rate never drops below the configured one divided by this.
const FLOOR_DIVISOR: f64 = 32.0;
/// Each success adds this share of the configured rate back.
const RECOVERY_SHARE: f64 = 1.0 / 25.0;

/// An adaptive interval limiter.
#[derive(Debug)]
pub(crate) struct AdaptiveLimiter {
    max_rate: f64,
    state: Mutex<Pace>,
}

#[derive(Debug)]
struct Pace {
    rate: f64,
    next: Instant,
}

impl AdaptiveLimiter {
    /// A limiter allowing `max_rate` requests per second (must be positive and finite).
    pub(crate) fn new(max_rate: f64) -> Self {
        AdaptiveLimiter {
            max_rate,
            state: Mutex::new(Pace {
                rate: max_rate,
                next: Instant::now(),
            }),
        }
    }

    /// Waits for this request's turn.
    pub(crate) async fn acquire(&self) {
        let slot = {
            let mut pace = self.state.lock().expect("limiter lock");
            let now = Instant::now();
            let slot = pace.next.max(now);
            pace.next = slot + interval(pace.rate);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// A request succeeded: recover a little of the configured rate.
    pub(crate) fn on_success(&self) {
        let mut pace = self.state.lock().expect("limiter lock");
        pace.rate = (pace.rate + self.max_rate * RECOVERY_SHARE).min(self.max_rate);
    }

    /// TikTok throttled a request: halve the rate, and let nobody go before `retry_after`.
    pub(crate) fn on_throttle(&self, retry_after: Option<Duration>) {
        let mut pace = self.state.lock().expect("limiter lock");
        pace.rate = (pace.rate / 2.0).max(self.max_rate / FLOOR_DIVISOR);
        let now = Instant::now();
        let hold = retry_after.unwrap_or_else(|| interval(pace.rate));
        pace.next = pace.next.max(now + hold);
    }

    /// The rate in force now, in requests per second.
    pub(crate) fn rate(&self) -> f64 {
        self.state.lock().expect("limiter lock").rate
    }
}

fn interval(rate: f64) -> Duration {
    Duration::from_secs_f64(1.0 / rate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_by_the_configured_rate() {
        let limiter = AdaptiveLimiter::new(4.0);
        let start = Instant::now();
        for _ in 0..5 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_pace() {
        let limiter = Arc::new(AdaptiveLimiter::new(10.0));
        let start = Instant::now();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                tokio::spawn(async move { limiter.acquire().await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(start.elapsed(), Duration::from_millis(1900));
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_halves_the_rate_and_holds_everyone_for_the_wait() {
        let limiter = AdaptiveLimiter::new(8.0);
        limiter.acquire().await;
        limiter.on_throttle(Some(Duration::from_secs(2)));
        assert_eq!(limiter.rate(), 4.0);
        let start = Instant::now();
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(2250));
    }

    #[test]
    fn the_rate_recovers_slowly_and_never_above_the_configured_rate() {
        let limiter = AdaptiveLimiter::new(10.0);
        limiter.on_throttle(None);
        assert_eq!(limiter.rate(), 5.0);
        limiter.on_success();
        assert!(
            limiter.rate() > 5.0 && limiter.rate() < 6.0,
            "{}",
            limiter.rate()
        );
        for _ in 0..100 {
            limiter.on_success();
        }
        assert_eq!(limiter.rate(), 10.0);
    }

    #[test]
    fn repeated_throttles_stop_at_a_floor() {
        let limiter = AdaptiveLimiter::new(16.0);
        for _ in 0..20 {
            limiter.on_throttle(None);
        }
        assert_eq!(limiter.rate(), 0.5);
    }
}
