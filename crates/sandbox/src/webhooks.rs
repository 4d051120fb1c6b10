//! Webhook delivery: Shopify's REST-shaped bodies signed like Shopify's, and TikTok's
//! `ORDER_STATUS_CHANGE` notifications signed like TikTok's, sent to every configured URL in a
//! spawned task, retried with backoff, and bent by the webhook faults.

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

/// One shop's webhook delivery: the shared client and URLs, the shop's domain and secrets.
pub(crate) struct Webhooks {
    client: reqwest::Client,
    urls: Arc<[String]>,
    secret: String,
    shop_domain: String,
    tiktok_urls: Arc<[String]>,
    tiktok_app_key: String,
    tiktok_app_secret: String,
    tiktok_shop_id: String,
}

/// Refuses a webhook URL that is not an http(s) URL.
pub(crate) fn check_urls(urls: &[String], tiktok_urls: &[String]) -> Result<(), SandboxError> {
    for url in urls.iter().chain(tiktok_urls) {
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
    Ok(())
}

/// The HTTP client every shop's deliveries share.
pub(crate) fn client() -> Result<reqwest::Client, SandboxError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(SandboxError::WebhookClient)
}

impl Webhooks {
    /// A shop's delivery, its URLs checked by [`check_urls`] already.
    pub(crate) fn for_shop(
        client: reqwest::Client,
        urls: &Arc<[String]>,
        tiktok_urls: &Arc<[String]>,
        credentials: &Credentials,
    ) -> Webhooks {
        Webhooks {
            client,
            urls: urls.clone(),
            secret: credentials.shopify_webhook_secret.clone(),
            shop_domain: credentials.shop_domain.clone(),
            tiktok_urls: tiktok_urls.clone(),
            tiktok_app_key: credentials.tiktok_app_key.clone(),
            tiktok_app_secret: credentials.tiktok_app_secret.clone(),
            tiktok_shop_id: credentials.tiktok_shop_id.clone(),
        }
    }
}

/// base64 HMAC-SHA256 of `body` keyed with `secret`: the `X-Shopify-Hmac-Sha256` value.
pub fn shopify_hmac(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Lowercase hex HMAC-SHA256 of `app_key + body` keyed with `app_secret`: the `Authorization`
/// header of a TikTok Shop webhook (reference/tiktok-api.md §10.3).
pub fn tiktok_signature(app_key: &str, app_secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("any key length");
    mac.update(app_key.as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Sends a TikTok `ORDER_STATUS_CHANGE` notification (type 1) about one order to every TikTok
/// webhook URL in the background; returns its `tts_notification_id`.
pub(crate) fn publish_tiktok_order(
    shared: &Arc<Shared>,
    order_id: &str,
    status: &str,
    update_time: i64,
) -> String {
    let notification_id = rand::thread_rng()
        .gen_range(7_000_000_000_000_000_000u64..7_999_999_999_999_999_999)
        .to_string();
    shared.stats.webhooks(|w| {
        w.events += 1;
        *w.per_topic
            .entry("ORDER_STATUS_CHANGE".to_owned())
            .or_default() += 1;
    });
    let body = serde_json::json!({
        "type": 1,
        "tts_notification_id": notification_id,
        "shop_id": shared.webhooks.tiktok_shop_id,
        "timestamp": clock::now_seconds(),
        "data": {
            "order_id": order_id,
            "order_status": status,
            "update_time": update_time,
            "is_on_hold_order": status == "ON_HOLD",
        },
    });
    let body = Arc::new(serde_json::to_vec(&body).expect("JSON serializes"));
    let hooks = &shared.webhooks;
    let signature = tiktok_signature(&hooks.tiktok_app_key, &hooks.tiktok_app_secret, &body);
    let headers = vec![("Authorization", signature)];
    send_to_all(
        shared,
        &hooks.tiktok_urls,
        "ORDER_STATUS_CHANGE",
        &body,
        &headers,
        false,
    );
    notification_id
}

/// Schedules one delivery of `body` to each URL, as the webhook faults decide (dropped,
/// duplicated, delayed). `shopify_webhook_id` adds a fresh `X-Shopify-Webhook-Id` per delivery.
fn send_to_all(
    shared: &Arc<Shared>,
    urls: &[String],
    topic: &'static str,
    body: &Arc<Vec<u8>>,
    headers: &[(&'static str, String)],
    shopify_webhook_id: bool,
) {
    for url in urls {
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
                topic,
                body: body.clone(),
                headers: headers.to_vec(),
                shopify_webhook_id,
                delay: plan.delay,
            };
            tokio::spawn(delivery.run());
        }
    }
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
        let hooks = &shared.webhooks;
        let headers = vec![
            ("X-Shopify-Topic", event.topic.to_owned()),
            ("X-Shopify-Hmac-Sha256", shopify_hmac(&hooks.secret, &body)),
            ("X-Shopify-Shop-Domain", hooks.shop_domain.clone()),
            ("X-Shopify-API-Version", WEBHOOK_API_VERSION.to_owned()),
            ("X-Shopify-Event-Id", event_id),
            (
                "X-Shopify-Triggered-At",
                clock::rfc3339_millis(clock::now_millis()),
            ),
        ];
        send_to_all(shared, &hooks.urls, event.topic, &body, &headers, true);
    }
    ids
}

struct Delivery {
    shared: Arc<Shared>,
    url: String,
    topic: &'static str,
    body: Arc<Vec<u8>>,
    headers: Vec<(&'static str, String)>,
    shopify_webhook_id: bool,
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
            let mut request = self
                .shared
                .webhooks
                .client
                .post(&self.url)
                .header("Content-Type", "application/json");
            for (name, value) in &self.headers {
                request = request.header(*name, value);
            }
            if self.shopify_webhook_id {
                request = request.header("X-Shopify-Webhook-Id", &webhook_id);
            }
            let sent = request.body(self.body.as_ref().clone()).send().await;
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
        tracing::warn!(url = %self.url, topic = self.topic, "webhook given up");
        self.shared.stats.webhooks(|w| w.failed += 1);
    }
}
