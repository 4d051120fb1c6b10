//! `POST /webhooks/shopify`: verify, refuse, deduplicate, enqueue, answer 200 at once. The
//! work happens in the pipeline afterwards; a webhook is a trigger, never the truth.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use stockbridge_adapters_shopify::{parse_webhook, verify_webhook, EventKind, WebhookHeaders};
use stockbridge_ports::{Secret, StateStore};
use tokio::sync::mpsc;

use crate::engine::{Change, Hint, Metrics};

/// What the webhook handler needs.
pub struct WebhookState {
    /// The signing secret.
    pub secret: Secret,
    /// The configured shop; other shops are refused.
    pub shop_domain: String,
    /// Where processed ids are remembered.
    pub store: Arc<dyn StateStore>,
    /// The pipeline's queue.
    pub changes: mpsc::UnboundedSender<Change>,
    /// Counters.
    pub metrics: Arc<Metrics>,
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Whether this delivery was seen before, by webhook id or by event id and topic. Both ids
/// are remembered in one store transaction.
async fn seen_before(store: &dyn StateStore, h: &WebhookHeaders) -> bool {
    let mut ids = vec![format!("webhook:{}", h.webhook_id)];
    if let Some(event) = &h.event_id {
        ids.push(format!("event:{}:{event}", h.topic));
    }
    match store.remember_delivery(&ids, SystemTime::now()).await {
        Ok(new) => !new,
        Err(e) => {
            // Processing twice is harmless (webhooks are triggers); dropping one is not.
            tracing::warn!(webhook_id = %h.webhook_id, error = %e, "could not remember a webhook; processing it");
            false
        }
    }
}

/// The handler. It takes the body's rejection too, so that a delivery over the body limit is
/// still counted as received (the layer that answers 413 counts it as refused, too large).
pub async fn receive(
    State(state): State<Arc<WebhookState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> (StatusCode, &'static str) {
    Metrics::inc(&state.metrics.webhooks_received);
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            tracing::warn!(reason = "too large", "webhook refused");
            return (StatusCode::PAYLOAD_TOO_LARGE, "body too large\n");
        }
        Err(rejection) => {
            Metrics::inc(&state.metrics.rejected_malformed);
            tracing::warn!(error = %rejection, "webhook body unreadable");
            return (rejection.status(), "unreadable body\n");
        }
    };
    let hmac =
        header(&headers, WebhookHeaders::HMAC).or_else(|| header(&headers, "Shopify-Hmac-Sha256"));
    let Some(hmac) = hmac else {
        Metrics::inc(&state.metrics.rejected_signature);
        tracing::warn!(reason = "missing signature", "webhook refused");
        return (StatusCode::UNAUTHORIZED, "missing X-Shopify-Hmac-Sha256\n");
    };
    if verify_webhook(&state.secret, &body, &hmac).is_err() {
        Metrics::inc(&state.metrics.rejected_signature);
        tracing::warn!(reason = "bad signature", "webhook refused");
        return (StatusCode::UNAUTHORIZED, "invalid signature\n");
    }
    let parsed = WebhookHeaders::from_lookup(|name| header(&headers, name));
    let Ok(h) = parsed else {
        Metrics::inc(&state.metrics.rejected_malformed);
        return (
            StatusCode::BAD_REQUEST,
            "missing X-Shopify-Topic, X-Shopify-Shop-Domain or X-Shopify-Webhook-Id\n",
        );
    };
    if !h.shop_domain.eq_ignore_ascii_case(&state.shop_domain) {
        Metrics::inc(&state.metrics.rejected_shop);
        tracing::warn!(shop = %h.shop_domain, "webhook from another shop refused");
        return (StatusCode::FORBIDDEN, "this server syncs another shop\n");
    }
    let event = match parse_webhook(&h, &body) {
        Ok(event) => event,
        Err(e) => {
            Metrics::inc(&state.metrics.rejected_malformed);
            tracing::warn!(topic = %h.topic, error = %e, "webhook body unreadable");
            return (StatusCode::BAD_REQUEST, "unreadable body\n");
        }
    };
    if seen_before(state.store.as_ref(), &h).await {
        Metrics::inc(&state.metrics.webhooks_duplicate);
        tracing::debug!(topic = %h.topic, webhook_id = %h.webhook_id, "duplicate webhook ignored");
        return (StatusCode::OK, "duplicate\n");
    }
    let received = tokio::time::Instant::now();
    let changed_at = h
        .triggered_at
        .as_deref()
        .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
        .filter(|t| *t <= SystemTime::now())
        .unwrap_or_else(SystemTime::now);
    let Some(change) = change_of(event.kind, &h.topic, changed_at, received) else {
        return (StatusCode::OK, "ignored topic\n");
    };
    tracing::debug!(topic = %h.topic, webhook_id = %h.webhook_id, "webhook accepted");
    let _ = state.changes.send(change);
    (StatusCode::OK, "ok\n")
}

