//! The typed events of the topics the sync listens to. Bodies are REST-shaped with numeric
//! ids; a body that does not parse is a [`WebhookError`], never a panic.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use stockbridge_domain::{InventoryItemId, LocationId, UpdatedAt};

use super::{WebhookError, WebhookHeaders};

/// One delivery, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopifyEvent {
    /// `X-Shopify-Webhook-Id`: unique per delivery.
    pub webhook_id: String,
    /// `X-Shopify-Event-Id`: shared by the deliveries of one merchant action (the dedupe key
    /// Shopify's "ignore duplicates" page recommends).
    pub event_id: Option<String>,
    /// `X-Shopify-Triggered-At`, as sent; retries carry the original time.
    pub triggered_at: Option<String>,
    /// `X-Shopify-Shop-Domain`.
    pub shop_domain: String,
    /// What happened.
    pub kind: EventKind,
}

/// What a delivery reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `inventory_levels/update`; `available` is `None` for an untracked item.
    InventoryLevelUpdated {
        /// The item.
        inventory_item_id: InventoryItemId,
        /// Where.
        location_id: LocationId,
        /// The new `available` quantity.
        available: Option<i64>,
        /// The body's `updated_at`, to Shopify's whole second (the same clock as a read's
        /// `InventoryLevel.updatedAt`); `None` when absent or not a time.
        updated_at: Option<UpdatedAt>,
    },
    /// `inventory_levels/connect`: the item is now stocked at the location.
    InventoryLevelConnected {
        /// The item.
        inventory_item_id: InventoryItemId,
        /// Where.
        location_id: LocationId,
        /// The `available` quantity there.
        available: Option<i64>,
    },
    /// `inventory_levels/disconnect`: the item is no longer stocked at the location.
    InventoryLevelDisconnected {
        /// The item.
        inventory_item_id: InventoryItemId,
        /// Where.
        location_id: LocationId,
    },
    /// `inventory_items/create` or `/update` (for example "Track quantity" switched).
    InventoryItemUpdated {
        /// The item.
        inventory_item_id: InventoryItemId,
        /// The item's `tracked`, when the body carries it.
        tracked: Option<bool>,
    },
    /// `inventory_items/delete`.
    InventoryItemDeleted {
        /// The item.
        inventory_item_id: InventoryItemId,
    },
    /// `products/create` or `/update`: the inventory items of the variants it lists.
    ProductUpdated {
        /// The items of the product's variants in the body.
        inventory_item_ids: Vec<InventoryItemId>,
    },
    /// `locations/*`.
    LocationChanged {
        /// The location.
        location_id: LocationId,
        /// What changed.
        kind: LocationChange,
    },
    /// Any other topic, named.
    Other(String),
}

/// What happened to a location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationChange {
    /// `locations/create`.
    Create,
    /// `locations/update`.
    Update,
    /// `locations/activate`.
    Activate,
    /// `locations/deactivate`.
    Deactivate,
    /// `locations/delete`.
    Delete,
}

#[derive(Deserialize)]
struct LevelBody {
    inventory_item_id: u64,
    location_id: u64,
    #[serde(default)]
    available: Option<i64>,
    #[serde(default)]
    updated_at: Option<String>,
}

#[derive(Deserialize)]
struct ItemBody {
    id: u64,
    #[serde(default)]
    tracked: Option<bool>,
}

#[derive(Deserialize)]
struct ProductBody {
    #[serde(default)]
    variants: Vec<ProductVariantBody>,
}

#[derive(Deserialize)]
struct ProductVariantBody {
    #[serde(default)]
    inventory_item_id: Option<u64>,
}

#[derive(Deserialize)]
struct IdBody {
    id: u64,
}

