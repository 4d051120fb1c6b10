//! `POST /webhooks/tiktok` on any worker, for any shop: TikTok's `ORDER_STATUS_CHANGE`
//! notifications, for the hold on units sold on TikTok that Shopify does not know yet
//! (sync-rules.md §7). The shops are found by the notification's `shop_id` (TikTok's shop
//! id, which each shop's owner reads from TikTok's authorized shops when it takes the shop),
//! the `Authorization` signature verified with each shop's TikTok app key and secret, and the
//! order marked for the shop in the same transaction as the notification's id. Then 200: the
//! owner takes the mark within its poll and reads the order into its hold book, as the
//! one-shop server does at once. A notification that could not be recorded is answered 503,
//! so that TikTok delivers it again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use stockbridge_adapters_postgres::{DirtyOrder, OrderMark, WebhookTarget};
use stockbridge_adapters_tiktok::webhook::{parse_notification, verify_webhook, OrderChange};
use stockbridge_domain::{OrderId, OrderStatus};

use super::Context;
use crate::engine::HoldBook;
use crate::serve::tiktok::{delivery_id, signature};

/// Whether `body` carries the signature of `target`'s TikTok app: its `[tiktok] app_key`
/// (in its stored settings) and its sealed `tiktok.app_secret`.
fn signed_for(target: &WebhookTarget, body: &[u8], signature: &str) -> bool {
    let Some(secret) = target
        .secrets
        .get("tiktok.app_secret")
        .filter(|s| !s.expose().trim().is_empty())
    else {
        return false;
    };
    let app_key = target
        .settings
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("tiktok")?.get("app_key")?.as_str().map(str::to_owned));
    app_key.is_some_and(|key| verify_webhook(&key, secret.expose(), body, signature))
}

/// The handler.
pub async fn receive(
    State(context): State<Arc<Context>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let metrics = &context.metrics;
    let notification = match parse_notification(&body) {
        Ok(n) => n,
        Err(e) => {
            metrics.tiktok_webhook("malformed");
            tracing::warn!(error = %e, "TikTok webhook body unreadable");
            return (StatusCode::BAD_REQUEST, "unreadable body\n");
        }
    };
    let Some(tiktok_shop) = notification.shop_id.clone() else {
        metrics.tiktok_webhook("malformed");
        tracing::warn!("TikTok webhook without shop_id refused");
        return (
            StatusCode::BAD_REQUEST,
            "no shop_id: the fleet finds the shop by it\n",
        );
    };
    let targets = match context
        .fleet
        .tiktok_targets(&context.key, &tiktok_shop)
        .await
    {
        Ok(targets) => targets,
        Err(e) => {
            metrics.tiktok_webhook("unavailable");
            tracing::warn!(tiktok_shop = %tiktok_shop, error = %e, "cannot look the shop up; TikTok will deliver again");
            return (StatusCode::SERVICE_UNAVAILABLE, "try again\n");
        }
    };
    if targets.is_empty() {
        metrics.tiktok_webhook("unknown_shop");
        tracing::warn!(tiktok_shop = %tiktok_shop, "TikTok webhook for a shop id no shop of the fleet has (yet) refused");
        return (
            StatusCode::FORBIDDEN,
            "no shop of the fleet has this TikTok shop_id (a shop's owner reads its id when it takes the shop)\n",
        );
    }
    let signature = signature(&headers);
    let verified: Vec<&WebhookTarget> = targets
        .iter()
        .filter(|t| signed_for(t, &body, signature))
        .collect();
    if verified.is_empty() {
        metrics.tiktok_webhook("signature");
        tracing::warn!(tiktok_shop = %tiktok_shop, reason = "bad signature", "TikTok webhook refused");
        return (StatusCode::UNAUTHORIZED, "invalid signature\n");
    }
    let Some(order) = &notification.order else {
        metrics.tiktok_webhook("accepted");
        return (StatusCode::OK, "ignored\n");
    };
    let ids = [delivery_id(&notification)];
    let mark = OrderMark {
        ids: &ids,
        order_id: order.order_id.as_str(),
        status: order.status.as_str(),
        update_time: order.update_time,
    };
    super::ingress::record_each(
        verified.iter().map(|t| t.shop_id).collect(),
        |shop_id| context.fleet.mark_order(shop_id, &mark, SystemTime::now()),
        |outcome| metrics.tiktok_webhook(outcome),
        "TikTok",
    )
    .await
}

/// Hands the orders taken from the marks to the hold books of the shops held. A shop whose
/// engine is being built gets none: its start-up reconciliation reads the TikTok orders of
/// the whole hold period, these among them.
pub fn hand_over(context: &Context, orders: Vec<DirtyOrder>) {
    for (shop_id, holds, orders) in by_hold_book(context, orders, |o| o.shop_id, "TikTok orders") {
        for order in orders {
            let Ok(order_id) = OrderId::new(&order.order_id) else {
                tracing::warn!(shop_id, order = %order.order_id, "a marked TikTok order id is not one; the next reconciliation reads the shop's orders");
                continue;
            };
            crate::serve::tiktok::apply(
                holds.clone(),
                OrderChange {
                    order_id,
                    status: OrderStatus::parse(&order.status),
                    update_time: order.update_time,
                },
            );
        }
    }
}

/// `marks` grouped by their shop (`shop_of`), with the hold book of each shop held. Marks of
/// a shop whose engine is being built, or that has no hold, are dropped (`what` names them in
/// the log): its start-up reconciliation reads the TikTok orders of the whole hold period and
/// looks for their Shopify copies.
pub(super) fn by_hold_book<T>(
    context: &Context,
    marks: Vec<T>,
    shop_of: impl Fn(&T) -> i64,
    what: &'static str,
) -> Vec<(i64, Arc<HoldBook>, Vec<T>)> {
    if marks.is_empty() {
        return Vec::new();
    }
    let mut by_shop: BTreeMap<i64, Vec<T>> = BTreeMap::new();
    for mark in marks {
        by_shop.entry(shop_of(&mark)).or_default().push(mark);
    }
    let shops = context.shops();
    by_shop
        .into_iter()
        .filter_map(|(shop_id, marks)| {
            let Some(holds) = shops.get(&shop_id).and_then(|shop| shop.holds()) else {
                tracing::debug!(
                    shop_id,
                    what,
                    "marks for a shop whose engine is starting (or has no hold): its reconciliation reads them"
                );
                return None;
            };
            Some((shop_id, holds, marks))
        })
        .collect()
}
