//! Which bundles each component feeds, by inventory item: the real-time path re-reads and
//! re-plans every bundle made of a component whose stock changed, with all of its components.

use std::collections::{HashMap, HashSet};

use crate::catalog::VariantSnapshot;
use crate::ids::{InventoryItemId, VariantId};

/// Components to bundles and back, by inventory item (what stock changes name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BundleIndex {
    /// The inventory item of every variant some bundle lists as a component.
    item_of: HashMap<VariantId, InventoryItemId>,
    /// A bundle's item → its components' items (those that were read).
    parts: HashMap<InventoryItemId, Vec<InventoryItemId>>,
    /// A component's item → the items of the bundles made of it.
    bundles: HashMap<InventoryItemId, Vec<InventoryItemId>>,
}

impl BundleIndex {
    /// Indexes the bundles of a whole catalog.
    pub fn new(variants: &[VariantSnapshot]) -> Self {
        let mut index = BundleIndex::default();
        index.update(variants);
        index
    }

    /// Re-indexes the variants just read: a bundle's components may have changed, and a
    /// component read now may be one whose item was not known yet.
    pub fn update(&mut self, variants: &[VariantSnapshot]) {
        let wanted: HashSet<VariantId> = variants
            .iter()
            .filter_map(|v| v.components.as_deref())
            .flatten()
            .map(|c| c.variant_id)
            .collect();
        for v in variants {
            if wanted.contains(&v.variant_id) || self.item_of.contains_key(&v.variant_id) {
                self.item_of.insert(v.variant_id, v.inventory_item_id);
            }
        }
        for v in variants {
            let bundle = v.inventory_item_id;
            if let Some(old) = self.parts.remove(&bundle) {
                for part in old {
                    if let Some(of) = self.bundles.get_mut(&part) {
                        of.retain(|b| *b != bundle);
                        if of.is_empty() {
                            self.bundles.remove(&part);
                        }
                    }
                }
            }
            let Some(components) = v.components.as_deref() else {
                continue;
            };
            let mut parts: Vec<InventoryItemId> = components
                .iter()
                .filter_map(|c| self.item_of.get(&c.variant_id).copied())
                .collect();
            parts.sort_unstable();
            parts.dedup();
            for &part in &parts {
                self.bundles.entry(part).or_default().push(bundle);
            }
            self.parts.insert(bundle, parts);
        }
    }

    /// `items` with every bundle made of one of them and every component of those bundles
    /// (and of bundles among `items`): what must be read to plan them all. Sorted, each once.
    pub fn with_bundles(&self, items: &[InventoryItemId]) -> Vec<InventoryItemId> {
        let mut out: Vec<InventoryItemId> = items.to_vec();
        let mut bundles: Vec<InventoryItemId> = Vec::new();
        for item in items {
            if self.parts.contains_key(item) {
                bundles.push(*item);
            }
            bundles.extend(self.bundles.get(item).into_iter().flatten().copied());
        }
        for bundle in bundles {
            out.push(bundle);
            out.extend(self.parts.get(&bundle).into_iter().flatten().copied());
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The bundles made of the component with this item.
    pub fn bundles_of(&self, item: InventoryItemId) -> &[InventoryItemId] {
        self.bundles.get(&item).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use crate::seed::*;
    use crate::*;

    fn items(ids: &[u64]) -> Vec<InventoryItemId> {
        ids.iter()
            .map(|&i| InventoryItemId::new(i).unwrap())
            .collect()
    }

    /// Items are variant id × 10: MUG 10, TEE 20, CAP 30; BOX 40 = MUG + TEE, GIFT 50 = MUG.
    fn catalog() -> Vec<VariantSnapshot> {
        vec![
            variant(1, "MUG", &[(1, 7)]),
            variant(2, "TEE", &[(1, 9)]),
            variant(3, "CAP", &[(1, 1)]),
            bundle(4, "BOX", &[(1, 2), (2, 1)]),
            bundle(5, "GIFT", &[(1, 1)]),
        ]
    }

    #[test]
    fn a_changed_component_brings_every_bundle_of_it_and_their_other_components() {
        let index = BundleIndex::new(&catalog());
        assert_eq!(index.with_bundles(&items(&[10])), items(&[10, 20, 40, 50]));
        assert_eq!(index.with_bundles(&items(&[20])), items(&[10, 20, 40]));
        assert_eq!(index.with_bundles(&items(&[30])), items(&[30]));
        assert_eq!(
            index.bundles_of(InventoryItemId::new(10).unwrap()),
            items(&[40, 50])
        );
    }

    #[test]
    fn a_changed_bundle_brings_its_components() {
        let index = BundleIndex::new(&catalog());
        assert_eq!(index.with_bundles(&items(&[50])), items(&[10, 50]));
    }

    #[test]
    fn re_reading_a_bundle_with_new_components_moves_it_in_the_index() {
        let mut index = BundleIndex::new(&catalog());
        index.update(&[variant(3, "CAP", &[(1, 1)]), bundle(5, "GIFT", &[(3, 1)])]);
        assert_eq!(index.with_bundles(&items(&[30])), items(&[30, 50]));
        assert_eq!(index.with_bundles(&items(&[10])), items(&[10, 20, 40]));
        index.update(&[variant(5, "GIFT", &[])]);
        assert!(index
            .bundles_of(InventoryItemId::new(30).unwrap())
            .is_empty());
    }

    #[test]
    fn an_unknown_component_is_left_out_until_it_is_read() {
        let mut index = BundleIndex::new(&[bundle(5, "GIFT", &[(9, 1)])]);
        assert_eq!(index.with_bundles(&items(&[50])), items(&[50]));
        index.update(&[variant(9, "NEW", &[]), bundle(5, "GIFT", &[(9, 1)])]);
        assert_eq!(index.with_bundles(&items(&[90])), items(&[50, 90]));
    }
}
