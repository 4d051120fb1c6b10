//! The ranges of the numeric and duration settings outside `[rules]`. Each has an upper bound,
//! so no value that loads can overflow a deadline or a rate later (`now + reconcile_every`,
//! `1 / requests_per_second`); an error names the key, the value and the range.

use std::time::Duration;

use super::{ConfigError, ServerSection, ServerSettings, TikTokSection};

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

/// `[server] header_timeout`: long enough for a slow network, short enough that a client
/// sending nothing lets its connection go.
pub const HEADER_TIMEOUT: DurationRange = DurationRange {
    min: Duration::from_secs(1),
    max: Duration::from_secs(300),
    allowed: "a duration from 1s to 5m, such as \"10s\"",
};

/// `[server] body_timeout`.
pub const BODY_TIMEOUT: DurationRange = DurationRange {
    min: Duration::from_secs(1),
    max: Duration::from_secs(600),
    allowed: "a duration from 1s to 10m, such as \"30s\"",
};

/// `[server] idle_timeout`.
pub const IDLE_TIMEOUT: DurationRange = DurationRange {
    min: Duration::from_secs(1),
    max: Duration::from_secs(3600),
    allowed: "a duration from 1s to 1h, such as \"60s\"",
};

/// `[server] max_connections`: the most connections open at once.
pub const MAX_CONNECTIONS: std::ops::RangeInclusive<i64> = 1..=65_536;

/// `[server] webhook_ids_per_minute`: deliveries remembered for deduplication a minute.
pub const WEBHOOK_IDS_PER_MINUTE: std::ops::RangeInclusive<i64> = 10..=1_000_000;

/// `[server] max_items_per_flush`: the most items one real-time flush re-reads.
pub const MAX_ITEMS_PER_FLUSH: std::ops::RangeInclusive<i64> = 1..=1000;

/// `[server] max_body_bytes`: from 1 KiB to 64 MiB.
pub const MAX_BODY_BYTES: std::ops::RangeInclusive<i64> = 1024..=64 * 1024 * 1024;

/// An integer setting: `default` when it is not set, else its value if `range` holds it.
pub fn bounded_integer(
    key: &str,
    value: Option<i64>,
    range: std::ops::RangeInclusive<i64>,
    default: i64,
) -> Result<i64, ConfigError> {
    match value {
        None => Ok(default),
        Some(n) if range.contains(&n) => Ok(n),
        Some(n) => Err(ConfigError::Value {
            key: key.into(),
            value: n.to_string(),
            allowed: format!("an integer from {} to {}", range.start(), range.end()),
        }),
    }
}

#[derive(Debug, Clone, Copy)]
pub struct DurationRange {
    /// The shortest allowed.
    pub min: Duration,
    /// The longest allowed.
    pub max: Duration,
    /// The range as the error message states it.
    pub allowed: &'static str,
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
        value: super::values::shown(text),
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

/// `[tiktok] request_timeout`: one request to TikTok, answer included.
pub const REQUEST_TIMEOUT: DurationRange = DurationRange {
    min: Duration::from_millis(100),
    max: Duration::from_secs(300),
    allowed: "a duration from 100ms to 5m, such as \"30s\"",
};

/// `[tiktok] call_timeout`: everything one call to TikTok may take, retries included.
pub const CALL_TIMEOUT: DurationRange = DurationRange {
    min: Duration::from_secs(1),
    max: Duration::from_secs(3600),
    allowed: "a duration from 1s to 1h, such as \"2m\"",
};

/// `[tiktok] concurrency`: product writes in flight at once.
pub const CONCURRENCY: std::ops::RangeInclusive<i64> = 1..=64;

/// `[tiktok] concurrency` when it is not set: 8 writes in flight per 200 requests per second
/// of `requests_per_second` (TikTok's default limit), never fewer than 8 nor more than 64.
/// A write waits about a round trip for its answer, so a limit raised beyond 200 needs more
/// writes in flight to be used (measured: 300 changes/s at 600 req/s, p99 2.7 s with 8 in
/// flight, 0.48 s with 24; BENCHMARKS.md section 5).
pub fn default_concurrency(requests_per_second: Option<f64>) -> i64 {
    let per_200 = requests_per_second.map_or(0.0, |rps| (rps * 8.0 / 200.0).ceil());
    // `requests_per_second` is checked to be at most 10,000 before this: the cast is exact.
    (per_200 as i64).clamp(8, *CONCURRENCY.end())
}

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

/// `[server]`, checked, with its defaults.
pub(super) fn server_settings(server: &ServerSection) -> Result<ServerSettings, ConfigError> {
    Ok(ServerSettings {
        listen: server
            .listen
            .clone()
            .unwrap_or_else(|| "127.0.0.1:8080".into()),
        reconcile_every: parse_bounded_duration(
            "server.reconcile_every",
            server.reconcile_every.as_deref().unwrap_or("15m"),
            RECONCILE_EVERY,
        )?,
        coalesce_window: parse_bounded_duration(
            "server.coalesce_window",
            server.coalesce_window.as_deref().unwrap_or("300ms"),
            COALESCE_WINDOW,
        )?,
        max_body_bytes: bounded_integer(
            "server.max_body_bytes",
            server.max_body_bytes,
            MAX_BODY_BYTES,
            1024 * 1024,
        )? as usize,
        max_items_per_flush: bounded_integer(
            "server.max_items_per_flush",
            server.max_items_per_flush,
            MAX_ITEMS_PER_FLUSH,
            50,
        )? as usize,
        header_timeout: parse_bounded_duration(
            "server.header_timeout",
            server.header_timeout.as_deref().unwrap_or("10s"),
            HEADER_TIMEOUT,
        )?,
        body_timeout: parse_bounded_duration(
            "server.body_timeout",
            server.body_timeout.as_deref().unwrap_or("30s"),
            BODY_TIMEOUT,
        )?,
        idle_timeout: parse_bounded_duration(
            "server.idle_timeout",
            server.idle_timeout.as_deref().unwrap_or("60s"),
            IDLE_TIMEOUT,
        )?,
        max_connections: bounded_integer(
            "server.max_connections",
            server.max_connections,
            MAX_CONNECTIONS,
            256,
        )? as usize,
        webhook_ids_per_minute: bounded_integer(
            "server.webhook_ids_per_minute",
            server.webhook_ids_per_minute,
            WEBHOOK_IDS_PER_MINUTE,
            6000,
        )? as u32,
    })
}

#[cfg(test)]
mod tests;
