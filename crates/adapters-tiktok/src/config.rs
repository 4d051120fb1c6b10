//! The adapter's configuration, and how it builds the sink.

use std::time::Duration;

use stockbridge_ports::{RetryPolicy, Secret};

use crate::client::{Client, ShopHttp};
use crate::error::TikTokError;
use crate::gate::SendGate;
use crate::rate_limit::AdaptiveLimiter;
use crate::sink::TikTokSink;
use crate::tokens::{RefreshEndpoint, TokenKeeper};

/// The TikTok Shop API host.
pub const DEFAULT_BASE_URL: &str = "https://open-api.tiktokglobalshop.com";
/// The TikTok Shop token host.
pub const DEFAULT_AUTH_BASE_URL: &str = "https://auth.tiktok-shops.com";
/// Requests per second when not configured: well under any limit seen in the wild.
pub const DEFAULT_REQUESTS_PER_SECOND: f64 = 10.0;
/// The largest page TikTok's product search serves.
pub const MAX_PAGE_SIZE: u32 = 100;
/// The share of `requests_per_second` the sink actually paces at. A limit counted in
/// one-second windows at the server sees requests with network jitter: paced at exactly the
/// limit, a window that opens a few milliseconds late still holds the next window's first
/// request, which is refused (measured: 16 throttles in 10,000 writes at 200/s, each costing
/// about a second; none at 95%).
pub const PACING_SHARE: f64 = 0.95;

/// How to reach one TikTok shop. `Debug` never prints a secret.
#[derive(Debug, Clone)]
pub struct TikTokConfig {
    /// The app's key (public).
    pub app_key: String,
    /// The app's signing secret.
    pub app_secret: Secret,
    /// The seller's access token (`x-tts-access-token`).
    pub access_token: Secret,
    /// The refresh token; without it an expired access token is `Unauthorized`.
    pub refresh_token: Option<Secret>,
    /// The shop; looked up through the authorized shops when absent (the only one, or an
    /// error naming them when there are several).
    pub shop_cipher: Option<String>,
    /// The API host, without a trailing slash.
    pub base_url: String,
    /// The token host, without a trailing slash.
    pub auth_base_url: String,
    /// The request-rate limit TikTok allows, across all the sink's concurrent calls; the
    /// sink paces at [`PACING_SHARE`] of it.
    pub requests_per_second: f64,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// How long one request may take in all.
    pub request_timeout: Duration,
    /// Retries of a throttled or transiently failed call, and the time limit of one call
    /// (6 attempts, backoff from 500 ms to 30 s, a `Retry-After` over 30 s returned to the
    /// caller as `RateLimited`, 2 minutes per call in all).
    pub retry: RetryPolicy,
    /// Products per catalog page (1 to 100).
    pub page_size: u32,
    /// Headers sent with every request (a fleet worker's `X-Stockbridge-Lease`).
    pub headers: Vec<(String, String)>,
    /// Asked before every write is sent; `None` sends every write.
    pub send_gate: Option<SendGate>,
}

impl TikTokConfig {
    /// A configuration with the given credentials and every other value at its default.
    pub fn new(app_key: impl Into<String>, app_secret: Secret, access_token: Secret) -> Self {
        TikTokConfig {
            app_key: app_key.into(),
            app_secret,
            access_token,
            refresh_token: None,
            shop_cipher: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            auth_base_url: DEFAULT_AUTH_BASE_URL.to_owned(),
            requests_per_second: DEFAULT_REQUESTS_PER_SECOND,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            page_size: MAX_PAGE_SIZE,
            headers: Vec::new(),
            send_gate: None,
        }
    }

    /// Checks the configuration and builds the sink over an HTTP client of its own. Nothing
    /// is sent until the first call.
    pub fn build(self) -> Result<TikTokSink, TikTokError> {
        let http = http_client(self.connect_timeout)?;
        self.build_with(http)
    }

    /// Checks the configuration and builds the sink over `http` (from [`http_client`]), which
    /// many sinks may share (a fleet worker's shops: one connection pool, not one per shop).
    /// The sink's `headers` and `request_timeout` go with each of its requests; the client's
    /// connect timeout is the client's. Nothing is sent until the first call.
    pub fn build_with(self, http: reqwest::Client) -> Result<TikTokSink, TikTokError> {
        self.validate()?;
        let http = ShopHttp {
            client: http,
            headers: default_headers(&self.headers)?,
            timeout: self.request_timeout,
        };
        let tokens = TokenKeeper::new(
            self.access_token,
            self.refresh_token,
            RefreshEndpoint {
                http: http.clone(),
                auth_base_url: trimmed(&self.auth_base_url),
                app_key: self.app_key.clone(),
                app_secret: self.app_secret,
            },
        );
        let client = Client {
            http,
            base_url: trimmed(&self.base_url),
            app_key: self.app_key,
            tokens,
            limiter: AdaptiveLimiter::new(self.requests_per_second * PACING_SHARE),
            retry: self.retry,
            gate: self.send_gate,
        };
        Ok(TikTokSink::new(
            client,
            self.shop_cipher.filter(|c| !c.trim().is_empty()),
            self.page_size,
        ))
    }

