//! `POST /webhooks/shopify` on any worker, for any shop: the shops of
//! `X-Shopify-Shop-Domain` are looked up (a domain selling in several TikTok shops has
//! several: the delivery goes to each), the signature verified with each shop's secret, and
//! the items it names marked dirty for the shop in the same transaction as the delivery's
//! ids. An `orders/create` is kept the same way, with when it was seen, for the owner to look
//! for the TikTok order it may be the copy of in its hold book (sync-rules.md §7). Then 200:
//! the owner takes the marks within its poll. A delivery that could not be recorded is
//! answered 503, so that Shopify delivers it again.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use stockbridge_adapters_postgres::{Delivery, LevelMark, ShopifyCopy, RECONCILE_ITEM};
use stockbridge_adapters_shopify::webhook::order_marks;
use stockbridge_adapters_shopify::{parse_webhook, verify_webhook, EventKind, WebhookHeaders};

use super::Context;

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The Shopify inventory item ids an event names ([`RECONCILE_ITEM`] for a full
/// reconciliation); empty for a topic that changes no stock.
pub fn items_of(kind: &EventKind) -> Vec<i64> {
    let id = |item: &stockbridge_domain::InventoryItemId| i64::try_from(item.get()).ok();
    match kind {
        EventKind::InventoryLevelUpdated {
            inventory_item_id, ..
        }
        | EventKind::InventoryLevelConnected {
            inventory_item_id, ..
        }
        | EventKind::InventoryLevelDisconnected {
            inventory_item_id, ..
        }
        | EventKind::InventoryItemUpdated {
            inventory_item_id, ..
        }
        | EventKind::InventoryItemDeleted { inventory_item_id } => {
            id(inventory_item_id).into_iter().collect()
        }
        EventKind::ProductUpdated { inventory_item_ids } => {
            inventory_item_ids.iter().filter_map(id).collect()
        }
        EventKind::LocationChanged { .. } => vec![RECONCILE_ITEM],
        EventKind::Other(_) => Vec::new(),
    }
}

/// What an `inventory_levels/update` says of its level, kept for the owner's trust rule
/// (`None` for every other topic, and for ids beyond PostgreSQL's integers).
pub fn level_of(kind: &EventKind) -> Option<LevelMark> {
    match kind {
        EventKind::InventoryLevelUpdated {
            inventory_item_id,
            location_id,
            available,
            updated_at,
        } => Some(LevelMark {
            item_id: i64::try_from(inventory_item_id.get()).ok()?,
            location_id: i64::try_from(location_id.get()).ok()?,
            available: *available,
            updated_at: updated_at.map(|t| t.unix_seconds()),
        }),
        _ => None,
    }
}

/// The handler.
pub async fn shopify(
    State(context): State<Arc<Context>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let metrics = &context.metrics;
    let hmac =
        header(&headers, WebhookHeaders::HMAC).or_else(|| header(&headers, "Shopify-Hmac-Sha256"));
    let Some(hmac) = hmac else {
        metrics.webhook("signature");
        return (StatusCode::UNAUTHORIZED, "missing X-Shopify-Hmac-Sha256\n");
    };
    let h = match WebhookHeaders::from_lookup(|name| header(&headers, name)) {
        Ok(h) => h,
        Err(e) => {
            metrics.webhook("malformed");
            tracing::warn!(error = %e, "webhook refused");
            return (
                StatusCode::BAD_REQUEST,
                "missing or too long X-Shopify-Topic, X-Shopify-Shop-Domain or X-Shopify-Webhook-Id\n",
            );
        }
    };
    let targets = match context
        .fleet
        .webhook_targets(&context.key, &h.shop_domain)
        .await
    {
        Ok(targets) => targets,
        Err(e) => {
            metrics.webhook("unavailable");
            tracing::warn!(shop = %h.shop_domain, error = %e, "cannot look the shop up; Shopify will deliver again");
            return (StatusCode::SERVICE_UNAVAILABLE, "try again\n");
        }
    };
    if targets.is_empty() {
        metrics.webhook("unknown_shop");
        tracing::warn!(shop = %h.shop_domain, "webhook for a shop the fleet does not hold refused");
        return (
            StatusCode::FORBIDDEN,
            "no shop of the fleet has this domain\n",
        );
    }
    let verified: Vec<_> = targets
        .iter()
        .filter(|t| {
            t.webhook_secret.as_ref().is_some_and(|s| {
                !s.expose().trim().is_empty() && verify_webhook(s, &body, &hmac).is_ok()
            })
        })
        .collect();
    if verified.is_empty() {
        metrics.webhook("signature");
        tracing::warn!(shop = %h.shop_domain, reason = "bad signature", "webhook refused");
        return (StatusCode::UNAUTHORIZED, "invalid signature\n");
    }
    let event = match parse_webhook(&h, &body) {
        Ok(event) => event,
        Err(e) => {
            metrics.webhook("malformed");
            tracing::warn!(topic = %h.topic, error = %e, "webhook body unreadable");
            return (StatusCode::BAD_REQUEST, "unreadable body\n");
        }
    };
    if crate::serve::webhook::is_replay(&h) {
        // As a one-shop server: answered 200 so that nothing retries it, and counted with
        // the duplicates; the scheduled reconciliation covers it.
        metrics.webhook("duplicate");
        return (StatusCode::OK, "too old\n");
    }
    let shops: Vec<i64> = verified.iter().map(|t| t.shop_id).collect();
    let ids = h.delivery_ids();
    if h.topic == "orders/create" {
        return order_created(&context, shops, &ids, &body).await;
    }
    let items = items_of(&event.kind);
    if items.is_empty() {
        metrics.webhook("accepted");
        return (StatusCode::OK, "ignored topic\n");
    }
    let changed_at = h
        .triggered_at_time()
        .filter(|t| *t <= SystemTime::now())
        .unwrap_or_else(SystemTime::now);
    let delivery = Delivery {
        ids: &ids,
        items: &items,
        topic: &h.topic,
        changed_at,
        level: level_of(&event.kind),
    };
    record_each(
        shops,
        |shop_id| {
            context
                .fleet
                .mark_dirty(shop_id, &delivery, SystemTime::now())
        },
        |outcome| metrics.webhook(outcome),
        "Shopify",
    )
    .await
}

/// `orders/create`: the new order's fields that may carry a TikTok order id are kept for each
/// shop with the time this worker saw it, for the owner's hold book.
async fn order_created(
    context: &Context,
    shops: Vec<i64>,
    ids: &[String],
    body: &[u8],
) -> (StatusCode, &'static str) {
    let metrics = &context.metrics;
    let marks = match order_marks(body) {
        Ok(marks) => marks,
        Err(e) => {
            metrics.webhook("malformed");
            tracing::warn!(error = %e, "orders/create body unreadable");
            return (StatusCode::BAD_REQUEST, "unreadable body\n");
        }
    };
    let seen = SystemTime::now();
    record_each(
        shops,
        |shop_id| context.fleet.mark_copy(shop_id, ids, &marks, seen),
        |outcome| metrics.webhook(outcome),
        "Shopify",
    )
    .await
}

/// Hands the new Shopify orders taken from the marks to the hold books of the shops held,
/// with the one-shop server's code: each ends the hold of the TikTok order it is the copy of
/// for levels read from when it was seen. A shop whose engine is being built (or that has no
/// hold) gets none: its start-up reconciliation looks for the copies of what it holds.
pub fn hand_over(context: &Context, copies: Vec<ShopifyCopy>) {
    let books = super::tiktok::by_hold_book(context, copies, |c| c.shop_id, "Shopify orders");
    for (_, holds, copies) in books {
        tokio::spawn(async move {
            for copy in copies {
                crate::serve::webhook::end_holds(&holds, &copy.marks, copy.seen_at).await;
            }
        });
    }
}

/// Records a verified delivery for each of its shops with `mark` (which says whether the
/// delivery was new there), counting the answer's `outcome`: 200 `ok` when it was new for any
/// shop, 200 `duplicate` when seen before by all, 503 when one could not be recorded (marks
/// already made for other shops stay; the redelivery is a duplicate there and marks this one).
pub(super) async fn record_each<F, Fut>(
    shops: Vec<i64>,
    mut mark: F,
    outcome: impl Fn(&'static str),
    platform: &str,
) -> (StatusCode, &'static str)
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = Result<bool, stockbridge_ports::StoreError>>,
{
    let mut fresh = false;
    for shop_id in shops {
        match mark(shop_id).await {
            Ok(new) => fresh |= new,
            Err(e) => {
                outcome("unavailable");
                tracing::warn!(shop_id, error = %e, "cannot record the {platform} webhook; {platform} will deliver again");
                return (StatusCode::SERVICE_UNAVAILABLE, "try again\n");
            }
        }
    }
    if fresh {
        outcome("accepted");
        (StatusCode::OK, "ok\n")
    } else {
        outcome("duplicate");
        (StatusCode::OK, "duplicate\n")
    }
}