/// Reads a delivery's body by its topic. Verify the signature first.
///
/// Shopify signs the body only, so a body must also be the topic's resource: its
/// `admin_graphql_api_id`, when it has one, names the topic's kind (`InventoryLevel`,
/// `InventoryItem`, `Product`, `Location`), and it carries no top-level `variants` (a
/// product's) or `inventory_item_id` (an inventory level's) unless it is one.
pub fn parse_webhook(headers: &WebhookHeaders, body: &[u8]) -> Result<ShopifyEvent, WebhookError> {
    let topic = headers.topic.as_str();
    let parse = Parser { topic };
    let kind = match topic {
        "inventory_levels/update" | "inventory_levels/connect" => {
            let b: LevelBody = parse.body(body)?;
            let inventory_item_id = parse.item(b.inventory_item_id)?;
            let location_id = parse.location(b.location_id)?;
            if topic.ends_with("update") {
                EventKind::InventoryLevelUpdated {
                    inventory_item_id,
                    location_id,
                    available: b.available,
                    updated_at: b.updated_at.as_deref().and_then(crate::time::updated_at),
                }
            } else {
                EventKind::InventoryLevelConnected {
                    inventory_item_id,
                    location_id,
                    available: b.available,
                }
            }
        }
        "inventory_levels/disconnect" => {
            let b: LevelBody = parse.body(body)?;
            EventKind::InventoryLevelDisconnected {
                inventory_item_id: parse.item(b.inventory_item_id)?,
                location_id: parse.location(b.location_id)?,
            }
        }
        "inventory_items/create" | "inventory_items/update" => {
            let b: ItemBody = parse.body(body)?;
            EventKind::InventoryItemUpdated {
                inventory_item_id: parse.item(b.id)?,
                tracked: b.tracked,
            }
        }
        "inventory_items/delete" => {
            let b: IdBody = parse.body(body)?;
            EventKind::InventoryItemDeleted {
                inventory_item_id: parse.item(b.id)?,
            }
        }
        "products/create" | "products/update" => {
            let b: ProductBody = parse.body(body)?;
            let inventory_item_ids = b
                .variants
                .iter()
                .filter_map(|v| v.inventory_item_id)
                .map(|id| parse.item(id))
                .collect::<Result<_, _>>()?;
            EventKind::ProductUpdated { inventory_item_ids }
        }
        _ => match location_change(topic) {
            Some(change) => {
                let b: IdBody = parse.body(body)?;
                EventKind::LocationChanged {
                    location_id: parse.location(b.id)?,
                    kind: change,
                }
            }
            None => {
                parse.body::<serde_json::Value>(body)?;
                EventKind::Other(topic.to_owned())
            }
        },
    };
    if let Some(expected) = resource_of(topic) {
        parse.check_resource(expected, &parse.body::<ResourceBody>(body)?)?;
    }
    Ok(ShopifyEvent {
        webhook_id: headers.webhook_id.clone(),
        event_id: headers.event_id.clone(),
        triggered_at: headers.triggered_at.clone(),
        shop_domain: headers.shop_domain.clone(),
        kind,
    })
}

/// The resource, by its GraphQL type name, that a topic's body is.
fn resource_of(topic: &str) -> Option<&'static str> {
    Some(match topic.split_once('/')?.0 {
        "inventory_levels" => "InventoryLevel",
        "inventory_items" => "InventoryItem",
        "products" => "Product",
        "locations" => "Location",
        _ => return None,
    })
}

/// The top-level keys that tell one resource's body from another's.
#[derive(Deserialize)]
struct ResourceBody {
    #[serde(default)]
    admin_graphql_api_id: Option<String>,
    #[serde(default)]
    variants: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    inventory_item_id: Option<serde::de::IgnoredAny>,
}

fn location_change(topic: &str) -> Option<LocationChange> {
    Some(match topic.strip_prefix("locations/")? {
        "create" => LocationChange::Create,
        "update" => LocationChange::Update,
        "activate" => LocationChange::Activate,
        "deactivate" => LocationChange::Deactivate,
        "delete" => LocationChange::Delete,
        _ => return None,
    })
}

struct Parser<'a> {
    topic: &'a str,
}

impl Parser<'_> {
    fn body<T: DeserializeOwned>(&self, body: &[u8]) -> Result<T, WebhookError> {
        serde_json::from_slice(body).map_err(|source| WebhookError::MalformedBody {
            topic: self.topic.to_owned(),
            source,
        })
    }

    /// Refuses a body that is another resource than `expected`.
    fn check_resource(&self, expected: &str, body: &ResourceBody) -> Result<(), WebhookError> {
        let wrong = |found: String| WebhookError::WrongResource {
            topic: self.topic.to_owned(),
            found,
        };
        if let Some(gid) = &body.admin_graphql_api_id {
            let kind = gid
                .strip_prefix("gid://shopify/")
                .and_then(|rest| rest.split('/').next())
                .unwrap_or_default();
            if kind != expected {
                let kind: String = kind.chars().take(40).collect();
                return Err(wrong(format!("a {kind:?} (admin_graphql_api_id)")));
            }
        }
        if body.variants.is_some() && expected != "Product" {
            return Err(wrong("a product (it lists variants)".to_owned()));
        }
        if body.inventory_item_id.is_some() && expected != "InventoryLevel" {
            return Err(wrong(
                "an inventory level (it names an inventory_item_id)".to_owned(),
            ));
        }
        Ok(())
    }

    fn item(&self, id: u64) -> Result<InventoryItemId, WebhookError> {
        InventoryItemId::new(id).map_err(|_| self.invalid("inventory_item_id"))
    }

    fn location(&self, id: u64) -> Result<LocationId, WebhookError> {
        LocationId::new(id).map_err(|_| self.invalid("location_id"))
    }

    fn invalid(&self, field: &'static str) -> WebhookError {
        WebhookError::InvalidId {
            topic: self.topic.to_owned(),
            field,
        }
    }
}
