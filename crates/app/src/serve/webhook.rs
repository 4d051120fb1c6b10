//! `POST /webhooks/shopify`: verify, refuse, deduplicate, enqueue, answer 200 at once. The
//! work happens in the pipeline afterwards; a webhook is a trigger, never the truth.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use stockbridge_adapters_shopify::webhook::order_marks;
use stockbridge_adapters_shopify::{
    parse_webhook, verify_webhook, EventKind, WebhookError, WebhookHeaders,
};
use stockbridge_domain::ShopifyOrderMarks;
use stockbridge_ports::{Secret, StateStore};
use tokio::sync::mpsc;

use crate::engine::{Change, Hint, HoldBook, Metrics};

/// How old a delivery may be, by `X-Shopify-Triggered-At`, and still be acted on: Shopify
/// retries a delivery for 4 hours (8 attempts), plus an hour for clocks and queues. An older
/// one is a replay: it is answered 200 (so nothing retries it) and ignored; the scheduled
/// reconciliation covers whatever it was about.
pub const REPLAY_HORIZON: Duration = Duration::from_secs(5 * 3600);

/// At most `limit` deliveries a minute are remembered for deduplication, so that the
/// processed-webhooks table grows by a bounded amount a minute (each delivery adds two ids
/// of at most 128 bytes). Deliveries past the limit are still processed: a webhook is a
/// trigger, so processing one twice costs a re-read, never a wrong number.
pub struct RememberBudget {
    limit: u32,
    window: Mutex<(tokio::time::Instant, u32)>,
}

impl RememberBudget {
    /// A budget of `limit` a minute.
    pub fn per_minute(limit: u32) -> RememberBudget {
        RememberBudget {
            limit,
            window: Mutex::new((tokio::time::Instant::now(), 0)),
        }
    }

