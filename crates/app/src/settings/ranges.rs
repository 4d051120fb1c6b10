//! The ranges of the numeric and duration settings outside `[rules]`. Each has an upper bound,
//! so no value that loads can overflow a deadline or a rate later (`now + reconcile_every`,
//! `1 / requests_per_second`); an error names the key, the value and the range.

use std::time::Duration;

use super::{ConfigError, ServerSection, TikTokSection};

/// `[server] reconcile_every`: at least a second (the stores' rate limits), at most a week.
pub const RECONCILE_EVERY: DurationRange = DurationRange {
    min: Duration::from_secs(1),
    max: Duration::from_secs(7 * 24 * 3600),
    allowed: "a duration from 1s to 7d, such as \"30s\", \"15m\" or \"1h\"",
};

/// `[server] coalesce_window`: changes wait at most this long, so at most 10 seconds.
pub const COALESCE_WINDOW: DurationRange = DurationRange {
    min: Duration::ZERO,
    max: Duration::from_secs(10),
    allowed: "a duration from 0s to 10s, such as \"300ms\"",
};

/// `[server] max_items_per_flush`: the most items one real-time flush re-reads.
pub const MAX_ITEMS_PER_FLUSH: std::ops::RangeInclusive<i64> = 1..=1000;

/// `[server] max_items_per_flush`, checked against [`MAX_ITEMS_PER_FLUSH`]; 50 when not set.
pub fn max_items_per_flush(server: &ServerSection) -> Result<usize, ConfigError> {
    match server.max_items_per_flush {
        None => Ok(50),
        Some(n) if MAX_ITEMS_PER_FLUSH.contains(&n) => Ok(n as usize),
        Some(n) => Err(ConfigError::Value {
            key: "server.max_items_per_flush".into(),
            value: n.to_string(),
            allowed: format!(
                "an integer from {} to {}",
                MAX_ITEMS_PER_FLUSH.start(),
                MAX_ITEMS_PER_FLUSH.end()
            ),
        }),
    }
}

/// The durations a duration setting may take, both ends included. An upper bound keeps every
/// deadline computed from a setting (`now + reconcile_every`) far from overflowing.
#[derive(Debug, Clone, Copy)]
pub struct DurationRange {
    /// The shortest allowed.
    pub min: Duration,
    /// The longest allowed.
    pub max: Duration,
    /// The range as the error message states it.
    pub allowed: &'static str,
}

/// Parses a duration like `15m`, `300ms`, `1h 30m`, naming the key on error.
pub fn parse_duration(key: &str, text: &str) -> Result<Duration, ConfigError> {
    humantime::parse_duration(text.trim()).map_err(|_| ConfigError::Value {
        key: key.into(),
        value: format!("{text:?}"),
        allowed: "a duration such as \"30s\", \"15m\" or \"1h\"".into(),
    })
}

/// Parses a duration setting and checks it lies in `range`, naming the key, the value and
/// the range on error.
pub fn parse_bounded_duration(
    key: &str,
    text: &str,
    range: DurationRange,
) -> Result<Duration, ConfigError> {
    let refused = || ConfigError::Value {
        key: key.into(),
        value: format!("{text:?}"),
        allowed: range.allowed.into(),
    };
    let duration = humantime::parse_duration(text.trim()).map_err(|_| refused())?;
    if (range.min..=range.max).contains(&duration) {
        Ok(duration)
    } else {
        Err(refused())
    }
}

/// `[tiktok] requests_per_second`: from a request every ten seconds to TikTok's largest quota.
pub const REQUESTS_PER_SECOND: std::ops::RangeInclusive<f64> = 0.1..=10_000.0;

/// `[tiktok] concurrency`: product writes in flight at once.
pub const CONCURRENCY: std::ops::RangeInclusive<i64> = 1..=64;

/// `[tiktok] requests_per_second` when set, checked against [`REQUESTS_PER_SECOND`]
/// (which refuses NaN and the infinities too).
pub fn requests_per_second(tiktok: &TikTokSection) -> Result<Option<f64>, ConfigError> {
    match tiktok.requests_per_second {
        Some(rps) if !REQUESTS_PER_SECOND.contains(&rps) => Err(ConfigError::Value {
            key: "tiktok.requests_per_second".into(),
            // Debug writes 1e-300 as such, where Display would write 300 zeros.
            value: format!("{rps:?}"),
            allowed: format!(
                "a number from {} to {}",
                REQUESTS_PER_SECOND.start(),
                REQUESTS_PER_SECOND.end()
            ),
        }),
        rps => Ok(rps),
    }
}

pub(super) fn check_concurrency(tiktok: &TikTokSection) -> Result<(), ConfigError> {
    match tiktok.concurrency {
        Some(n) if !CONCURRENCY.contains(&n) => Err(ConfigError::Value {
            key: "tiktok.concurrency".into(),
            value: n.to_string(),
            allowed: format!(
                "an integer from {} to {}",
                CONCURRENCY.start(),
                CONCURRENCY.end()
            ),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