/// What the pipeline is told of an event: the items to re-read (with the number the webhook
/// carries, as a hint that orders the re-read), a reconciliation, or nothing.
fn change_of(
    kind: EventKind,
    topic: &str,
    changed_at: SystemTime,
    received: tokio::time::Instant,
) -> Option<Change> {
    Some(match kind {
        EventKind::InventoryLevelUpdated {
            inventory_item_id,
            location_id,
            available,
        } => Change::Items {
            items: vec![inventory_item_id],
            // Orders the re-read only: the number written is read from Shopify.
            hints: available
                .map(|available| Hint {
                    item: inventory_item_id,
                    location: location_id,
                    available,
                })
                .into_iter()
                .collect(),
            topic: topic.to_owned(),
            changed_at,
            received,
        },
        EventKind::InventoryLevelConnected {
            inventory_item_id, ..
        }
        | EventKind::InventoryLevelDisconnected {
            inventory_item_id, ..
        }
        | EventKind::InventoryItemUpdated {
            inventory_item_id, ..
        }
        | EventKind::InventoryItemDeleted { inventory_item_id } => Change::Items {
            items: vec![inventory_item_id],
            hints: Vec::new(),
            topic: topic.to_owned(),
            changed_at,
            received,
        },
        EventKind::ProductUpdated { inventory_item_ids } => Change::Items {
            items: inventory_item_ids,
            hints: Vec::new(),
            topic: topic.to_owned(),
            changed_at,
            received,
        },
        EventKind::LocationChanged { .. } => Change::Reconcile {
            reason: topic.to_owned(),
        },
        EventKind::Other(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use stockbridge_ports::{MockStateStore, StoreError};

    use super::*;

    fn headers(event: Option<&str>) -> WebhookHeaders {
        let mut pairs = vec![
            (WebhookHeaders::TOPIC, "inventory_levels/update"),
            (WebhookHeaders::SHOP_DOMAIN, "shop.myshopify.com"),
            (WebhookHeaders::WEBHOOK_ID, "w-1"),
        ];
        pairs.extend(event.map(|e| (WebhookHeaders::EVENT_ID, e)));
        WebhookHeaders::from_pairs(pairs).unwrap()
    }

    /// A store that expects exactly one `remember_delivery` call with `ids`, and no other
    /// call (a mock panics on any call it does not expect).
    fn store_expecting(ids: &'static [&'static str], answer: bool) -> MockStateStore {
        let mut store = MockStateStore::new();
        store
            .expect_remember_delivery()
            .withf(move |given, _| given.iter().map(String::as_str).eq(ids.iter().copied()))
            .times(1)
            .returning(move |_, _| Ok(answer));
        store
    }

    #[tokio::test]
    async fn a_delivery_remembers_its_webhook_and_event_ids_in_one_store_call() {
        let ids = &["webhook:w-1", "event:inventory_levels/update:e-1"];
        let store = store_expecting(ids, true);
        assert!(!seen_before(&store, &headers(Some("e-1"))).await);
        let store = store_expecting(ids, false);
        assert!(seen_before(&store, &headers(Some("e-1"))).await);
    }

    #[tokio::test]
    async fn a_delivery_without_an_event_id_remembers_its_webhook_id_alone() {
        let store = store_expecting(&["webhook:w-1"], true);
        assert!(!seen_before(&store, &headers(None)).await);
    }

    #[tokio::test]
    async fn a_delivery_the_store_cannot_remember_is_processed_all_the_same() {
        let mut store = MockStateStore::new();
        store.expect_remember_delivery().returning(|_, _| {
            Err(StoreError::Unavailable {
                message: "locked".into(),
            })
        });
        assert!(!seen_before(&store, &headers(Some("e-1"))).await);
    }

    fn hints_of(kind: EventKind) -> Vec<Hint> {
        let change = change_of(
            kind,
            "inventory_levels/update",
            SystemTime::now(),
            tokio::time::Instant::now(),
        );
        match change {
            Some(Change::Items { hints, .. }) => hints,
            other => panic!("items expected: {other:?}"),
        }
    }

    #[test]
    fn a_level_update_carries_its_number_as_a_hint_for_its_item_and_location() {
        let item = stockbridge_domain::InventoryItemId::new(42).unwrap();
        let location = stockbridge_domain::LocationId::new(7).unwrap();
        let hints = hints_of(EventKind::InventoryLevelUpdated {
            inventory_item_id: item,
            location_id: location,
            available: Some(-3),
        });
        assert_eq!(
            hints,
            [Hint {
                item,
                location,
                available: -3
            }]
        );
        let untracked = hints_of(EventKind::InventoryLevelUpdated {
            inventory_item_id: item,
            location_id: location,
            available: None,
        });
        assert!(
            untracked.is_empty(),
            "an untracked item's update hints nothing"
        );
        let connected = hints_of(EventKind::InventoryLevelConnected {
            inventory_item_id: item,
            location_id: location,
            available: Some(5),
        });
        assert!(connected.is_empty(), "only updates hint");
    }
}
