//! The signed HTTP client: one TikTok call, paced by the shared limiter, signed over the exact
//! bytes it sends, re-signed with a fresh timestamp on every attempt, retried by the ports'
//! one [`RetryPolicy`] (within its time limit for the whole call), and refreshed once when
//! the access token expired.
//!
//! A call refused for its token is repeated with the newer token when another call refreshed
//! the tokens since this one picked its token up (TikTok then calls the old one invalid,
//! 105001); otherwise the tokens are refreshed once. Only a refused refresh, or a refreshed
//! token refused again, is a credentials error.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use stockbridge_ports::{Attempts, RetryPolicy, SinkError};
use tokio::time::Instant;

use crate::error::{classify, redact, refuses_the_token, transport, Answer, TikTokError};
use crate::gate::SendGate;
use crate::rate_limit::AdaptiveLimiter;
use crate::signing::sign;
use crate::tokens::{Lease, TokenKeeper};

/// How many times one call is repeated because its token was replaced while it was in
/// flight. Tokens are replaced only by refreshes, so more than a few means something is
/// refreshing in a loop; the refusal is then reported.
const MAX_STALE_REPEATS: u32 = 3;

/// One request to make.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    pub(crate) path: &'a str,
    /// Query parameters besides `app_key`, `timestamp`, `sign` and `shop_cipher`.
    pub(crate) query: Vec<(&'static str, String)>,
    /// The exact body bytes, serialised once.
    pub(crate) body: Option<Vec<u8>>,
    /// Sent on shop-scoped calls; never on `/authorization/*`.
    pub(crate) shop_cipher: Option<&'a str>,
}

/// A failure of one attempt, with TikTok's code when it sent one.
struct Failure {
    code: Option<i64>,
    error: SinkError,
}

impl From<SinkError> for Failure {
    fn from(error: SinkError) -> Self {
        Failure { code: None, error }
    }
}

#[derive(Deserialize)]
struct Envelope {
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: serde_json::Value,
}

/// How one sink sends: an HTTP client (its own, or shared by many sinks) with the sink's
/// headers and request timeout added to each request.
#[derive(Debug, Clone)]
pub(crate) struct ShopHttp {
    pub(crate) client: reqwest::Client,
    pub(crate) headers: HeaderMap,
    pub(crate) timeout: Duration,
}

impl ShopHttp {
    /// A request with the sink's headers and timeout.
    pub(crate) fn request(&self, method: Method, url: String) -> reqwest::RequestBuilder {
        self.client
            .request(method, url)
            .headers(self.headers.clone())
            .timeout(self.timeout)
    }
}

/// The client of one shop's API.
pub(crate) struct Client {
    pub(crate) http: ShopHttp,
    pub(crate) base_url: String,
    pub(crate) app_key: String,
    pub(crate) tokens: TokenKeeper,
    pub(crate) limiter: AdaptiveLimiter,
    pub(crate) retry: RetryPolicy,
    /// Asked before a write is sent and when its body leaves.
    pub(crate) gate: Option<SendGate>,
}

