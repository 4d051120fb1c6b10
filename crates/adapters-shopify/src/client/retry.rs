//! The one place that decides whether a failed call to Shopify is tried again and when. The
//! kind of retry comes from `SourceError::retry` (the project's classification); this adds
//! the counting, the backoff and the jitter.

use std::time::Duration;

use rand::Rng;
use stockbridge_ports::{Retry, SourceError};

use crate::config::RetryPolicy;

/// Failures met so far by one call.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Attempts {
    failures: u32,
    throttled: u32,
}

/// How long to wait before trying the call again, or `None` to give up with `error`.
/// Throttling waits as long as Shopify needs, however often, up to `max_throttled` times in
/// a row; transient failures back off exponentially up to `max_attempts` attempts.
pub(crate) fn next_wait(
    error: &SourceError,
    attempts: &mut Attempts,
    policy: &RetryPolicy,
) -> Option<Duration> {
    let throttled = matches!(error, SourceError::RateLimited { .. });
    if throttled {
        attempts.throttled += 1;
        if attempts.throttled > policy.max_throttled {
            return None;
        }
    } else {
        attempts.throttled = 0;
    }
    match error.retry() {
        Retry::Never => None,
        // Throttled although the bucket looked full: back off rather than hammer.
        Retry::After(wait) if wait.is_zero() => Some(backoff(policy, attempts.throttled)),
        Retry::After(wait) => Some(wait + jitter(wait / 10)),
        Retry::Backoff if throttled => Some(backoff(policy, attempts.throttled)),
        Retry::Backoff => {
            attempts.failures += 1;
            (attempts.failures < policy.max_attempts).then(|| backoff(policy, attempts.failures))
        }
    }
}

/// Whether a query refused as dearer than allowed (`MAX_COST_EXCEEDED`) is sent once more at
/// once, rebuilt: only when the answer reported a bucket size other than the one the query
/// was built for (a first query is built blind; a bucket smaller than it refuses it).
pub(crate) fn resize<T>(
    result: &Result<T, SourceError>,
    built_for: Option<f64>,
    reported: Option<f64>,
) -> bool {
    let over_cost =
        matches!(result, Err(SourceError::Rejected { code, .. }) if code == "MAX_COST_EXCEEDED");
    over_cost && reported.is_some() && reported != built_for
}

/// `base × 2^(n-1)`, capped, drawn from its upper half.
fn backoff(policy: &RetryPolicy, n: u32) -> Duration {
    let exponent = n.saturating_sub(1).min(20);
    let full = policy
        .base_delay
        .saturating_mul(1 << exponent)
        .min(policy.max_delay);
    full / 2 + jitter(full / 2)
}

fn jitter(up_to: Duration) -> Duration {
    if up_to.is_zero() {
        return Duration::ZERO;
    }
    let nanos = rand::thread_rng().gen_range(0..=up_to.as_nanos().min(u128::from(u64::MAX)) as u64);
    Duration::from_nanos(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            max_throttled: 5,
        }
    }

    fn transient() -> SourceError {
        SourceError::Transient {
            message: "503".into(),
        }
    }

    #[test]
    fn transient_failures_back_off_within_the_cap_and_stop_after_max_attempts() {
        let mut attempts = Attempts::default();
        let p = policy();
        let first = next_wait(&transient(), &mut attempts, &p).unwrap();
        assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&first));
        let second = next_wait(&transient(), &mut attempts, &p).unwrap();
        assert!((Duration::from_millis(100)..=Duration::from_millis(200)).contains(&second));
        assert_eq!(next_wait(&transient(), &mut attempts, &p), None);
    }

    #[test]
    fn backoff_never_exceeds_the_maximum_delay() {
        let p = policy();
        assert!(backoff(&p, 30) <= p.max_delay);
    }

    #[test]
    fn throttling_waits_what_shopify_asked_and_does_not_use_up_attempts() {
        let mut attempts = Attempts::default();
        let p = policy();
        let throttled = SourceError::RateLimited {
            retry_after: Some(Duration::from_secs(2)),
        };
        for _ in 0..5 {
            let wait = next_wait(&throttled, &mut attempts, &p).unwrap();
            assert!((Duration::from_secs(2)..=Duration::from_millis(2200)).contains(&wait));
        }
        assert!(next_wait(&transient(), &mut attempts, &p).is_some());
        assert!(next_wait(&transient(), &mut attempts, &p).is_some());
    }

    #[test]
    fn a_throttle_with_nothing_to_wait_for_still_backs_off() {
        let mut attempts = Attempts::default();
        let throttled = SourceError::RateLimited {
            retry_after: Some(Duration::ZERO),
        };
        let wait = next_wait(&throttled, &mut attempts, &policy()).unwrap();
        assert!(wait >= Duration::from_millis(50), "{wait:?}");
    }

    #[test]
    fn endless_throttling_gives_up_after_max_throttled_in_a_row() {
        let mut attempts = Attempts::default();
        let throttled = SourceError::RateLimited { retry_after: None };
        let p = policy();
        for _ in 0..5 {
            assert!(next_wait(&throttled, &mut attempts, &p).is_some());
        }
        assert_eq!(next_wait(&throttled, &mut attempts, &p), None);
    }

    #[test]
    fn an_over_cost_query_is_resized_once_the_bucket_size_is_known() {
        let over_cost: Result<(), SourceError> = Err(SourceError::Rejected {
            code: "MAX_COST_EXCEEDED".into(),
            message: "Query cost is 172".into(),
        });
        assert!(resize(&over_cost, None, Some(60.0)));
        assert!(resize(&over_cost, Some(2000.0), Some(60.0)));
        assert!(
            !resize(&over_cost, Some(60.0), Some(60.0)),
            "built for it already"
        );
        assert!(!resize(&over_cost, None, None), "nothing learned");
        let other: Result<(), SourceError> = Err(SourceError::Rejected {
            code: "GRAPHQL_ERROR".into(),
            message: "no".into(),
        });
        assert!(!resize(&other, None, Some(60.0)));
        assert!(!resize(&Ok(()), None, Some(60.0)));
    }

    #[test]
    fn refusals_are_not_retried() {
        let unauthorized = SourceError::Unauthorized {
            message: "bad token".into(),
        };
        assert_eq!(
            next_wait(&unauthorized, &mut Attempts::default(), &policy()),
            None
        );
    }
}
