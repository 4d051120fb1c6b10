//! How long a worker trusts its lease on a shop, by its own monotonic clock: until the
//! moment it asked the database to renew (or grant) the lease, plus the lease's time to
//! live, minus a margin. The database's expiry is later than that, so a worker stops writing
//! before anyone else may start, and a paused worker (SIGSTOP) finds its trust gone the
//! moment it resumes, whatever its heartbeat did not do meanwhile.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use stockbridge_adapters_tiktok::SendGate;

/// The instant trusts count from: a day before the first one, so that any lease end a
/// worker computes is after it.
fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(|| {
        let now = Instant::now();
        now.checked_sub(Duration::from_secs(86_400)).unwrap_or(now)
    })
}

/// The trust in one lease. Shared by the lease loop (which extends and revokes it) and the
/// shop's TikTok writes (which ask it).
#[derive(Debug)]
pub struct Trust {
    base: Instant,
    /// Trusted until `base` plus this many microseconds; 0 when revoked.
    until_micros: AtomicU64,
}

impl Trust {
    /// A trust that ends at `until`.
    pub fn until(until: Instant) -> Arc<Trust> {
        let trust = Arc::new(Trust {
            base: base(),
            until_micros: AtomicU64::new(0),
        });
        trust.extend(until);
        trust
    }

    /// Trusted until `until` (never shortened: a late answer to an older renewal does not
    /// take back a newer one).
    pub fn extend(&self, until: Instant) {
        let micros = until.saturating_duration_since(self.base).as_micros();
        let micros = u64::try_from(micros).unwrap_or(u64::MAX).max(1);
        self.until_micros.fetch_max(micros, Ordering::AcqRel);
    }

    /// Trusted no more, for good.
    pub fn revoke(&self) {
        self.until_micros.store(0, Ordering::Release);
    }

    /// Whether it was revoked.
    pub fn is_revoked(&self) -> bool {
        self.until_micros.load(Ordering::Acquire) == 0
    }

    /// How much longer it is trusted (zero once revoked or past).
    pub fn remaining(&self) -> Duration {
        let micros = self.until_micros.load(Ordering::Acquire);
        if micros == 0 {
            return Duration::ZERO;
        }
        let until = self.base + Duration::from_micros(micros);
        until.saturating_duration_since(Instant::now())
    }

    /// The gate of the shop's TikTok writes: a write is sent only while the lease is trusted
    /// for at least `write_timeout`, so it has ended (answered or abandoned) before the lease
    /// can pass to another worker.
    pub fn gate(self: &Arc<Trust>, write_timeout: Duration) -> SendGate {
        let trust = self.clone();
        SendGate::new(move || {
            let left = trust.remaining();
            if left >= write_timeout {
                Ok(())
            } else if trust.is_revoked() {
                Err("this worker no longer holds the shop's lease".to_owned())
            } else {
                Err(format!(
                    "the shop's lease is trusted for {} ms more, less than a write may take ({} ms)",
                    left.as_millis(),
                    write_timeout.as_millis()
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_trusted_until_its_end_and_never_shortened_by_an_older_renewal() {
        let now = Instant::now();
        let trust = Trust::until(now + Duration::from_secs(10));
        assert!(trust.remaining() > Duration::from_secs(9));
        trust.extend(now + Duration::from_secs(2));
        assert!(
            trust.remaining() > Duration::from_secs(9),
            "an older renewal answered late"
        );
        trust.extend(now + Duration::from_secs(20));
        assert!(trust.remaining() > Duration::from_secs(19));
    }

    #[test]
    fn a_revoked_or_past_lease_is_not_trusted() {
        let trust = Trust::until(Instant::now() + Duration::from_secs(10));
        trust.revoke();
        assert_eq!(trust.remaining(), Duration::ZERO);
        assert!(trust.is_revoked());
        let past = Trust::until(Instant::now());
        assert_eq!(past.remaining(), Duration::ZERO);
        assert!(!past.is_revoked());
    }

    #[test]
    fn a_write_passes_the_gate_only_while_the_lease_outlasts_its_timeout() {
        let trust = Trust::until(Instant::now() + Duration::from_secs(10));
        assert!(trust.gate(Duration::from_secs(5)).check().is_ok());
        let refused = trust.gate(Duration::from_secs(30)).check().unwrap_err();
        assert!(refused.contains("less than a write may take"), "{refused}");
        trust.revoke();
        let refused = trust.gate(Duration::from_secs(1)).check().unwrap_err();
        assert!(refused.contains("no longer holds"), "{refused}");
    }
}
