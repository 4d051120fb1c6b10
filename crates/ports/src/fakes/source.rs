use std::sync::Mutex;

use async_trait::async_trait;
use stockbridge_domain::{
    InventoryItemId, InventoryPolicy, Location, LocationId, StockLevel, UpdatedAt, VariantSnapshot,
};

use crate::error::SourceError;
use crate::source::{InventorySource, Page};

/// A shop held in memory. Pages are `page_size` variants; cursors are offsets.
pub struct InMemorySource {
    inner: Mutex<Shop>,
    page_size: usize,
}

struct Shop {
    locations: Vec<Location>,
    variants: Vec<VariantSnapshot>,
    fail_next: usize,
    /// Inventory items read by [`InventorySource::variants_for_items`] so far.
    items_read: usize,
}

impl InMemorySource {
    /// A shop with these locations and variants, paged by 2 to exercise paging.
    pub fn new(locations: Vec<Location>, variants: Vec<VariantSnapshot>) -> Self {
        InMemorySource {
            inner: Mutex::new(Shop {
                locations,
                variants,
                fail_next: 0,
                items_read: 0,
            }),
            page_size: 2,
        }
    }

    /// Sets the `available` quantity of an item at a location and the time Shopify gives
    /// the change (adding the level if absent).
    pub fn set_level(
        &self,
        item: InventoryItemId,
        location: LocationId,
        available: i64,
        updated_at: Option<UpdatedAt>,
    ) {
        self.set_available(item, location, available);
        let mut shop = self.inner.lock().unwrap();
        for v in shop
            .variants
            .iter_mut()
            .filter(|v| v.inventory_item_id == item)
        {
            for level in v.levels.iter_mut().filter(|l| l.location == location) {
                level.updated_at = updated_at;
            }
        }
    }

    /// How many inventory items [`InventorySource::variants_for_items`] has read so far
    /// (an item read twice counts twice).
    pub fn items_read(&self) -> usize {
        self.inner.lock().unwrap().items_read
    }

    /// Sets the `available` quantity of an item at a location (adding the level if absent);
    /// the level's time is left as it was.
    pub fn set_available(&self, item: InventoryItemId, location: LocationId, available: i64) {
        let mut shop = self.inner.lock().unwrap();
        for v in shop
            .variants
            .iter_mut()
            .filter(|v| v.inventory_item_id == item)
        {
            match v.levels.iter_mut().find(|l| l.location == location) {
                Some(level) => level.available = available,
                None => v.levels.push(StockLevel {
                    location,
                    available,
                    updated_at: None,
                }),
            }
        }
    }

    /// Switches "Track quantity" of an item.
    pub fn set_tracked(&self, item: InventoryItemId, tracked: bool) {
        let mut shop = self.inner.lock().unwrap();
        for v in shop
            .variants
            .iter_mut()
            .filter(|v| v.inventory_item_id == item)
        {
            v.tracked = tracked;
        }
    }

    /// Sets the inventory policy of an item's variant.
    pub fn set_policy(&self, item: InventoryItemId, policy: InventoryPolicy) {
        let mut shop = self.inner.lock().unwrap();
        for v in shop
            .variants
            .iter_mut()
            .filter(|v| v.inventory_item_id == item)
        {
            v.policy = policy;
        }
    }

    /// Activates or deactivates a location.
    pub fn set_location_active(&self, location: LocationId, active: bool) {
        let mut shop = self.inner.lock().unwrap();
        for l in shop.locations.iter_mut().filter(|l| l.id == location) {
            l.active = active;
        }
    }

    /// Makes the next `n` calls fail with a transient error.
    pub fn fail_next(&self, n: usize) {
        self.inner.lock().unwrap().fail_next = n;
    }

    fn check_fault(shop: &mut Shop) -> Result<(), SourceError> {
        if shop.fail_next > 0 {
            shop.fail_next -= 1;
            return Err(SourceError::Transient {
                message: "injected failure".into(),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl InventorySource for InMemorySource {
    async fn locations(&self) -> Result<Vec<Location>, SourceError> {
        let mut shop = self.inner.lock().unwrap();
        Self::check_fault(&mut shop)?;
        Ok(shop.locations.clone())
    }

    async fn variants_page(
        &self,
        cursor: Option<String>,
    ) -> Result<Page<VariantSnapshot>, SourceError> {
        let mut shop = self.inner.lock().unwrap();
        Self::check_fault(&mut shop)?;
        let start = match cursor {
            None => 0,
            Some(c) => c.parse::<usize>().map_err(|_| SourceError::Rejected {
                code: "BAD_CURSOR".into(),
                message: format!("cursor {c:?} is not one this source issued"),
            })?,
        };
        let end = (start + self.page_size).min(shop.variants.len());
        let items = shop.variants.get(start..end).unwrap_or_default().to_vec();
        let next_cursor = (end < shop.variants.len()).then(|| end.to_string());
        Ok(Page { items, next_cursor })
    }

    async fn variants_for_items(
        &self,
        items: &[InventoryItemId],
    ) -> Result<Vec<VariantSnapshot>, SourceError> {
        let mut shop = self.inner.lock().unwrap();
        Self::check_fault(&mut shop)?;
        shop.items_read += items.len();
        Ok(shop
            .variants
            .iter()
            .filter(|v| items.contains(&v.inventory_item_id))
            .cloned()
            .collect())
    }
}
