//! Reading a bulk export: one JSON object per line, variants as roots and their inventory
//! levels and bundle components as children naming the parent in `__parentId`. Lines come in
//! no particular order, so children are joined to parents by id once every line is read.
//! A bundle's components are put in the order of their ids (the order Shopify lists them).
//!
//! The file is read as it downloads ([`Export::feed`] takes each chunk): every line becomes
//! its compact form at once (a snapshot without its children, or a child's parent number and
//! its level or component), so a large catalog is never held as text, nor as parsed JSON.

use stockbridge_domain::{Component, StockLevel, VariantSnapshot};

use crate::catalog::wire::{ComponentNode, LevelNode, VariantNode};
use crate::error::AnswerError;
use crate::gid;

/// What a child line names as its parent: Shopify names the variant or its inventory item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Variant,
    Item,
}

/// A child line, by the number of its parent (32 bytes for a level: a large export has
/// hundreds of thousands).
#[derive(Debug)]
struct Child<T> {
    kind: Kind,
    /// One-based; a file of more than 4 billion lines is named at its last.
    line: u32,
    parent: u64,
    value: T,
}

impl<T> Child<T> {
    fn new(kind: Kind, parent: u64, line: usize, value: T) -> Self {
        Child {
            kind,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            parent,
            value,
        }
    }

    fn line(&self) -> usize {
        self.line as usize
    }
}

/// A bundle component line's value: its position among the bundle's components, and what it
/// is.
type Part = (u64, Component);

/// A bulk export being read: the lines seen so far in their compact form.
#[derive(Debug, Default)]
pub(crate) struct Export {
    /// The lines fed so far, the incomplete one included.
    lines: usize,
    /// The start of a line whose end has not arrived yet.
    pending: Vec<u8>,
    /// The variants, each with the levels its own line listed (none in a bulk export).
    roots: Vec<VariantSnapshot>,
    levels: Vec<Child<StockLevel>>,
    parts: Vec<Child<Part>>,
    /// Child lines whose parent is not a variant or inventory item id: (line, parent), by
    /// kind. No variant can claim them; the first is named as an orphan.
    odd_levels: Vec<(usize, String)>,
    odd_parts: Vec<(usize, String)>,
}

impl Export {
    /// Reads the lines a chunk of the file completes; the chunk's unfinished last line waits
    /// for the next chunk (or [`Export::finish`]).
    pub(crate) fn feed(&mut self, mut chunk: &[u8]) -> Result<(), AnswerError> {
        while let Some(end) = chunk.iter().position(|b| *b == b'\n') {
            let (head, rest) = (&chunk[..end], &chunk[end + 1..]);
            if self.pending.is_empty() {
                self.line(head)?;
            } else {
                let mut whole = std::mem::take(&mut self.pending);
                whole.extend_from_slice(head);
                self.line(&whole)?;
                whole.clear();
                self.pending = whole;
            }
            chunk = rest;
        }
        self.pending.extend_from_slice(chunk);
        Ok(())
    }

    /// One line of the file (without its newline).
    fn line(&mut self, raw: &[u8]) -> Result<(), AnswerError> {
        self.lines += 1;
        let line = self.lines;
        if raw.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
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
                    .and_then(|id| gid::number(gid::VARIANT_COMPONENT, id).ok())
                    .unwrap_or(line as u64);
                let component = serde_json::from_value::<ComponentNode>(value)
                    .map_err(|source| AnswerError::BulkLine { line, source })?;
                let part = (order, component.into_domain()?);
                match parent_of(&parent) {
                    Some((kind, number)) => self.parts.push(Child::new(kind, number, line, part)),
                    None => self.odd_parts.push((line, parent)),
                }
            }
            Some(serde_json::Value::String(parent)) => {
                let level = serde_json::from_value::<LevelNode>(value)
                    .map_err(|source| AnswerError::BulkLine { line, source })?
                    .into_domain()?;
                match parent_of(&parent) {
                    Some((kind, number)) => {
                        self.levels.push(Child::new(kind, number, line, level));
                    }
                    None => self.odd_levels.push((line, parent)),
                }
            }
            _ => {
                let variant = serde_json::from_value::<VariantNode>(value)
                    .map_err(|source| AnswerError::BulkLine { line, source })?;
                // The export lists every level inline: no cursor follows.
                self.roots.push(variant.into_partial()?.snapshot);
            }
        }
        Ok(())
    }

    /// The snapshots of the whole file, ordered by variant id, levels by location id.
    pub(crate) fn finish(mut self) -> Result<Vec<VariantSnapshot>, AnswerError> {
        if !self.pending.is_empty() {
            let last = std::mem::take(&mut self.pending);
            self.line(&last)?;
        }
        let Export {
            mut roots,
            levels,
            parts,
            odd_levels,
            odd_parts,
            ..
        } = self;
        roots.sort_by_key(|v| v.variant_id);
        roots.shrink_to_fit();
        let variants: Vec<u64> = roots.iter().map(|v| v.variant_id.get()).collect();
        let mut items: Vec<(u64, usize)> = roots
            .iter()
            .enumerate()
            .map(|(slot, v)| (v.inventory_item_id.get(), slot))
            .collect();
        items.sort_unstable();
        let slot_of = |kind: Kind, parent: u64| match kind {
            Kind::Variant => variants.binary_search(&parent).ok(),
            Kind::Item => items
                .binary_search_by_key(&parent, |&(item, _)| item)
                .ok()
                .map(|i| items[i].1),
        };
        join(levels, &odd_levels, slot_of, |slot, level| {
            roots[slot].levels.push(level);
        })?;
        let mut joined: Vec<(usize, Part)> = Vec::new();
        join(parts, &odd_parts, slot_of, |slot, part| {
            joined.push((slot, part))
        })?;
        joined.sort_by_key(|(slot, (order, _))| (*slot, *order));
        for (slot, (_, component)) in joined {
            if let Some(list) = roots[slot].components.as_mut() {
                list.push(component);
            }
        }
        for root in &mut roots {
            root.levels.sort_by_key(|l| l.location);
            root.levels.shrink_to_fit();
        }
        Ok(roots)
    }
}

