//! The GraphQL transport: one POST per query with the access token, paced by the shared cost
//! bucket mirror, retried by the one retry decision, answers read into typed data or a
//! `SourceError`.

mod answer;
mod pacing;
mod retry;

use pacing::Pacer;
use serde::de::DeserializeOwned;
use serde_json::json;
use stockbridge_ports::{Attempts, RetryPolicy, Secret, SourceError};
use tokio::time::Instant;

/// One query to send: its text, variables, and what it is likely to cost.
pub(crate) struct Query {
    /// Names the operation in errors and logs.
    pub(crate) operation: &'static str,
    pub(crate) text: &'static str,
    pub(crate) variables: serde_json::Value,
    /// Queries of one shape cost the same; the pacer remembers the cost per shape.
    pub(crate) shape: String,
    /// What to assume before Shopify has said what this shape costs.
    pub(crate) estimated_cost: u64,
}

/// How one source sends its queries: an HTTP client (its own, or shared by many sources)
/// with the source's headers and request timeout added to each query.
pub(crate) struct Sender {
    pub(crate) client: reqwest::Client,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) timeout: std::time::Duration,
}

/// A paced, retrying client of one shop's GraphQL endpoint.
pub(crate) struct GraphqlClient {
    http: Sender,
    /// For bulk export files: no limit on the whole download, only on silence.
    download: reqwest::Client,
    endpoint: String,
    token: Secret,
    retry: RetryPolicy,
    pacer: Pacer,
}

impl GraphqlClient {
    /// `http` sends queries; `download` fetches export files, which may take far longer
    /// than any query.
    pub(crate) fn new(
        http: Sender,
        download: reqwest::Client,
        endpoint: String,
        token: Secret,
        retry: RetryPolicy,
    ) -> Self {
        GraphqlClient {
            http,
            download,
            endpoint,
            token,
            retry,
            pacer: Pacer::default(),
        }
    }

    /// Sends a query until it succeeds or the retry decision gives up. `build` makes the
    /// query for each attempt from the bucket size Shopify last reported, so that a query
    /// can shrink to fit a small bucket; a query refused as too dear for a bucket it was not
    /// built for is rebuilt and sent again at once.
    pub(crate) async fn run<T, B>(&self, build: B) -> Result<T, SourceError>
    where
        T: DeserializeOwned,
        B: Fn(Option<f64>) -> Query,
    {
        let operation = build(None).operation;
        self.with_retries(operation, true, || async {
            let built_for = self.pacer.maximum();
            let result = self.paced_send(&build(built_for)).await;
            if retry::resize(&result, built_for, self.pacer.maximum()) {
                tracing::debug!(operation, "resizing a query to the bucket just reported");
                return self.paced_send(&build(self.pacer.maximum())).await;
            }
            result
        })
        .await
    }

    /// The bucket's size, as Shopify last reported it.
    pub(crate) fn bucket_maximum(&self) -> Option<f64> {
        self.pacer.maximum()
    }

    /// What the bucket likely holds now, queries already booked taken out.
    pub(crate) fn bucket_holds(&self) -> Option<f64> {
        self.pacer.holds()
    }

    /// Waits until the bucket likely holds the query's cost, then sends it.
    async fn paced_send<T: DeserializeOwned>(&self, query: &Query) -> Result<T, SourceError> {
        let wait = self
            .pacer
            .reserve(&query.shape, query.estimated_cost as f64);
        if !wait.is_zero() {
            tracing::debug!(
                operation = query.operation,
                wait_ms = wait.as_millis() as u64,
                "pacing to the cost bucket"
            );
            tokio::time::sleep(wait).await;
        }
        self.send(query).await
    }

