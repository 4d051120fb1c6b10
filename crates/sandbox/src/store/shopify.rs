//! The Shopify store: locations, variants with their inventory items and levels.

use std::collections::HashMap;

use crate::fixture::{InventoryPolicy, Level, Location, ProductStatus, ShopifyFixture, Variant};

/// A variant as stored: the fixture record plus timestamps.
#[derive(Debug, Clone)]
pub(crate) struct VariantRecord {
    pub(crate) variant: Variant,
    pub(crate) updated_at: i64,
    /// Parallel to `variant.levels`.
    pub(crate) level_updated_at: Vec<i64>,
}

impl VariantRecord {
    pub(crate) fn level(&self, location_id: u64) -> Option<(&Level, i64)> {
        self.variant
            .levels
            .iter()
            .zip(&self.level_updated_at)
            .find(|(level, _)| level.location_id == location_id)
            .map(|(level, at)| (level, *at))
    }
}

pub(crate) struct ShopifyStore {
    locations: Vec<Location>,
    location_index: HashMap<u64, usize>,
    variants: Vec<VariantRecord>,
    by_id: HashMap<u64, usize>,
    by_item: HashMap<u64, usize>,
    by_product: HashMap<u64, Vec<usize>>,
    by_sku: HashMap<String, Vec<usize>>,
    /// Variant ids in ascending order with their index: the `productVariants` order.
    sorted_variants: Vec<(u64, usize)>,
    /// Inventory item ids in ascending order: the `inventoryItems` order.
    sorted_items: Vec<(u64, usize)>,
}

/// What setting a level did: changed an existing level or stocked the item at a new location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LevelSet {
    Updated,
    Connected,
}

/// What a control-API change named but the store does not have.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NotFound {
    #[error("unknown inventory item {0}")]
    Item(u64),
    #[error("unknown location {0}")]
    Location(u64),
    #[error("unknown variant {0}")]
    Variant(u64),
    #[error("unknown product {0}")]
    Product(u64),
}

impl ShopifyStore {
    pub(crate) fn new(fixture: ShopifyFixture, now: i64) -> ShopifyStore {
        let location_index = fixture
            .locations
            .iter()
            .enumerate()
            .map(|(i, l)| (l.id, i))
            .collect();
        let n = fixture.variants.len();
        let mut store = ShopifyStore {
            locations: fixture.locations,
            location_index,
            variants: Vec::with_capacity(n),
            by_id: HashMap::with_capacity(n),
            by_item: HashMap::with_capacity(n),
            by_product: HashMap::new(),
            by_sku: HashMap::with_capacity(n),
            sorted_variants: Vec::with_capacity(n),
            sorted_items: Vec::with_capacity(n),
        };
        for (i, variant) in fixture.variants.into_iter().enumerate() {
            store.by_id.insert(variant.id, i);
            store.by_item.insert(variant.inventory_item_id, i);
            store
                .by_product
                .entry(variant.product_id)
                .or_default()
                .push(i);
            if let Some(sku) = &variant.sku {
                store.by_sku.entry(sku.clone()).or_default().push(i);
            }
            store.sorted_variants.push((variant.id, i));
            store.sorted_items.push((variant.inventory_item_id, i));
            let level_updated_at = vec![now; variant.levels.len()];
            store.variants.push(VariantRecord {
                variant,
                updated_at: now,
                level_updated_at,
            });
        }
        store.sorted_variants.sort_unstable();
        store.sorted_items.sort_unstable();
        store
    }

    pub(crate) fn snapshot(&self) -> ShopifyFixture {
        ShopifyFixture {
            locations: self.locations.clone(),
            variants: self.variants.iter().map(|r| r.variant.clone()).collect(),
            orders: Vec::new(),
        }
    }

    pub(crate) fn locations_by_id(&self) -> Vec<Location> {
        let mut out = self.locations.clone();
        out.sort_by_key(|l| l.id);
        out
    }

    pub(crate) fn location(&self, id: u64) -> Option<&Location> {
        self.location_index.get(&id).map(|&i| &self.locations[i])
    }

