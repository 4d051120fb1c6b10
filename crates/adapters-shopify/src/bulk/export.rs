//! Reading a bulk export: one JSON object per line, variants as roots and their inventory
//! levels and bundle components as children naming the parent in `__parentId`. Lines come in
//! no particular order, so children are joined to parents by id after every line is read.
//! A bundle's components are put in the order of their ids (the order Shopify lists them).

use std::collections::HashMap;

use stockbridge_domain::{Component, StockLevel, VariantSnapshot};

use crate::catalog::wire::{ComponentNode, LevelNode, VariantNode};
use crate::error::AnswerError;

/// The snapshots held in a bulk export, ordered by variant id, levels by location id.
pub(crate) fn snapshots(jsonl: &[u8]) -> Result<Vec<VariantSnapshot>, AnswerError> {
    let mut roots = Vec::new();
    let mut children: Vec<(usize, String, LevelNode)> = Vec::new();
    let mut components: Vec<(usize, String, u64, ComponentNode)> = Vec::new();
    for (index, raw) in jsonl.split(|b| *b == b'\n').enumerate() {
        let line = index + 1;
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut value: serde_json::Value =
            serde_json::from_slice(raw).map_err(|source| AnswerError::BulkLine { line, source })?;
        let parent = value
            .as_object_mut()
            .and_then(|object| object.remove("__parentId"));
        match parent {
            Some(serde_json::Value::String(parent)) if value.get("productVariant").is_some() => {
                let order = value
                    .get("id")
                    .and_then(|id| id.as_str())
                    .and_then(|id| crate::gid::number(crate::gid::VARIANT_COMPONENT, id).ok())
                    .unwrap_or(line as u64);
                let component = serde_json::from_value::<ComponentNode>(value)
                    .map_err(|source| AnswerError::BulkLine { line, source })?;
                components.push((line, parent, order, component));
            }
            Some(serde_json::Value::String(parent)) => {
                let level = serde_json::from_value::<LevelNode>(value)
                    .map_err(|source| AnswerError::BulkLine { line, source })?;
                children.push((line, parent, level));
            }
            _ => {
                let variant = serde_json::from_value::<VariantNode>(value)
                    .map_err(|source| AnswerError::BulkLine { line, source })?;
                roots.push(variant);
            }
        }
    }

    // Children may name the variant or its inventory item as parent: accept both.
    let mut slot_of: HashMap<String, usize> = HashMap::with_capacity(roots.len() * 2);
    for (slot, root) in roots.iter().enumerate() {
        slot_of.insert(root.fields.id.clone(), slot);
        slot_of.insert(root.inventory_item.id.clone(), slot);
    }
    let mut levels: Vec<Vec<StockLevel>> = vec![Vec::new(); roots.len()];
    for (line, parent, level) in children {
        let slot = *slot_of
            .get(&parent)
            .ok_or(AnswerError::BulkOrphan { line, parent })?;
        levels[slot].push(level.into_domain()?);
    }
    let mut parts: Vec<Vec<(u64, Component)>> = vec![Vec::new(); roots.len()];
    for (line, parent, order, component) in components {
        let slot = *slot_of
            .get(&parent)
            .ok_or(AnswerError::BulkOrphan { line, parent })?;
        parts[slot].push((order, component.into_domain()?));
    }

    let mut out = Vec::with_capacity(roots.len());
    for ((root, mut own), mut parts) in roots.into_iter().zip(levels).zip(parts) {
        let item = root.inventory_item;
        let mut inline = crate::catalog::wire::levels_of(item.inventory_levels)?.0;
        own.append(&mut inline);
        own.sort_by_key(|l| l.location);
        let mut snapshot = root.fields.snapshot(&item.id, item.tracked, own)?;
        if let Some(list) = snapshot.components.as_mut() {
            parts.sort_by_key(|(order, _)| *order);
            list.extend(parts.into_iter().map(|(_, c)| c));
        }
        out.push(snapshot);
    }
    out.sort_by_key(|v| v.variant_id);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARIANT_1: &str = r#"{"id":"gid://shopify/ProductVariant/1","sku":"A-1","inventoryPolicy":"DENY","requiresComponents":false,"product":{"id":"gid://shopify/Product/7","status":"ACTIVE"},"inventoryItem":{"id":"gid://shopify/InventoryItem/9","tracked":true}}"#;
    const VARIANT_2: &str = r#"{"id":"gid://shopify/ProductVariant/2","sku":null,"inventoryPolicy":"CONTINUE","requiresComponents":false,"product":{"id":"gid://shopify/Product/7","status":"ARCHIVED"},"inventoryItem":{"id":"gid://shopify/InventoryItem/10","tracked":false}}"#;

    fn level(location: u64, available: i64, parent: &str) -> String {
        format!(
            r#"{{"id":"gid://shopify/InventoryLevel/{location}?inventory_item_id=9","location":{{"id":"gid://shopify/Location/{location}"}},"quantities":[{{"name":"available","quantity":{available}}}],"__parentId":"{parent}"}}"#
        )
    }

    #[test]
    fn joins_children_to_parents_whatever_the_line_order() {
        let jsonl = [
            level(5, 3, "gid://shopify/ProductVariant/1"),
            VARIANT_2.to_owned(),
            level(2, -1, "gid://shopify/ProductVariant/1"),
            VARIANT_1.to_owned(),
            String::new(),
        ]
        .join("\n");
        let variants = snapshots(jsonl.as_bytes()).unwrap();
        assert_eq!(variants.len(), 2);
        let first = &variants[0];
        assert_eq!(first.variant_id.get(), 1);
        let levels: Vec<(u64, i64)> = first
            .levels
            .iter()
            .map(|l| (l.location.get(), l.available))
            .collect();
        assert_eq!(levels, vec![(2, -1), (5, 3)]);
        assert_eq!(variants[1].sku, None);
        assert!(variants[1].levels.is_empty());
    }

    #[test]
    fn a_bundles_component_lines_join_to_it_in_the_order_of_their_ids() {
        let bundle = VARIANT_1.replace(
            r#""requiresComponents":false"#,
            r#""requiresComponents":true"#,
        );
        let component = |id: u64, variant: u64, quantity: u32| {
            format!(
                r#"{{"id":"gid://shopify/ProductVariantComponent/{id}","quantity":{quantity},"productVariant":{{"id":"gid://shopify/ProductVariant/{variant}"}},"__parentId":"gid://shopify/ProductVariant/1"}}"#
            )
        };
        let jsonl = [
            component(12, 5, 1),
            bundle,
            component(11, 4, 2),
            VARIANT_2.to_owned(),
        ]
        .join("\n");
        let variants = snapshots(jsonl.as_bytes()).unwrap();
        let parts: Vec<(u64, u32)> = variants[0]
            .components
            .as_ref()
            .unwrap()
            .iter()
            .map(|c| (c.variant_id.get(), c.quantity.get()))
            .collect();
        assert_eq!(parts, vec![(4, 2), (5, 1)]);
        assert_eq!(variants[1].components, None);
    }

    #[test]
    fn a_bundle_without_component_lines_reads_as_a_bundle_of_nothing() {
        let bundle = VARIANT_1.replace(
            r#""requiresComponents":false"#,
            r#""requiresComponents":true"#,
        );
        let variants = snapshots(bundle.as_bytes()).unwrap();
        assert_eq!(variants[0].components, Some(Vec::new()));
    }

    #[test]
    fn a_child_may_name_the_inventory_item_as_parent() {
        let jsonl = format!(
            "{VARIANT_1}\n{}",
            level(5, 3, "gid://shopify/InventoryItem/9")
        );
        let variants = snapshots(jsonl.as_bytes()).unwrap();
        assert_eq!(variants[0].levels.len(), 1);
    }

    #[test]
    fn an_orphan_child_is_an_error_naming_its_line() {
        let jsonl = format!(
            "{VARIANT_1}\n{}",
            level(5, 3, "gid://shopify/ProductVariant/77")
        );
        assert!(matches!(
            snapshots(jsonl.as_bytes()),
            Err(AnswerError::BulkOrphan { line: 2, .. })
        ));
    }

    #[test]
    fn a_broken_line_is_an_error_naming_its_line() {
        let jsonl = format!("{VARIANT_1}\n{{\"id\": ");
        assert!(matches!(
            snapshots(jsonl.as_bytes()),
            Err(AnswerError::BulkLine { line: 2, .. })
        ));
    }
}
