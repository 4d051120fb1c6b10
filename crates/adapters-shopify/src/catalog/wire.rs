//! Shopify's answers as this adapter reads them, and their translation into domain types.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use serde::Deserialize;
use stockbridge_domain::{
    Component, InventoryPolicy, Location, ProductStatus, Sku, StockLevel, VariantSnapshot,
};

use crate::error::AnswerError;
use crate::gid;

/// A connection page (`nodes` + `pageInfo`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Connection<T> {
    pub(crate) nodes: Vec<T>,
    pub(crate) page_info: PageInfo,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageInfo {
    pub(crate) has_next_page: bool,
    pub(crate) end_cursor: Option<String>,
}

impl PageInfo {
    /// The cursor of the next page, when there is one.
    pub(crate) fn next(&self) -> Option<String> {
        if self.has_next_page {
            self.end_cursor.clone()
        } else {
            None
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Id {
    pub(crate) id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LocationNode {
    id: String,
    name: String,
    is_active: bool,
}

impl LocationNode {
    pub(crate) fn into_domain(self) -> Result<Location, AnswerError> {
        Ok(Location {
            id: gid::location(&self.id)?,
            name: self.name,
            active: self.is_active,
        })
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProductNode {
    id: String,
    status: String,
}

/// The variant fields of a snapshot, without the inventory item.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VariantFields {
    pub(crate) id: String,
    pub(crate) sku: Option<String>,
    pub(crate) inventory_policy: String,
    /// Whether the variant is a bundle; its components are read apart.
    pub(crate) requires_components: bool,
    pub(crate) product: ProductNode,
}

/// A variant with its inventory item, as a page or the bulk export lists it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VariantNode {
    #[serde(flatten)]
    pub(crate) fields: VariantFields,
    pub(crate) inventory_item: ItemNode,
}

/// An inventory item with its levels; `variant` only when read from `inventoryItems`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ItemNode {
    pub(crate) id: String,
    pub(crate) tracked: bool,
    #[serde(default)]
    pub(crate) variant: Option<VariantFields>,
    #[serde(default)]
    pub(crate) inventory_levels: Option<Connection<LevelNode>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LevelNode {
    location: Id,
    quantities: Vec<QuantityNode>,
    /// When Shopify last changed the level; a time that does not read as one is no time
    /// (the level's payloads are then re-read, never trusted).
    #[serde(default)]
    updated_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct QuantityNode {
    name: String,
    quantity: Option<i64>,
}

impl LevelNode {
    pub(crate) fn into_domain(self) -> Result<StockLevel, AnswerError> {
        let location = gid::location(&self.location.id)?;
        let available = self
            .quantities
            .iter()
            .find(|q| q.name == "available")
            .and_then(|q| q.quantity)
            .ok_or_else(|| AnswerError::UnknownValue {
                field: "quantities",
                value: format!("no available quantity at {}", self.location.id),
            })?;
        Ok(StockLevel {
            location,
            available,
            updated_at: self.updated_at.as_deref().and_then(crate::time::updated_at),
        })
    }
}

/// A snapshot, and the cursor of the item's next levels page when the first one was full.
pub(crate) struct Partial {
    pub(crate) snapshot: VariantSnapshot,
    pub(crate) item_gid: String,
    pub(crate) more_levels: Option<String>,
}

impl VariantFields {
    /// The snapshot of this variant and its item, with the levels given.
    pub(crate) fn snapshot(
        self,
        item_gid: &str,
        tracked: bool,
        levels: Vec<StockLevel>,
    ) -> Result<VariantSnapshot, AnswerError> {
        // The product id is read to check the answer's shape; the domain keys on variants.
        gid::number(gid::PRODUCT, &self.product.id)?;
        Ok(VariantSnapshot {
            variant_id: gid::variant(&self.id)?,
            inventory_item_id: gid::inventory_item(item_gid)?,
            sku: Sku::parse_optional(self.sku.as_deref()),
            tracked,
            policy: policy(&self.inventory_policy),
            product_status: product_status(&self.product.status),
            // A bundle's components are filled in by whoever read it (a follow-up query, or
            // the bulk export's child lines); one left empty makes the bundle unreadable.
            components: self.requires_components.then(Vec::new),
            levels,
        })
    }
}

impl VariantNode {
    pub(crate) fn into_partial(self) -> Result<Partial, AnswerError> {
        self.inventory_item.partial(self.fields)
    }
}

impl ItemNode {
    /// The snapshot of the item's variant; `None` when the item has no variant.
    pub(crate) fn into_partial(mut self) -> Result<Option<Partial>, AnswerError> {
        self.variant
            .take()
            .map(|variant| self.partial(variant))
            .transpose()
    }

    /// The snapshot of `variant` with this item and its first page of levels: the one
    /// translation behind the paged read ([`VariantNode`]), the read by item id and the bulk
    /// export.
    fn partial(self, variant: VariantFields) -> Result<Partial, AnswerError> {
        let (levels, more_levels) = levels_of(self.inventory_levels)?;
        let snapshot = variant.snapshot(&self.id, self.tracked, levels)?;
        Ok(Partial {
            snapshot,
            item_gid: self.id,
            more_levels,
        })
    }
}

/// The levels of a page, and the cursor of the next page of them.
pub(crate) fn levels_of(
    page: Option<Connection<LevelNode>>,
) -> Result<(Vec<StockLevel>, Option<String>), AnswerError> {
    let Some(page) = page else {
        return Ok((Vec::new(), None));
    };
    let more = page.page_info.next();
    let levels = page
        .nodes
        .into_iter()
        .map(LevelNode::into_domain)
        .collect::<Result<_, _>>()?;
    Ok((levels, more))
}

/// One node of `productVariantComponents`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ComponentNode {
    quantity: u32,
    product_variant: Id,
}

impl ComponentNode {
    pub(crate) fn into_domain(self) -> Result<Component, AnswerError> {
        Ok(Component {
            variant_id: gid::variant(&self.product_variant.id)?,
            quantity: std::num::NonZeroU32::new(self.quantity).ok_or_else(|| {
                AnswerError::UnknownValue {
                    field: "productVariantComponents.quantity",
                    value: self.quantity.to_string(),
                }
            })?,
        })
    }
}

/// `inventoryPolicy`. A value Shopify added since this was written reads as `DENY`: the
/// variant is then limited by its stock, so nothing is ever offered as unlimited on a
/// meaning this adapter does not know.
fn policy(value: &str) -> InventoryPolicy {
    match value {
        "DENY" => InventoryPolicy::Deny,
        "CONTINUE" => InventoryPolicy::Continue,
        _ => {
            warn_unknown("inventoryPolicy", value, "DENY");
            InventoryPolicy::Deny
        }
    }
}

/// `product.status`. A value Shopify added since this was written reads as `ACTIVE`: every
/// status is synced alike (sync-rules.md §3), so the plain one changes nothing, and a new
/// status never stops a full read.
fn product_status(value: &str) -> ProductStatus {
    match value {
        "ACTIVE" => ProductStatus::Active,
        "DRAFT" => ProductStatus::Draft,
        "ARCHIVED" => ProductStatus::Archived,
        "UNLISTED" => ProductStatus::Unlisted,
        _ => {
            warn_unknown("product.status", value, "ACTIVE");
            ProductStatus::Active
        }
    }
}

fn warn_unknown(field: &'static str, value: &str, read_as: &'static str) {
    if first_sighting(field, value) {
        tracing::warn!(
            field,
            value,
            read_as,
            "unknown Shopify enum value; reading it as a known one"
        );
    }
}

/// Distinct unknown values remembered, so that a flood of them cannot grow memory.
const SIGHTINGS_KEPT: usize = 64;

/// Whether this unknown value is met for the first time in this process: a catalog of many
/// variants warns once per value, not once per variant.
fn first_sighting(field: &'static str, value: &str) -> bool {
    static SEEN: Mutex<BTreeSet<(&'static str, String)>> = Mutex::new(BTreeSet::new());
    let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    let key = (field, value.to_owned());
    if seen.contains(&key) || seen.len() >= SIGHTINGS_KEPT {
        return false;
    }
    seen.insert(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(sku: &str, status: &str, levels_next: bool) -> VariantNode {
        serde_json::from_value(serde_json::json!({
            "id": "gid://shopify/ProductVariant/101", "sku": sku, "inventoryPolicy": "CONTINUE",
            "requiresComponents": false,
            "product": {"id": "gid://shopify/Product/10", "status": status},
            "inventoryItem": {"id": "gid://shopify/InventoryItem/1001", "tracked": false,
                "inventoryLevels": {"nodes": [
                    {"location": {"id": "gid://shopify/Location/1"},
                     "quantities": [{"name": "available", "quantity": -2}]}],
                 "pageInfo": {"hasNextPage": levels_next, "endCursor": "c1"}}}
        }))
        .unwrap()
    }

    #[test]
    fn reads_a_variant_into_a_snapshot() {
        let partial = node("TEE-S", "UNLISTED", false).into_partial().unwrap();
        let s = partial.snapshot;
        assert_eq!((s.variant_id.get(), s.inventory_item_id.get()), (101, 1001));
        assert_eq!(s.sku.unwrap().as_str(), "TEE-S");
        assert!(!s.tracked);
        assert_eq!(s.policy, InventoryPolicy::Continue);
        assert_eq!(s.product_status, ProductStatus::Unlisted);
        assert_eq!(
            s.levels,
            vec![StockLevel {
                location: gid::location("gid://shopify/Location/1").unwrap(),
                available: -2,
                updated_at: None,
            }]
        );
        assert_eq!(partial.more_levels, None);
    }

    #[test]
    fn blank_sku_is_no_sku() {
        assert_eq!(
            node("  ", "ACTIVE", false)
                .into_partial()
                .unwrap()
                .snapshot
                .sku,
            None
        );
    }

    #[test]
    fn a_full_levels_page_asks_for_more() {
        let partial = node("A", "DRAFT", true).into_partial().unwrap();
        assert_eq!(partial.more_levels.as_deref(), Some("c1"));
        assert_eq!(partial.snapshot.product_status, ProductStatus::Draft);
    }

    #[test]
    fn an_unknown_product_status_reads_as_active_instead_of_failing() {
        let partial = node("A", "PAUSED", false).into_partial().unwrap();
        assert_eq!(partial.snapshot.product_status, ProductStatus::Active);
        assert_eq!(partial.snapshot.levels.len(), 1);
    }

    #[test]
    fn an_unknown_inventory_policy_reads_as_deny_so_stock_still_limits_the_variant() {
        let mut value = serde_json::json!({
            "id": "gid://shopify/ProductVariant/5", "sku": "B", "inventoryPolicy": "BACKORDER",
            "requiresComponents": false,
            "product": {"id": "gid://shopify/Product/1", "status": "ACTIVE"},
            "inventoryItem": {"id": "gid://shopify/InventoryItem/6", "tracked": true}
        });
        let read = |value: &serde_json::Value| {
            serde_json::from_value::<VariantNode>(value.clone())
                .unwrap()
                .into_partial()
                .unwrap()
                .snapshot
        };
        let snapshot = read(&value);
        assert_eq!(snapshot.policy, InventoryPolicy::Deny);
        assert!(!snapshot.is_unlimited());
        value["inventoryPolicy"] = "CONTINUE".into();
        assert_eq!(read(&value).policy, InventoryPolicy::Continue);
    }

    #[test]
    fn an_unknown_value_is_warned_about_once() {
        assert!(first_sighting("test.field", "NEW_VALUE"));
        assert!(!first_sighting("test.field", "NEW_VALUE"));
        assert!(first_sighting("test.other_field", "NEW_VALUE"));
    }

    #[test]
    fn a_variant_read_by_page_and_by_item_id_gives_one_snapshot_and_levels_cursor() {
        let item = serde_json::json!({
            "id": "gid://shopify/InventoryItem/501",
            "tracked": true,
            "inventoryLevels": {
                "nodes": [{
                    "location": {"id": "gid://shopify/Location/1"},
                    "quantities": [{"name": "available", "quantity": 7}],
                }],
                "pageInfo": {"hasNextPage": true, "endCursor": "c1"},
            },
        });
        let variant = serde_json::json!({
            "id": "gid://shopify/ProductVariant/101",
            "sku": " TEE-RED-S ",
            "inventoryPolicy": "DENY",
            "requiresComponents": false,
            "product": {"id": "gid://shopify/Product/9", "status": "ACTIVE"},
        });
        let mut by_page = variant.clone();
        by_page["inventoryItem"] = item.clone();
        let mut by_item = item;
        by_item["variant"] = variant;
        let paged = serde_json::from_value::<VariantNode>(by_page)
            .unwrap()
            .into_partial()
            .unwrap();
        let keyed = serde_json::from_value::<ItemNode>(by_item)
            .unwrap()
            .into_partial()
            .unwrap()
            .expect("the item has a variant");
        for partial in [&paged, &keyed] {
            assert_eq!(partial.snapshot.variant_id.get(), 101);
            assert_eq!(partial.snapshot.inventory_item_id.get(), 501);
            assert_eq!(partial.snapshot.levels.len(), 1);
            assert_eq!(partial.snapshot.levels[0].available, 7);
            assert_eq!(partial.item_gid, "gid://shopify/InventoryItem/501");
            assert_eq!(partial.more_levels.as_deref(), Some("c1"));
        }
        assert_eq!(paged.snapshot, keyed.snapshot);
    }

    #[test]
    fn an_item_without_a_variant_gives_no_snapshot() {
        let item: ItemNode = serde_json::from_value(serde_json::json!({
            "id": "gid://shopify/InventoryItem/501",
            "tracked": true,
        }))
        .unwrap();
        assert!(item.into_partial().unwrap().is_none());
    }
}
