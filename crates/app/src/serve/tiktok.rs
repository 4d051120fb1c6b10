//! `POST /webhooks/tiktok`: TikTok Shop's `ORDER_STATUS_CHANGE` notifications, for the hold on
//! units sold on TikTok that Shopify does not know yet (sync-rules.md §7). Verified by the
//! `Authorization` signature (401 otherwise), deduplicated by `tts_notification_id`, answered
//! at once; the order is read and recorded afterwards.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use stockbridge_adapters_tiktok::webhook::{
    parse_notification, verify_webhook, Notification, OrderChange,
};
use stockbridge_ports::{Secret, StateStore};

use crate::engine::{HoldBook, Metrics};

/// What the TikTok webhook handler needs.
pub struct TikTokWebhookState {
    /// TikTok's app key and secret; without them every notification is refused.
    pub app: Option<(String, Secret)>,
    /// The ledger of orders in flight; `None` when `[orders]` is off.
    pub holds: Option<Arc<HoldBook>>,
    /// Where processed notification ids are remembered.
    pub store: Arc<dyn StateStore>,
    /// Counters.
    pub metrics: Arc<Metrics>,
}

/// The `Authorization` header of a TikTok webhook: its signature ("" when missing).
pub(crate) fn signature(headers: &HeaderMap) -> &str {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The id a notification is deduplicated by, among the shop's processed webhooks.
pub(crate) fn delivery_id(notification: &Notification) -> String {
    format!("tiktok:{}", notification.id)
}

/// Reads an order change into the hold book in the background: a known order takes the new
/// status, an unknown one is searched for (with the others named meanwhile).
pub(crate) fn apply(holds: Arc<HoldBook>, change: OrderChange) {
    tokio::spawn(async move {
        if let Err(e) = holds
            .on_tiktok_change(&change.order_id, change.status, change.update_time)
            .await
        {
            tracing::warn!(order = %change.order_id, error = %e, "could not read a TikTok order from its webhook; the next reconciliation reads it");
        }
    });
}

/// The handler.
pub async fn receive(
    State(state): State<Arc<TikTokWebhookState>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    Metrics::inc(&state.metrics.webhooks_received);
    let signature = signature(&headers);
    let verified = state
        .app
        .as_ref()
        .is_some_and(|(key, secret)| verify_webhook(key, secret.expose(), &body, signature));
    if !verified {
        Metrics::inc(&state.metrics.rejected_signature);
        tracing::warn!(reason = "bad signature", "TikTok webhook refused");
        return (StatusCode::UNAUTHORIZED, "invalid signature\n");
    }
    let notification = match parse_notification(&body) {
        Ok(n) => n,
        Err(e) => {
            Metrics::inc(&state.metrics.rejected_malformed);
            tracing::warn!(error = %e, "TikTok webhook body unreadable");
            return (StatusCode::BAD_REQUEST, "unreadable body\n");
        }
    };
    match state
        .store
        .remember_delivery(&[delivery_id(&notification)], SystemTime::now())
        .await
    {
        Ok(false) => {
            Metrics::inc(&state.metrics.webhooks_duplicate);
            return (StatusCode::OK, "duplicate\n");
        }
        Ok(true) => {}
        // Processing twice is harmless; dropping one is not.
        Err(e) => tracing::warn!(error = %e, "could not remember a TikTok webhook; processing it"),
    }
    let (Some(change), Some(holds)) = (notification.order, state.holds.clone()) else {
        return (StatusCode::OK, "ignored\n");
    };
    apply(holds, change);
    (StatusCode::OK, "ok\n")
}
