//! `POST /webhooks/tiktok`: TikTok Shop's `ORDER_STATUS_CHANGE` notifications, for the hold on
//! units sold on TikTok that Shopify does not know yet (sync-rules.md §7). Verified by the
//! `Authorization` signature (401 otherwise), deduplicated by `tts_notification_id`, answered
//! at once; the order is read and recorded afterwards.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use stockbridge_adapters_tiktok::webhook::{parse_notification, verify_webhook};
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

/// The handler.
pub async fn receive(
    State(state): State<Arc<TikTokWebhookState>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    Metrics::inc(&state.metrics.webhooks_received);
    let signature = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
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
    let key = format!("tiktok:{}", notification.id);
    match state
        .store
        .remember_delivery(&[key], SystemTime::now())
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
    tokio::spawn(async move {
        if let Err(e) = holds
            .on_tiktok_change(&change.order_id, change.status, change.update_time)
            .await
        {
            tracing::warn!(order = %change.order_id, error = %e, "could not read a TikTok order from its webhook; the next reconciliation reads it");
        }
    });
    (StatusCode::OK, "ok\n")
}
