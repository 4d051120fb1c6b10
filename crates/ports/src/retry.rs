//! The one retry policy: how often and how long a failed call to a platform is tried again,
//! and the bound on everything one call may take. Both adapters retry with it, for transport
//! failures and for throttling alike; the layer above them does not retry again (the
//! real-time pipeline requeues an item, a sync reports it).
//!
//! Whether a failure may be retried at all is [`Retry`], from the errors' one classification;
//! this adds the counting, the backoff with its jitter, and the time limit. It holds no clock:
//! the caller says how long the call has taken so far.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use crate::error::Retry;

/// How a failed call is retried, and how long one call may take in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts of one call (the first included) on timeouts, connection failures and 5xx.
    pub max_attempts: u32,
    /// Throttled answers one call may meet in a row before giving up; throttling is waited
    /// out, not counted against `max_attempts`. A guard against a platform that never lets
    /// the call through, not a limit a normal run reaches.
    pub max_throttled: u32,
    /// The first backoff; each next one doubles, drawn from its upper half (jitter).
    pub base_delay: Duration,
    /// The longest backoff.
    pub max_delay: Duration,
    /// The longest wait a platform may ask for (`Retry-After`) that is waited inside the
    /// call: a longer one ends the call with the platform's error.
    pub max_retry_after: Duration,
    /// Everything one call may take: its attempts, their request timeouts and the waits
    /// between them. No attempt starts after it, and the attempt under way is cut at it.
    pub call_timeout: Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts, 100 throttled answers in a row, backoff from 500 ms to 30 s, waits asked
    /// for up to 30 s, 2 minutes per call in all.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            max_throttled: 100,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(30),
            call_timeout: Duration::from_secs(120),
        }
    }
}

/// What one call has met so far; starts at zero for every call.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    failures: u32,
    throttled: u32,
}

impl Attempts {
    /// Failed attempts counted against `max_attempts` so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

impl RetryPolicy {
    /// How long to wait before the next attempt of a call that failed (`retry` is the
    /// failure's classification, `throttled` whether the platform throttled it) after
    /// `elapsed` in all; `None` to give up with the failure. Throttling waits as long as the
    /// platform asks, up to `max_retry_after`, `max_throttled` times in a row; a transient failure
    /// backs off exponentially, up to `max_attempts` attempts; and no attempt starts once
    /// `call_timeout` would have passed by the end of the wait.
    pub fn next_wait(
        &self,
        attempts: &mut Attempts,
        retry: Retry,
        throttled: bool,
        elapsed: Duration,
    ) -> Option<Duration> {
        if throttled {
            attempts.throttled += 1;
            if attempts.throttled > self.max_throttled {
                return None;
            }
        } else {
            attempts.throttled = 0;
        }
        let wait = match retry {
            Retry::Never => return None,
            // Throttled with no wait said (or none left): back off rather than hammer.
            Retry::After(wait) if wait.is_zero() => self.backoff(attempts.throttled),
            Retry::After(wait) if wait > self.max_retry_after => return None,
            Retry::After(wait) => wait + jitter(wait / 10),
            Retry::Backoff if throttled => self.backoff(attempts.throttled),
            Retry::Backoff => {
                attempts.failures += 1;
                if attempts.failures >= self.max_attempts {
                    return None;
                }
                self.backoff(attempts.failures)
            }
        };
        (elapsed.saturating_add(wait) < self.call_timeout).then_some(wait)
    }

    /// Checks that a call may be attempted at all: at least one attempt, and time for it.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.max_attempts == 0 {
            return Err("retry.max_attempts must be at least 1");
        }
        if self.call_timeout.is_zero() {
            return Err("retry.call_timeout must be longer than zero");
        }
        Ok(())
    }

    /// How long the next attempt may take, `elapsed` into the call: what is left of
    /// `call_timeout`, or `None` when nothing is.
    pub fn time_left(&self, elapsed: Duration) -> Option<Duration> {
        self.call_timeout
            .checked_sub(elapsed)
            .filter(|left| !left.is_zero())
    }

    /// `base_delay × 2^(n-1)`, capped at `max_delay`, drawn from its upper half.
    pub fn backoff(&self, n: u32) -> Duration {
        let exponent = n.saturating_sub(1).min(20);
        let full = self
            .base_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        full / 2 + jitter(full / 2)
    }
}

