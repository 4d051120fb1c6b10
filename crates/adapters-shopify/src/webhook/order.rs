//! `orders/create`: the fields of the REST order that may carry a TikTok order id
//! (`source_identifier`, `tags` as one comma-separated text, `note_attributes`, `note`).

use serde::Deserialize;
use stockbridge_domain::ShopifyOrderMarks;

use super::WebhookError;

#[derive(Deserialize)]
struct RestOrder {
    #[serde(default)]
    source_identifier: Option<String>,
    #[serde(default)]
    tags: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    note_attributes: Vec<NoteAttribute>,
}

#[derive(Deserialize)]
struct NoteAttribute {
    #[serde(default)]
    value: Option<serde_json::Value>,
}

/// Reads the marks of an `orders/create` body.
///
/// # Errors
///
/// [`WebhookError::MalformedBody`] when the body is not a Shopify order.
pub fn order_marks(body: &[u8]) -> Result<ShopifyOrderMarks, WebhookError> {
    let order: RestOrder =
        serde_json::from_slice(body).map_err(|source| WebhookError::MalformedBody {
            topic: "orders/create".to_owned(),
            source,
        })?;
    Ok(ShopifyOrderMarks {
        source_identifier: order.source_identifier,
        tags: order
            .tags
            .unwrap_or_default()
            .split(',')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect(),
        attribute_values: order
            .note_attributes
            .into_iter()
            .filter_map(|a| match a.value {
                Some(serde_json::Value::String(s)) => Some(s),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        note: order.note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tags_attributes_note_and_source_identifier() {
        let body = br#"{"id": 1, "source_identifier": "576001", "tags": "TikTok, 576002",
            "note": "TikTok order 576003", "note_attributes": [{"name": "tiktok_order_id", "value": "576004"},
            {"name": "n", "value": 576005}]}"#;
        let marks = order_marks(body).unwrap();
        assert_eq!(marks.source_identifier.as_deref(), Some("576001"));
        assert_eq!(marks.tags, ["TikTok", "576002"]);
        assert_eq!(marks.note.as_deref(), Some("TikTok order 576003"));
        assert_eq!(marks.attribute_values, ["576004", "576005"]);
        assert!(matches!(
            order_marks(b"[1]"),
            Err(WebhookError::MalformedBody { topic, .. }) if topic == "orders/create"
        ));
    }
}