    /// Takes one from this minute's budget; whether there was one.
    fn take(&self) -> bool {
        let mut window = self
            .window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = tokio::time::Instant::now();
        if now.duration_since(window.0) >= Duration::from_secs(60) {
            *window = (now, 0);
        }
        if window.1 >= self.limit {
            if window.1 == self.limit {
                tracing::warn!(
                    limit = self.limit,
                    "more webhooks this minute than server.webhook_ids_per_minute: the rest are processed without being remembered"
                );
                window.1 += 1;
            }
            return false;
        }
        window.1 += 1;
        true
    }
}

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
    /// The ledger of TikTok orders in flight, which `orders/create` may end a hold in.
    pub holds: Option<Arc<HoldBook>>,
    /// How many deliveries a minute are remembered.
    pub remember: RememberBudget,
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    // `HeaderMap::get` matches names without regard to case, as the adapter asks.
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Whether this delivery was seen before, by webhook id or by event id and topic. Both ids
/// are remembered in one store transaction.
async fn seen_before(store: &dyn StateStore, budget: &RememberBudget, h: &WebhookHeaders) -> bool {
    if !budget.take() {
        return false;
    }
    match store
        .remember_delivery(&h.delivery_ids(), SystemTime::now())
        .await
    {
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
    let Some(hmac) = WebhookHeaders::signature_from_lookup(|name| header(&headers, name)) else {
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
    let h = match parsed {
        Ok(h) => h,
        Err(e) => {
            Metrics::inc(&state.metrics.rejected_malformed);
            tracing::warn!(error = %e, "webhook refused");
            let answer = match e {
                WebhookError::HeaderTooLong { .. } => {
                    "an X-Shopify-* id header is longer than 128 bytes\n"
                }
                _ => "missing X-Shopify-Topic, X-Shopify-Shop-Domain or X-Shopify-Webhook-Id\n",
            };
            return (StatusCode::BAD_REQUEST, answer);
        }
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
            let answer = match e {
                WebhookError::WrongResource { .. } => "the body is not the topic's resource\n",
                _ => "unreadable body\n",
            };
            return (StatusCode::BAD_REQUEST, answer);
        }
    };
    if is_replay(&h) {
        Metrics::inc(&state.metrics.webhooks_duplicate);
        return (StatusCode::OK, "too old\n");
    }
    if seen_before(state.store.as_ref(), &state.remember, &h).await {
        Metrics::inc(&state.metrics.webhooks_duplicate);
        tracing::debug!(topic = %h.topic, webhook_id = %h.webhook_id, "duplicate webhook ignored");
        return (StatusCode::OK, "duplicate\n");
    }
    if h.topic == "orders/create" {
        return order_created(&state, &body).await;
    }
    let received = tokio::time::Instant::now();
    let changed_at = h
        .triggered_at_time()
        .filter(|t| *t <= SystemTime::now())
        .unwrap_or_else(SystemTime::now);
    let Some(change) = change_of(event.kind, &h.topic, changed_at, received) else {
        return (StatusCode::OK, "ignored topic\n");
    };
    tracing::debug!(topic = %h.topic, webhook_id = %h.webhook_id, "webhook accepted");
    let _ = state.changes.send(change);
    (StatusCode::OK, "ok\n")
}

/// `orders/create`: when the new order is the Shopify copy of a held TikTok order, the hold
/// ends for levels read from now on.
async fn order_created(state: &WebhookState, body: &[u8]) -> (StatusCode, &'static str) {
    let Some(holds) = &state.holds else {
        return (StatusCode::OK, "ignored topic\n");
    };
    let marks = match order_marks(body) {
        Ok(m) => m,
        Err(e) => {
            Metrics::inc(&state.metrics.rejected_malformed);
            tracing::warn!(error = %e, "orders/create body unreadable");
            return (StatusCode::BAD_REQUEST, "unreadable body\n");
        }
    };
    end_holds(holds, &marks, SystemTime::now()).await;
    (StatusCode::OK, "ok\n")
}

/// Ends the hold of the held TikTok order `marks` (a new Shopify order, seen at `seen`) is
/// the copy of, if any, for levels read from `seen` on. Shared with the fleet's owner, which
/// takes the order from the worker that answered its `orders/create`.
pub(crate) async fn end_holds(holds: &HoldBook, marks: &ShopifyOrderMarks, seen: SystemTime) {
    if let Err(e) = holds
        .on_shopify_order_seen(std::slice::from_ref(marks), seen)
        .await
    {
        // The hold stays (never oversell); the next reconciliation finds the copy again.
        tracing::warn!(error = %e, "could not record the Shopify copy of a TikTok order");
    }
}

/// Whether a delivery is a replay: triggered (`X-Shopify-Triggered-At`) longer ago than
/// [`REPLAY_HORIZON`]. Logged here; the caller answers it 200 `too old` and counts it with
/// the duplicates.
pub(crate) fn is_replay(h: &WebhookHeaders) -> bool {
    match age(h.triggered_at_time()) {
        Some(age) if age > REPLAY_HORIZON => {
            tracing::warn!(topic = %h.topic, webhook_id = %h.webhook_id, age_s = age.as_secs(), "webhook triggered longer ago than Shopify retries: ignored as a replay");
            true
        }
        _ => false,
    }
}

/// How long ago `X-Shopify-Triggered-At` was, when it is a time in the past.
fn age(triggered_at: Option<SystemTime>) -> Option<Duration> {
    SystemTime::now().duration_since(triggered_at?).ok()
}

/// What the pipeline is told of an event: the items it names (with the number and time an
/// `inventory_levels/update` carries, which the pipeline applies when they are provably the
/// newest and otherwise uses to order the re-read), a reconciliation, or nothing.
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
            updated_at,
        } => Change::Items {
            items: vec![inventory_item_id],
            hints: vec![Hint {
                item: inventory_item_id,
                location: location_id,
                available,
                updated_at,
            }],
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
        assert!(!seen_before(&store, &budget(), &headers(Some("e-1"))).await);
        let store = store_expecting(ids, false);
        assert!(seen_before(&store, &budget(), &headers(Some("e-1"))).await);
    }

    #[tokio::test]
    async fn a_delivery_without_an_event_id_remembers_its_webhook_id_alone() {
        let store = store_expecting(&["webhook:w-1"], true);
        assert!(!seen_before(&store, &budget(), &headers(None)).await);
    }

    #[tokio::test]
    async fn a_delivery_the_store_cannot_remember_is_processed_all_the_same() {
        let mut store = MockStateStore::new();
        store.expect_remember_delivery().returning(|_, _| {
            Err(StoreError::Unavailable {
                message: "locked".into(),
            })
        });
        assert!(!seen_before(&store, &budget(), &headers(Some("e-1"))).await);
    }

    fn budget() -> RememberBudget {
        RememberBudget::per_minute(100)
    }

    #[tokio::test(start_paused = true)]
    async fn past_the_budget_a_minute_deliveries_are_processed_without_being_remembered() {
        let budget = RememberBudget::per_minute(2);
        // Two deliveries are remembered; the store is not asked about a third (a mock
        // panics on a call past the expected ones).
        let mut store = MockStateStore::new();
        store
            .expect_remember_delivery()
            .times(2)
            .returning(|_, _| Ok(true));
        assert!(!seen_before(&store, &budget, &headers(None)).await);
        assert!(!seen_before(&store, &budget, &headers(None)).await);
        assert!(
            !seen_before(&store, &budget, &headers(None)).await,
            "processed, not remembered"
        );
        tokio::time::advance(Duration::from_secs(60)).await;
        let again = store_expecting(&["webhook:w-1"], false);
        assert!(
            seen_before(&again, &budget, &headers(None)).await,
            "a new minute remembers again"
        );
    }

    #[test]
    fn the_age_of_a_delivery_is_read_from_its_trigger_time() {
        assert_eq!(age(None), None);
        let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_577_836_800);
        assert!(age(Some(old)).is_some_and(|a| a > REPLAY_HORIZON));
        let future = SystemTime::now() + Duration::from_secs(600);
        assert_eq!(age(Some(future)), None, "a time ahead is no age");
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
    fn a_level_update_carries_its_number_and_time_for_its_item_and_location() {
        let item = stockbridge_domain::InventoryItemId::new(42).unwrap();
        let location = stockbridge_domain::LocationId::new(7).unwrap();
        let updated_at = stockbridge_domain::UpdatedAt::from_unix_seconds(1_764_000_000);
        let hints = hints_of(EventKind::InventoryLevelUpdated {
            inventory_item_id: item,
            location_id: location,
            available: Some(-3),
            updated_at,
        });
        assert_eq!(
            hints,
            [Hint {
                item,
                location,
                available: Some(-3),
                updated_at,
            }]
        );
        let untracked = hints_of(EventKind::InventoryLevelUpdated {
            inventory_item_id: item,
            location_id: location,
            available: None,
            updated_at,
        });
        assert_eq!(
            untracked[0].available, None,
            "an untracked item's update carries no number (the pipeline re-reads it)"
        );
        let connected = hints_of(EventKind::InventoryLevelConnected {
            inventory_item_id: item,
            location_id: location,
            available: Some(5),
        });
        assert!(connected.is_empty(), "only updates hint");
    }
}