/// The number and kind of a `__parentId`; `None` when it is neither a variant's nor an
/// inventory item's id.
fn parent_of(parent: &str) -> Option<(Kind, u64)> {
    gid::number(gid::VARIANT, parent)
        .map(|n| (Kind::Variant, n))
        .or_else(|_| gid::number(gid::INVENTORY_ITEM, parent).map(|n| (Kind::Item, n)))
        .ok()
}

/// Hands each child to `attach` with the slot of its parent, in file order; fails on the
/// first child (by line) that no variant of the file claims.
fn join<T>(
    children: Vec<Child<T>>,
    odd: &[(usize, String)],
    slot_of: impl Fn(Kind, u64) -> Option<usize>,
    mut attach: impl FnMut(usize, T),
) -> Result<(), AnswerError> {
    let first_odd = odd.first();
    let orphan = |line: usize, parent: String| AnswerError::BulkOrphan { line, parent };
    for child in children {
        if let Some((line, parent)) = first_odd.filter(|(line, _)| *line < child.line()) {
            return Err(orphan(*line, parent.clone()));
        }
        let Some(slot) = slot_of(child.kind, child.parent) else {
            let kind = match child.kind {
                Kind::Variant => gid::VARIANT,
                Kind::Item => gid::INVENTORY_ITEM,
            };
            let parent = format!("gid://shopify/{kind}/{}", child.parent);
            return Err(orphan(child.line(), parent));
        };
        attach(slot, child.value);
    }
    match first_odd {
        Some((line, parent)) => Err(orphan(*line, parent.clone())),
        None => Ok(()),
    }
}

/// The snapshots held in a whole bulk export, ordered by variant id, levels by location id.
#[cfg(test)]
pub(crate) fn snapshots(jsonl: &[u8]) -> Result<Vec<VariantSnapshot>, AnswerError> {
    let mut export = Export::default();
    export.feed(jsonl)?;
    export.finish()
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
    fn a_file_fed_in_chunks_of_any_size_reads_as_the_whole_file() {
        let bundle = VARIANT_1.replace(
            r#""requiresComponents":false"#,
            r#""requiresComponents":true"#,
        );
        let component = r#"{"id":"gid://shopify/ProductVariantComponent/3","quantity":2,"productVariant":{"id":"gid://shopify/ProductVariant/2"},"__parentId":"gid://shopify/ProductVariant/1"}"#;
        let jsonl = [
            level(5, 3, "gid://shopify/InventoryItem/9"),
            VARIANT_2.to_owned(),
            component.to_owned(),
            level(2, -1, "gid://shopify/ProductVariant/1"),
            bundle,
        ]
        .join("\n");
        let whole = snapshots(jsonl.as_bytes()).unwrap();
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[0].levels.len(), 2);
        for size in [1, 2, 7, 64, 1000] {
            let mut export = Export::default();
            for chunk in jsonl.as_bytes().chunks(size) {
                export.feed(chunk).unwrap();
            }
            assert_eq!(export.finish().unwrap(), whole, "chunks of {size} bytes");
        }
    }

    #[test]
    fn a_broken_line_split_across_chunks_is_named_by_its_line() {
        let jsonl = format!("{VARIANT_1}\n{VARIANT_2}\n{{\"id\": \n");
        let mut export = Export::default();
        let mut failed = None;
        for chunk in jsonl.as_bytes().chunks(5) {
            if let Err(e) = export.feed(chunk) {
                failed = Some(e);
                break;
            }
        }
        assert!(
            matches!(failed, Some(AnswerError::BulkLine { line: 3, .. })),
            "{failed:?}"
        );
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
