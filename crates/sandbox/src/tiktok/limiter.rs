//! The per-second request limit of the TikTok emulator: a one-second window opens with the
//! first request after the previous window closed.

use std::time::{Duration, Instant};

#[derive(Default)]
pub(crate) struct Limiter {
    window_start: Option<Instant>,
    count: u32,
}

impl Limiter {
    /// Counts one request; `Err(wait)` when the window already holds `limit` requests.
    pub(crate) fn admit(&mut self, limit: u32) -> Result<(), Duration> {
        let now = Instant::now();
        let start = match self.window_start {
            Some(start) if now.duration_since(start) < Duration::from_secs(1) => start,
            _ => {
                self.window_start = Some(now);
                self.count = 0;
                now
            }
        };
        if self.count >= limit {
            return Err(Duration::from_secs(1).saturating_sub(now.duration_since(start)));
        }
        self.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_the_limit_within_a_second() {
        let mut limiter = Limiter::default();
        assert!(limiter.admit(2).is_ok());
        assert!(limiter.admit(2).is_ok());
        assert!(limiter.admit(2).is_err());
    }
}