/// A random duration in `0..=up_to` (the standard library's per-instance random hash keys
/// are random enough to spread retries).
fn jitter(up_to: Duration) -> Duration {
    let nanos = up_to.as_nanos().min(u128::from(u64::MAX)) as u64;
    if nanos == 0 {
        return Duration::ZERO;
    }
    let random = RandomState::new().build_hasher().finish();
    Duration::from_nanos(random % (nanos + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            max_throttled: 2,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(1),
            call_timeout: Duration::from_secs(60),
        }
    }

    #[test]
    fn transient_failures_back_off_exponentially_until_max_attempts() {
        let p = policy();
        let mut a = Attempts::default();
        let first = p.next_wait(&mut a, Retry::Backoff, false, Duration::ZERO);
        let second = p.next_wait(&mut a, Retry::Backoff, false, Duration::ZERO);
        let first = first.unwrap();
        let second = second.unwrap();
        assert!((50..=100).contains(&first.as_millis()), "{first:?}");
        assert!((100..=200).contains(&second.as_millis()), "{second:?}");
        assert_eq!(
            p.next_wait(&mut a, Retry::Backoff, false, Duration::ZERO),
            None,
            "the third failure is the third attempt: give up"
        );
        assert_eq!(a.failures(), 3);
    }

    #[test]
    fn backoff_never_exceeds_the_longest_delay() {
        let p = policy();
        for n in [5, 20, 40, u32::MAX] {
            assert!(p.backoff(n) <= p.max_delay);
            assert!(p.backoff(n) >= p.max_delay / 2);
        }
    }

    #[test]
    fn throttling_is_waited_out_without_counting_against_attempts() {
        let p = policy();
        let mut a = Attempts::default();
        let wait = Retry::After(Duration::from_millis(200));
        let waited = p.next_wait(&mut a, wait, true, Duration::ZERO).unwrap();
        assert!((200..=220).contains(&waited.as_millis()), "{waited:?}");
        assert!(p.next_wait(&mut a, wait, true, Duration::ZERO).is_some());
        assert_eq!(a.failures(), 0);
        assert_eq!(
            p.next_wait(&mut a, wait, true, Duration::ZERO),
            None,
            "a third throttled answer in a row is one too many"
        );
    }

    #[test]
    fn a_transient_failure_between_throttles_resets_the_throttled_streak() {
        let p = policy();
        let mut a = Attempts::default();
        let wait = Retry::After(Duration::from_millis(10));
        assert!(p.next_wait(&mut a, wait, true, Duration::ZERO).is_some());
        assert!(p.next_wait(&mut a, wait, true, Duration::ZERO).is_some());
        assert!(p
            .next_wait(&mut a, Retry::Backoff, false, Duration::ZERO)
            .is_some());
        assert!(p.next_wait(&mut a, wait, true, Duration::ZERO).is_some());
    }

    #[test]
    fn a_platform_asking_for_a_longer_wait_than_allowed_ends_the_call() {
        let p = policy();
        let mut a = Attempts::default();
        let long = Retry::After(Duration::from_secs(5));
        assert_eq!(p.next_wait(&mut a, long, true, Duration::ZERO), None);
    }

    #[test]
    fn throttled_without_a_wait_backs_off() {
        let p = policy();
        let mut a = Attempts::default();
        let wait = p
            .next_wait(&mut a, Retry::After(Duration::ZERO), true, Duration::ZERO)
            .unwrap();
        assert!((50..=100).contains(&wait.as_millis()), "{wait:?}");
    }

    #[test]
    fn refusals_are_never_retried() {
        let p = policy();
        let mut a = Attempts::default();
        assert_eq!(
            p.next_wait(&mut a, Retry::Never, false, Duration::ZERO),
            None
        );
    }

    #[test]
    fn no_attempt_starts_once_the_wait_would_reach_the_call_timeout() {
        let p = RetryPolicy {
            call_timeout: Duration::from_secs(2),
            ..policy()
        };
        let mut a = Attempts::default();
        // 1.95 s in, even the shortest backoff (50 ms) reaches the limit.
        assert_eq!(
            p.next_wait(&mut a, Retry::Backoff, false, Duration::from_millis(1950)),
            None
        );
        let mut a = Attempts::default();
        assert!(p
            .next_wait(&mut a, Retry::Backoff, false, Duration::from_millis(500))
            .is_some());
    }

    #[test]
    fn a_policy_without_an_attempt_or_without_time_is_refused() {
        let none = RetryPolicy {
            max_attempts: 0,
            ..policy()
        };
        assert!(none.check().unwrap_err().contains("max_attempts"));
        let no_time = RetryPolicy {
            call_timeout: Duration::ZERO,
            ..policy()
        };
        assert!(no_time.check().unwrap_err().contains("call_timeout"));
        assert_eq!(policy().check(), Ok(()));
    }

    #[test]
    fn the_time_left_for_an_attempt_is_what_remains_of_the_call_timeout() {
        let p = RetryPolicy {
            call_timeout: Duration::from_secs(2),
            ..policy()
        };
        assert_eq!(
            p.time_left(Duration::from_millis(500)),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(p.time_left(Duration::from_secs(2)), None);
        assert_eq!(p.time_left(Duration::from_secs(3)), None);
    }
}