    pub(crate) fn variant(&self, id: u64) -> Option<&VariantRecord> {
        self.by_id.get(&id).map(|&i| &self.variants[i])
    }

    pub(crate) fn variant_by_item(&self, item_id: u64) -> Option<&VariantRecord> {
        self.by_item.get(&item_id).map(|&i| &self.variants[i])
    }

    pub(crate) fn variant_at(&self, index: usize) -> &VariantRecord {
        &self.variants[index]
    }

    pub(crate) fn variants_of_product(&self, product_id: u64) -> Vec<&VariantRecord> {
        self.by_product
            .get(&product_id)
            .map(|ids| ids.iter().map(|&i| &self.variants[i]).collect())
            .unwrap_or_default()
    }

    pub(crate) fn indexes_by_sku(&self, sku: &str) -> &[usize] {
        self.by_sku.get(sku).map(Vec::as_slice).unwrap_or(&[])
    }

    pub(crate) fn index_of_variant(&self, id: u64) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    pub(crate) fn index_of_item(&self, item_id: u64) -> Option<usize> {
        self.by_item.get(&item_id).copied()
    }

    /// `(variant id, index)` ascending by id.
    pub(crate) fn sorted_variants(&self) -> &[(u64, usize)] {
        &self.sorted_variants
    }

    /// `(inventory item id, index)` ascending by id.
    pub(crate) fn sorted_items(&self) -> &[(u64, usize)] {
        &self.sorted_items
    }

    pub(crate) fn variant_count(&self) -> usize {
        self.variants.len()
    }

    /// Sets `available` at a location, creating the level when the item is not stocked there.
    pub(crate) fn set_available(
        &mut self,
        item_id: u64,
        location_id: u64,
        available: i64,
        now: i64,
    ) -> Result<(LevelSet, &VariantRecord), NotFound> {
        if !self.location_index.contains_key(&location_id) {
            return Err(NotFound::Location(location_id));
        }
        let i = *self.by_item.get(&item_id).ok_or(NotFound::Item(item_id))?;
        let record = &mut self.variants[i];
        let set = match record
            .variant
            .levels
            .iter()
            .position(|l| l.location_id == location_id)
        {
            Some(j) => {
                record.variant.levels[j].available = available;
                record.level_updated_at[j] = now;
                LevelSet::Updated
            }
            None => {
                record.variant.levels.push(Level {
                    location_id,
                    available,
                });
                record.level_updated_at.push(now);
                LevelSet::Connected
            }
        };
        record.updated_at = now;
        Ok((set, &self.variants[i]))
    }

    pub(crate) fn set_tracked(
        &mut self,
        item_id: u64,
        tracked: bool,
        now: i64,
    ) -> Result<&VariantRecord, NotFound> {
        let i = *self.by_item.get(&item_id).ok_or(NotFound::Item(item_id))?;
        self.variants[i].variant.tracked = tracked;
        self.variants[i].updated_at = now;
        Ok(&self.variants[i])
    }

    pub(crate) fn set_policy(
        &mut self,
        variant_id: u64,
        policy: InventoryPolicy,
        now: i64,
    ) -> Result<&VariantRecord, NotFound> {
        let i = *self
            .by_id
            .get(&variant_id)
            .ok_or(NotFound::Variant(variant_id))?;
        self.variants[i].variant.inventory_policy = policy;
        self.variants[i].updated_at = now;
        Ok(&self.variants[i])
    }

    pub(crate) fn set_product_status(
        &mut self,
        product_id: u64,
        status: ProductStatus,
        now: i64,
    ) -> Result<(), NotFound> {
        let indexes = self
            .by_product
            .get(&product_id)
            .ok_or(NotFound::Product(product_id))?;
        for &i in indexes {
            self.variants[i].variant.product_status = status;
            self.variants[i].updated_at = now;
        }
        Ok(())
    }

    pub(crate) fn set_location_active(
        &mut self,
        location_id: u64,
        active: bool,
    ) -> Result<&Location, NotFound> {
        let i = *self
            .location_index
            .get(&location_id)
            .ok_or(NotFound::Location(location_id))?;
        self.locations[i].active = active;
        Ok(&self.locations[i])
    }
}