impl Client {
    /// Makes the call and returns its `data`, retrying what may be retried.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        req: &Request<'_>,
    ) -> Result<T, SinkError> {
        let started = Instant::now();
        let mut attempts = Attempts::default();
        let mut refreshed = false;
        let mut stale_repeats = 0;
        loop {
            let (lease, renewed) = self.tokens.lease(!refreshed).await?;
            refreshed |= renewed;
            self.limiter.acquire().await;
            let attempt = match self.retry.time_left(started.elapsed()) {
                Some(left) => tokio::time::timeout(left, self.attempt(req, &lease))
                    .await
                    .unwrap_or_else(|_| Err(Failure::from(self.out_of_time(req)))),
                None => Err(Failure::from(self.out_of_time(req))),
            };
            let failure = match attempt {
                Ok(data) => {
                    self.limiter.on_success();
                    return parse_data(req.path, data);
                }
                Err(failure) => failure,
            };
            if refuses_the_token(failure.code) {
                if self.tokens.renewed_since(lease.generation) && stale_repeats < MAX_STALE_REPEATS
                {
                    stale_repeats += 1;
                    continue;
                }
                if !refreshed && self.tokens.can_refresh() {
                    refreshed = true;
                    self.tokens.refresh_after(lease.generation).await?;
                    continue;
                }
            }
            let error = failure.error;
            let throttled = matches!(error, SinkError::RateLimited { .. });
            if let SinkError::RateLimited { retry_after } = &error {
                self.limiter.on_throttle(*retry_after);
            }
            let Some(wait) =
                self.retry
                    .next_wait(&mut attempts, error.retry(), throttled, started.elapsed())
            else {
                return Err(error);
            };
            tracing::warn!(
                path = req.path,
                failures = attempts.failures(),
                wait_ms = wait.as_millis() as u64,
                error = %error,
                "TikTok call failed; retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// A call that reached the retry policy's time limit.
    fn out_of_time(&self, req: &Request<'_>) -> SinkError {
        SinkError::Transient {
            message: format!(
                "{}: no answer within the time limit of one call ({} s, attempts and waits included)",
                req.path,
                self.retry.call_timeout.as_secs_f64()
            ),
        }
    }

    async fn attempt(
        &self,
        req: &Request<'_>,
        lease: &Lease,
    ) -> Result<serde_json::Value, Failure> {
        let timestamp = unix_seconds().to_string();
        let mut query: Vec<(&str, &str)> = vec![
            ("app_key", self.app_key.as_str()),
            ("timestamp", timestamp.as_str()),
        ];
        if let Some(cipher) = req.shop_cipher {
            query.push(("shop_cipher", cipher));
        }
        query.extend(req.query.iter().map(|(k, v)| (*k, v.as_str())));
        let body = req.body.as_deref().unwrap_or_default();
        let secrets = self.tokens.secrets();
        let signature = sign(self.tokens.app_secret().expose(), req.path, &query, body);
        query.push(("sign", signature.as_str()));

        let mut url = format!("{}{}?", self.base_url, req.path);
        for (i, (key, value)) in query.iter().enumerate() {
            if i > 0 {
                url.push('&');
            }
            url.push_str(key);
            url.push('=');
            url.push_str(&urlencoding::encode(value));
        }
        let mut builder = self
            .http
            .request(req.method.clone(), url)
            .header("x-tts-access-token", lease.access_token.expose())
            .header(CONTENT_TYPE, "application/json");
        if let Some(body) = &req.body {
            builder = match &self.gate {
                None => builder.body(body.clone()),
                Some(gate) => {
                    gate.check().map_err(|reason| not_sent(req, reason))?;
                    // Asked again when the body is written to the connection, so that a
                    // process paused between the first check and the send (SIGSTOP) does
                    // not send it when it resumes.
                    let (gate, bytes) = (gate.clone(), body.clone());
                    let chunk = futures::stream::once(async move {
                        gate.check().map(|()| bytes).map_err(std::io::Error::other)
                    });
                    builder
                        .header(CONTENT_LENGTH, body.len())
                        .body(reqwest::Body::wrap_stream(chunk))
                }
            };
        }
        let response = builder.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let bytes = response.bytes().await.map_err(transport)?;
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        tracing::debug!(method = %req.method, path = req.path, status, "TikTok call answered");

        let envelope = match serde_json::from_slice::<Envelope>(&bytes) {
            Ok(envelope) => envelope,
            Err(_) if !(200..300).contains(&status) => {
                let text = String::from_utf8_lossy(&bytes);
                let snippet: String = text.chars().take(200).collect();
                let message = redact(&snippet, &secrets);
                return Err(Failure::from(classify(&Answer {
                    status,
                    code: None,
                    message: &message,
                    retry_after,
                })));
            }
            Err(source) => {
                return Err(Failure::from(SinkError::from(
                    TikTokError::MalformedAnswer {
                        endpoint: req.path.to_owned(),
                        source,
                    },
                )))
            }
        };
        if envelope.code == 0 && (200..300).contains(&status) {
            return Ok(envelope.data);
        }
        let code = (envelope.code != 0).then_some(envelope.code);
        let message = redact(&envelope.message, &secrets);
        Err(Failure {
            code,
            error: classify(&Answer {
                status,
                code,
                message: &message,
                retry_after,
            }),
        })
    }
}

/// A write the gate stopped before it was sent: not retried.
fn not_sent(req: &Request<'_>, reason: String) -> Failure {
    Failure::from(SinkError::from(TikTokError::NotSent {
        endpoint: req.path.to_owned(),
        reason,
    }))
}

fn parse_data<T: DeserializeOwned>(path: &str, data: serde_json::Value) -> Result<T, SinkError> {
    let data = if data.is_null() {
        serde_json::Value::Object(Default::default())
    } else {
        data
    };
    serde_json::from_value(data).map_err(|source| {
        TikTokError::MalformedAnswer {
            endpoint: path.to_owned(),
            source,
        }
        .into()
    })
}

/// `Retry-After` in seconds (TikTok and proxies send seconds, sometimes fractional).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let seconds: f64 = text.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_whole_and_fractional_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(RETRY_AFTER, "0.5".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(500)));
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }
}
