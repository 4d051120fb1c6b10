//! TikTok Shop webhooks (reference/tiktok-api.md §10): the `Authorization` signature and the
//! `ORDER_STATUS_CHANGE` notification.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use stockbridge_domain::{IdError, OrderId, OrderStatus};

/// Whether `authorization` is the lowercase hex HMAC-SHA256, keyed with `app_secret`, of
/// `app_key` followed by the raw body: TikTok's webhook signature. Compared in constant time.
pub fn verify_webhook(app_key: &str, app_secret: &str, body: &[u8], authorization: &str) -> bool {
    let Ok(presented) = hex::decode(authorization.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("any key length");
    mac.update(app_key.as_bytes());
    mac.update(body);
    mac.verify_slice(&presented).is_ok()
}

/// A TikTok notification, as far as Stockbridge reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// `tts_notification_id`, for deduplication.
    pub id: String,
    /// `shop_id`: the TikTok shop id (not its cipher) the notification is about, when given.
    pub shop_id: Option<String>,
    /// The order, for an `ORDER_STATUS_CHANGE` (type 1); `None` for other types.
    pub order: Option<OrderChange>,
}

/// What an `ORDER_STATUS_CHANGE` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderChange {
    /// The order.
    pub order_id: OrderId,
    /// Its new status.
    pub status: OrderStatus,
    /// When it changed, Unix seconds.
    pub update_time: i64,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: i64,
    tts_notification_id: String,
    #[serde(default)]
    shop_id: Option<serde_json::Value>,
    #[serde(default)]
    data: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct OrderData {
    order_id: String,
    order_status: String,
    #[serde(default)]
    update_time: i64,
}

/// Why a notification body cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    /// Not JSON of a notification's envelope.
    #[error("not a TikTok notification: {0}")]
    NotANotification(#[source] serde_json::Error),
    /// `tts_notification_id` is empty: the delivery cannot be deduplicated.
    #[error("tts_notification_id is empty")]
    EmptyId,
    /// An `ORDER_STATUS_CHANGE` whose `data` is not an order's.
    #[error("an ORDER_STATUS_CHANGE with bad data: {0}")]
    BadOrderData(#[source] serde_json::Error),
    /// An `ORDER_STATUS_CHANGE` with no `data`.
    #[error("an ORDER_STATUS_CHANGE without data")]
    NoOrderData,
    /// The order id is not one.
    #[error(transparent)]
    OrderId(#[from] IdError),
}

/// Reads a notification body.
///
/// # Errors
///
/// A [`NotificationError`] saying what is wrong with it.
pub fn parse_notification(body: &[u8]) -> Result<Notification, NotificationError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(NotificationError::NotANotification)?;
    if envelope.tts_notification_id.trim().is_empty() {
        return Err(NotificationError::EmptyId);
    }
    let order = match (envelope.kind, envelope.data) {
        (1, Some(data)) => {
            let data: OrderData =
                serde_json::from_value(data).map_err(NotificationError::BadOrderData)?;
            Some(OrderChange {
                order_id: OrderId::new(&data.order_id)?,
                status: OrderStatus::parse(&data.order_status),
                update_time: data.update_time,
            })
        }
        (1, None) => return Err(NotificationError::NoOrderData),
        _ => None,
    };
    // TikTok sends the id as a string; a number is taken as well.
    let shop_id = match envelope.shop_id {
        Some(serde_json::Value::String(id)) => Some(id),
        Some(serde_json::Value::Number(id)) => Some(id.to_string()),
        _ => None,
    }
    .filter(|id| !id.trim().is_empty());
    Ok(Notification {
        id: envelope.tts_notification_id,
        shop_id,
        order,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_the_reference_vector() {
        let body = br#"{"type":1,"shop_id":"7494726673780148744","timestamp":1664095733,"data":{"order_id":"576684019603311365","order_status":"AWAITING_SHIPMENT","update_time":1664095610}}"#;
        let sign = "21109834de72ec53c9959716d8514ae388ce1f123e5ffdcafc46713fcdf62b27";
        assert!(verify_webhook(
            "fake_app_key",
            "fake_app_secret",
            body,
            sign
        ));
        assert!(!verify_webhook("fake_app_key", "other_secret", body, sign));
        assert!(!verify_webhook(
            "fake_app_key",
            "fake_app_secret",
            b"{}",
            sign
        ));
        assert!(!verify_webhook(
            "fake_app_key",
            "fake_app_secret",
            body,
            "not hex"
        ));
    }

    #[test]
    fn reads_an_order_status_change() {
        let body = br#"{"type":1,"tts_notification_id":"73","shop_id":"1","timestamp":2,"data":{"order_id":"576","order_status":"CANCELLED","update_time":1664095610}}"#;
        let n = parse_notification(body).unwrap();
        assert_eq!(n.id, "73");
        assert_eq!(n.shop_id.as_deref(), Some("1"));
        let order = n.order.unwrap();
        assert_eq!(order.order_id.as_str(), "576");
        assert_eq!(order.status, OrderStatus::Cancelled);
        assert_eq!(order.update_time, 1664095610);
    }

    #[test]
    fn other_notification_types_carry_no_order_and_bad_bodies_say_why() {
        let n = parse_notification(br#"{"type":6,"tts_notification_id":"9","data":{}}"#).unwrap();
        assert_eq!(n.order, None);
        assert_eq!(n.shop_id, None, "no shop_id given");
        let n = parse_notification(br#"{"type":6,"tts_notification_id":"9","shop_id":74}"#);
        assert_eq!(n.unwrap().shop_id.as_deref(), Some("74"));
        assert!(parse_notification(b"[]")
            .unwrap_err()
            .to_string()
            .contains("not a TikTok notification"));
        assert!(matches!(
            parse_notification(br#"{"type":1,"tts_notification_id":""}"#),
            Err(NotificationError::EmptyId)
        ));
    }
}