    fn validate(&self) -> Result<(), TikTokError> {
        let invalid = |what: &str| Err(TikTokError::InvalidConfig(what.to_owned()));
        if self.app_key.trim().is_empty() {
            return invalid("app_key is empty");
        }
        if self.app_secret.is_empty() {
            return invalid("app_secret is empty");
        }
        if self.access_token.is_empty() {
            return invalid("access_token is empty");
        }
        if !(self.requests_per_second.is_finite() && self.requests_per_second > 0.0) {
            return Err(TikTokError::InvalidConfig(format!(
                "requests_per_second must be a positive number (got {})",
                self.requests_per_second
            )));
        }
        if let Err(why) = self.retry.check() {
            return invalid(why);
        }
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(TikTokError::InvalidConfig(format!(
                "page_size must be between 1 and {MAX_PAGE_SIZE} (got {})",
                self.page_size
            )));
        }
        for (name, url) in [
            ("base_url", &self.base_url),
            ("auth_base_url", &self.auth_base_url),
        ] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(TikTokError::InvalidConfig(format!(
                    "{name} must start with https:// or http:// (got {url:?})"
                )));
            }
        }
        Ok(())
    }
}

/// An HTTP client for [`TikTokConfig::build_with`]: its connection pool and connect timeout,
/// no redirects, Stockbridge's user agent, and no headers or request timeout of any one sink.
pub fn http_client(connect_timeout: Duration) -> Result<reqwest::Client, TikTokError> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("stockbridge/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(TikTokError::HttpClient)
}

/// The extra headers as a header map; a name or value that is not a valid header is a
/// configuration error naming it.
fn default_headers(
    headers: &[(String, String)],
) -> Result<reqwest::header::HeaderMap, TikTokError> {
    let mut map = reqwest::header::HeaderMap::new();
    for (name, value) in headers {
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            TikTokError::InvalidConfig(format!("header name {name:?} is not valid"))
        })?;
        let value = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
            TikTokError::InvalidConfig(format!("the value of header {name} is not valid"))
        })?;
        map.insert(name, value);
    }
    Ok(map)
}

fn trimmed(url: &str) -> String {
    url.trim().trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> TikTokConfig {
        TikTokConfig::new(
            "key",
            Secret::new("app-secret-value"),
            Secret::new("token-value"),
        )
    }

    #[test]
    fn defaults_point_at_tiktok_and_are_conservative() {
        let c = config();
        assert_eq!(c.base_url, DEFAULT_BASE_URL);
        assert_eq!(c.auth_base_url, DEFAULT_AUTH_BASE_URL);
        assert_eq!(c.requests_per_second, 10.0);
        assert_eq!(c.page_size, 100);
        assert!(c.build().is_ok());
    }

    #[test]
    fn a_built_sink_paces_a_little_under_the_configured_limit() {
        let mut c = config();
        c.requests_per_second = 200.0;
        let sink = c.build().unwrap();
        assert_eq!(sink.request_rate(), 190.0);
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let mut c = config();
        c.refresh_token = Some(Secret::new("refresh-value"));
        let text = format!("{c:?}");
        for secret in ["app-secret-value", "token-value", "refresh-value"] {
            assert!(!text.contains(secret), "{text}");
        }
    }

    #[test]
    fn bad_values_are_refused_with_what_to_fix_and_the_value_given() {
        let mut c = config();
        c.requests_per_second = 0.0;
        let err = c.build().err().unwrap();
        assert!(
            err.to_string()
                .contains("requests_per_second must be a positive number (got 0)"),
            "{err}"
        );
        let mut c = config();
        c.page_size = 101;
        let err = c.build().err().unwrap().to_string();
        assert!(
            err.contains("page_size must be between 1 and 100 (got 101)"),
            "{err}"
        );
        let mut c = config();
        c.app_secret = Secret::default();
        assert!(c.build().err().unwrap().to_string().contains("app_secret"));
        let mut c = config();
        c.base_url = "open-api.tiktokglobalshop.com".into();
        assert!(c.build().is_err());
    }
}