    /// Downloads a file Shopify links to (a bulk export), handing each chunk to `feed` as it
    /// arrives, into what `fresh` makes for each attempt (a retried download starts over).
    /// The token is not sent: the link is signed and may point at another host. A file of
    /// hundreds of megabytes takes minutes, so only a stalled download times out, never a
    /// slow one.
    pub(crate) async fn download_into<S>(
        &self,
        url: &str,
        fresh: impl Fn() -> S,
        feed: impl Fn(&mut S, &[u8]) -> Result<(), SourceError>,
    ) -> Result<S, SourceError> {
        // A download is bounded by its silence timeout, not by the query time limit.
        self.with_retries("bulk download", false, || async {
            let mut response = self
                .download
                .get(url)
                .send()
                .await
                .map_err(transport("bulk download"))?;
            let status = response.status();
            if status.is_server_error() {
                return Err(SourceError::Transient {
                    message: format!("bulk download: HTTP {status}"),
                });
            }
            if !status.is_success() {
                return Err(SourceError::Rejected {
                    code: status.as_u16().to_string(),
                    message: "the bulk export could not be downloaded".into(),
                });
            }
            let mut into = fresh();
            while let Some(chunk) = response.chunk().await.map_err(transport("bulk download"))? {
                feed(&mut into, &chunk)?;
            }
            Ok(into)
        })
        .await
    }

    /// Makes the call until it succeeds or the retry policy gives up. A `bounded` call ends
    /// within the policy's `call_timeout`, the attempt under way included.
    async fn with_retries<T, F, Fut>(
        &self,
        operation: &'static str,
        bounded: bool,
        mut call: F,
    ) -> Result<T, SourceError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, SourceError>>,
    {
        let started = Instant::now();
        let mut attempts = Attempts::default();
        loop {
            let result = if bounded {
                match self.retry.time_left(started.elapsed()) {
                    Some(left) => tokio::time::timeout(left, call())
                        .await
                        .unwrap_or_else(|_| Err(out_of_time(operation, &self.retry))),
                    None => Err(out_of_time(operation, &self.retry)),
                }
            } else {
                call().await
            };
            let error = match result {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let throttled = matches!(error, SourceError::RateLimited { .. });
            let elapsed = if bounded {
                started.elapsed()
            } else {
                std::time::Duration::ZERO
            };
            match self
                .retry
                .next_wait(&mut attempts, error.retry(), throttled, elapsed)
            {
                Some(wait) => {
                    tracing::debug!(operation, wait_ms = wait.as_millis() as u64, error = %error, "retrying");
                    tokio::time::sleep(wait).await;
                }
                None => return Err(error),
            }
        }
    }

    async fn send<T: DeserializeOwned>(&self, query: &Query) -> Result<T, SourceError> {
        let body = json!({ "query": query.text, "variables": query.variables });
        let response = self
            .http
            .client
            .post(&self.endpoint)
            .headers(self.http.headers.clone())
            .timeout(self.http.timeout)
            .header("X-Shopify-Access-Token", self.token.expose())
            .json(&body)
            .send()
            .await
            .map_err(transport(query.operation))?;
        let status = response.status();
        let retry_after = answer::retry_after(response.headers());
        let bytes = response.bytes().await.map_err(transport(query.operation))?;
        let answer = answer::read::<T>(query.operation, status, retry_after, &bytes);
        if let Some(cost) = &answer.cost {
            self.pacer.observe(&query.shape, cost);
        }
        answer.result
    }
}

/// A failure to get an answer at all: timeouts and connection failures are transient.
fn transport(operation: &'static str) -> impl Fn(reqwest::Error) -> SourceError {
    move |error| {
        let what = if error.is_timeout() {
            "timed out"
        } else if error.is_connect() {
            "could not connect"
        } else {
            "transport failure"
        };
        SourceError::Transient {
            message: format!("{operation}: {what}: {}", error.without_url()),
        }
    }
}

/// A query that reached the retry policy's time limit.
fn out_of_time(operation: &str, policy: &RetryPolicy) -> SourceError {
    SourceError::Transient {
        message: format!(
            "{operation}: no answer within the time limit of one query ({} s, attempts and waits included)",
            policy.call_timeout.as_secs_f64()
        ),
    }
}
