//! The headers of a delivery. Names are matched without regard to case (HTTP/2 lowercases
//! them), and the `X-`-less names of Shopify's newer event deliveries are accepted too.

use std::time::SystemTime;

use super::WebhookError;

/// A header through `lookup`, by its canonical name and then by the name without `X-`
/// (Shopify's newer event deliveries), trimmed; `None` when absent or blank.
fn find<F>(lookup: &F, name: &'static str) -> Option<String>
where
    F: Fn(&str) -> Option<String>,
{
    lookup(name)
        .or_else(|| lookup(&name[2..]))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// What a delivery's headers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookHeaders {
    /// `X-Shopify-Topic`, e.g. `inventory_levels/update`.
    pub topic: String,
    /// `X-Shopify-Shop-Domain`.
    pub shop_domain: String,
    /// `X-Shopify-Webhook-Id`: unique per delivery.
    pub webhook_id: String,
    /// `X-Shopify-Event-Id`: shared by the deliveries of one merchant action.
    pub event_id: Option<String>,
    /// `X-Shopify-Triggered-At`, as sent.
    pub triggered_at: Option<String>,
    /// `X-Shopify-API-Version`: the version the body is written in.
    pub api_version: Option<String>,
    /// `X-Shopify-Hmac-Sha256`, for [`super::verify_webhook`].
    pub hmac: Option<String>,
}

impl WebhookHeaders {
    /// The topic header.
    pub const TOPIC: &'static str = "X-Shopify-Topic";
    /// The signature header.
    pub const HMAC: &'static str = "X-Shopify-Hmac-Sha256";
    /// The shop domain header.
    pub const SHOP_DOMAIN: &'static str = "X-Shopify-Shop-Domain";
    /// The delivery id header.
    pub const WEBHOOK_ID: &'static str = "X-Shopify-Webhook-Id";
    /// The event id header.
    pub const EVENT_ID: &'static str = "X-Shopify-Event-Id";
    /// The trigger time header.
    pub const TRIGGERED_AT: &'static str = "X-Shopify-Triggered-At";
    /// The payload version header.
    pub const API_VERSION: &'static str = "X-Shopify-API-Version";

    /// The longest topic, shop domain, webhook id or event id accepted, in bytes. Shopify's
    /// are far shorter (a webhook id is a UUID); a longer one is refused, so that a replayed
    /// body cannot fill the processed-webhooks table with huge ids.
    pub const MAX_LEN: usize = 128;

    /// Reads the headers through `lookup`, which is asked for each header by its canonical
    /// name and then by the name without `X-`; it must match names without regard to case
    /// (as `http::HeaderMap::get` does). Topic, shop domain and webhook id are required;
    /// those and the event id may be at most [`WebhookHeaders::MAX_LEN`] bytes long.
    pub fn from_lookup<F>(lookup: F) -> Result<WebhookHeaders, WebhookError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let get = |name: &'static str| find(&lookup, name);
        let bounded = |name: &'static str| match get(name) {
            Some(v) if v.len() > Self::MAX_LEN => Err(WebhookError::HeaderTooLong {
                header: name,
                len: v.len(),
            }),
            v => Ok(v),
        };
        let required = |name: &'static str| bounded(name)?.ok_or(WebhookError::MissingHeader(name));
        Ok(WebhookHeaders {
            topic: required(Self::TOPIC)?,
            shop_domain: required(Self::SHOP_DOMAIN)?,
            webhook_id: required(Self::WEBHOOK_ID)?,
            event_id: bounded(Self::EVENT_ID)?,
            triggered_at: get(Self::TRIGGERED_AT),
            api_version: get(Self::API_VERSION),
            hmac: get(Self::HMAC),
        })
    }

    /// The signature header alone (`X-Shopify-Hmac-Sha256`, or its name without `X-`),
    /// through a `lookup` like [`WebhookHeaders::from_lookup`]'s: the signature is checked
    /// before anything else of a delivery is read.
    pub fn signature_from_lookup<F>(lookup: F) -> Option<String>
    where
        F: Fn(&str) -> Option<String>,
    {
        find(&lookup, Self::HMAC)
    }

    /// The ids under which this delivery is remembered to skip duplicates: its webhook id
    /// (unique per delivery), and its event id with the topic (shared by the deliveries of
    /// one merchant action to one topic) when it has one. Shopify's pages disagree on which
    /// to use, so a delivery is a duplicate when either was seen.
    pub fn delivery_ids(&self) -> Vec<String> {
        let mut ids = vec![format!("webhook:{}", self.webhook_id)];
        if let Some(event) = &self.event_id {
            ids.push(format!("event:{}:{event}", self.topic));
        }
        ids
    }

    /// `X-Shopify-Triggered-At` as an instant, when it reads as an RFC 3339 time.
    pub fn triggered_at_time(&self) -> Option<SystemTime> {
        crate::time::instant(self.triggered_at.as_deref()?)
    }

    /// Reads the headers from name–value pairs, matching names without regard to case.
    pub fn from_pairs<'a, I>(pairs: I) -> Result<WebhookHeaders, WebhookError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
        Self::from_lookup(|name| {
            pairs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| (*v).to_owned())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_headers_whatever_their_case() {
        let headers = WebhookHeaders::from_pairs([
            ("x-shopify-topic", "inventory_levels/update"),
            ("X-SHOPIFY-SHOP-DOMAIN", "demo.myshopify.com"),
            ("X-Shopify-Webhook-Id", "w-1"),
            ("x-shopify-event-id", "e-1"),
            ("x-shopify-triggered-at", "2025-06-01T12:00:00Z"),
            ("x-shopify-api-version", "2025-10"),
            ("x-shopify-hmac-sha256", "abc="),
        ])
        .unwrap();
        assert_eq!(headers.topic, "inventory_levels/update");
        assert_eq!(headers.shop_domain, "demo.myshopify.com");
        assert_eq!(headers.webhook_id, "w-1");
        assert_eq!(headers.event_id.as_deref(), Some("e-1"));
        assert_eq!(
            headers.triggered_at.as_deref(),
            Some("2025-06-01T12:00:00Z")
        );
        assert_eq!(headers.api_version.as_deref(), Some("2025-10"));
        assert_eq!(headers.hmac.as_deref(), Some("abc="));
    }

    #[test]
    fn accepts_the_names_of_event_deliveries_without_x() {
        let headers = WebhookHeaders::from_pairs([
            ("shopify-topic", "locations/update"),
            ("shopify-shop-domain", "demo.myshopify.com"),
            ("shopify-webhook-id", "w-2"),
        ])
        .unwrap();
        assert_eq!(headers.topic, "locations/update");
        assert_eq!(headers.event_id, None);
    }

    #[test]
    fn the_signature_is_read_alone_under_either_name() {
        let pairs = [("shopify-hmac-sha256", " abc= ")];
        let lookup = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(
            WebhookHeaders::signature_from_lookup(lookup).as_deref(),
            Some("abc=")
        );
        assert_eq!(WebhookHeaders::signature_from_lookup(|_| None), None);
    }

    #[test]
    fn a_delivery_is_remembered_by_webhook_id_and_by_topic_and_event_id() {
        let mut headers = WebhookHeaders::from_pairs([
            ("x-shopify-topic", "inventory_levels/update"),
            ("x-shopify-shop-domain", "demo.myshopify.com"),
            ("x-shopify-webhook-id", "w-1"),
            ("x-shopify-event-id", "e-1"),
        ])
        .unwrap();
        assert_eq!(
            headers.delivery_ids(),
            ["webhook:w-1", "event:inventory_levels/update:e-1"]
        );
        headers.event_id = None;
        assert_eq!(headers.delivery_ids(), ["webhook:w-1"]);
    }

    #[test]
    fn the_trigger_time_reads_with_its_fraction_of_a_second() {
        let mut headers = WebhookHeaders::from_pairs([
            ("x-shopify-topic", "inventory_levels/update"),
            ("x-shopify-shop-domain", "demo.myshopify.com"),
            ("x-shopify-webhook-id", "w-1"),
            ("x-shopify-triggered-at", "2025-06-01T12:00:00.250Z"),
        ])
        .unwrap();
        assert_eq!(
            headers.triggered_at_time(),
            Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_748_779_200_250))
        );
        headers.triggered_at = Some("not a time".into());
        assert_eq!(headers.triggered_at_time(), None);
    }

    #[test]
    fn a_missing_required_header_is_named() {
        let err = WebhookHeaders::from_pairs([
            ("x-shopify-topic", "inventory_levels/update"),
            ("x-shopify-shop-domain", "demo.myshopify.com"),
        ])
        .unwrap_err();
        assert!(matches!(
            err,
            WebhookError::MissingHeader("X-Shopify-Webhook-Id")
        ));
    }
}
