//! Shopify webhook delivery: REST-shaped bodies signed like Shopify's, sent to every configured
//! URL in a spawned task, retried with backoff, and bent by the webhook faults.

pub(crate) mod payloads;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

use crate::clock;
use crate::credentials::Credentials;
use crate::server::{SandboxError, Shared};

/// `X-Shopify-API-Version` of every delivery.
pub const WEBHOOK_API_VERSION: &str = "2025-10";
/// Attempts per delivery before it counts as failed.
const MAX_ATTEMPTS: u32 = 5;
/// Wait before the first retry; doubled for each next one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// One change to tell the subscribers about.
pub(crate) struct Event {
    pub(crate) topic: &'static str,
    pub(crate) body: serde_json::Value,
}

pub(crate) struct Webhooks {
    client: reqwest::Client,
    urls: Vec<String>,
    secret: String,
    shop_domain: String,
}

impl Webhooks {
    pub(crate) fn new(
        urls: &[String],
        credentials: &Credentials,
    ) -> Result<Webhooks, SandboxError> {
        for url in urls {
            let parsed = url::Url::parse(url).map_err(|err| SandboxError::WebhookUrl {
                url: url.clone(),
                message: err.to_string(),
            })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(SandboxError::WebhookUrl {
                    url: url.clone(),
                    message: "allowed schemes: http, https".to_owned(),
                });
            }
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(SandboxError::WebhookClient)?;
        Ok(Webhooks {
            client,
            urls: urls.to_vec(),
            secret: credentials.shopify_webhook_secret.clone(),
            shop_domain: credentials.shop_domain.clone(),
        })
    }
}

/// base64 HMAC-SHA256 of `body` keyed with `secret`: the `X-Shopify-Hmac-Sha256` value.
pub fn shopify_hmac(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A random id in UUID v4 form.
pub(crate) fn random_id() -> String {
    let bytes: [u8; 16] = rand::thread_rng().gen();
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// Sends each event to every URL in the background; returns the event ids.
pub(crate) fn publish(shared: &Arc<Shared>, events: Vec<Event>) -> Vec<String> {
    let mut ids = Vec::with_capacity(events.len());
    for event in events {
        let event_id = random_id();
        ids.push(event_id.clone());
        shared.stats.webhooks(|w| {
            w.events += 1;
            *w.per_topic.entry(event.topic.to_owned()).or_default() += 1;
        });
        let body = Arc::new(serde_json::to_vec(&event.body).expect("JSON serializes"));
        let hmac = shopify_hmac(&shared.webhooks.secret, &body);
        let triggered_at = clock::rfc3339_millis(clock::now_millis());
        for url in &shared.webhooks.urls {
            let plan = shared.faults.delivery();
            if plan.dropped {
                shared.stats.webhooks(|w| w.dropped += 1);
                continue;
            }
            for copy in 0..plan.copies {
                if copy > 0 {
                    shared.stats.webhooks(|w| w.duplicates += 1);
                }
                let delivery = Delivery {
                    shared: shared.clone(),
                    url: url.clone(),
                    topic: event.topic,
                    body: body.clone(),
                    hmac: hmac.clone(),
                    event_id: event_id.clone(),
                    triggered_at: triggered_at.clone(),
                    delay: plan.delay,
                };
                tokio::spawn(delivery.run());
            }
        }
    }
    ids
}

struct Delivery {
    shared: Arc<Shared>,
    url: String,
    topic: &'static str,
    body: Arc<Vec<u8>>,
    hmac: String,
    event_id: String,
    triggered_at: String,
    delay: Duration,
}

impl Delivery {
    async fn run(self) {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let webhook_id = random_id();
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=MAX_ATTEMPTS {
            self.shared.stats.webhooks(|w| w.attempts += 1);
            let sent = self
                .shared
                .webhooks
                .client
                .post(&self.url)
                .header("Content-Type", "application/json")
                .header("X-Shopify-Topic", self.topic)
                .header("X-Shopify-Hmac-Sha256", &self.hmac)
                .header("X-Shopify-Shop-Domain", &self.shared.webhooks.shop_domain)
                .header("X-Shopify-API-Version", WEBHOOK_API_VERSION)
                .header("X-Shopify-Webhook-Id", &webhook_id)
                .header("X-Shopify-Event-Id", &self.event_id)
                .header("X-Shopify-Triggered-At", &self.triggered_at)
                .body(self.body.as_ref().clone())
                .send()
                .await;
            match sent {
                Ok(answer) if answer.status().is_success() => {
                    self.shared.stats.webhooks(|w| w.delivered += 1);
                    return;
                }
                Ok(answer) => {
                    tracing::debug!(url = %self.url, topic = self.topic, attempt, status = %answer.status(), "webhook refused");
                }
                Err(err) => {
                    tracing::debug!(url = %self.url, topic = self.topic, attempt, error = %err, "webhook not delivered");
                }
            }
            if attempt < MAX_ATTEMPTS {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
        tracing::warn!(url = %self.url, topic = self.topic, event_id = %self.event_id, "webhook given up");
        self.shared.stats.webhooks(|w| w.failed += 1);
    }
}
