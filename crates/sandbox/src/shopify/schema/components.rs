//! Bundles: `ProductVariant.requiresComponents` and `productVariantComponents`, each node a
//! `ProductVariantComponent { id quantity productVariant }` under Shopify's names.

use std::sync::Arc;

use async_graphql::{Object, ID};

use super::objects::ProductVariant;
use crate::fixture::{self, Variant};
use crate::shopify::gid::gid;
use crate::store::shopify::{ShopifyStore, VariantRecord};

/// `ProductVariantComponent`.
#[derive(Clone)]
pub(crate) struct ProductVariantComponent {
    id: u64,
    quantity: u32,
    variant: ProductVariant,
}

#[Object]
impl ProductVariantComponent {
    async fn id(&self) -> ID {
        ID(gid("ProductVariantComponent", self.id))
    }
    async fn quantity(&self) -> u32 {
        self.quantity
    }
    async fn product_variant(&self) -> ProductVariant {
        self.variant.clone()
    }
}

/// The id of a bundle's `index`-th component: distinct across bundles, ascending in list
/// order (the bulk export's readers order components by it).
pub(crate) fn component_id(bundle: u64, index: usize) -> u64 {
    bundle.saturating_mul(100).saturating_add(index as u64 + 1)
}

/// The components of `bundle`, keyed by their position (1-based) for paging. A component that
/// is no variant of the store is served by its id alone: nothing else of it can be read.
pub(crate) fn components_of(
    store: &ShopifyStore,
    bundle: &Variant,
) -> Vec<(u64, ProductVariantComponent)> {
    bundle
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let record = match store.variant(c.variant_id) {
                Some(record) => record.clone(),
                None => unreadable(c),
            };
            let node = ProductVariantComponent {
                id: component_id(bundle.id, i),
                quantity: c.quantity,
                variant: ProductVariant(Arc::new(record)),
            };
            (i as u64 + 1, node)
        })
        .collect()
}

fn unreadable(component: &fixture::Component) -> VariantRecord {
    VariantRecord {
        variant: Variant {
            id: component.variant_id,
            product_id: 0,
            sku: None,
            inventory_item_id: 0,
            tracked: true,
            inventory_policy: fixture::InventoryPolicy::Deny,
            product_status: fixture::ProductStatus::Active,
            levels: Vec::new(),
            components: Vec::new(),
        },
        updated_at: 0,
        level_updated_at: Vec::new(),
    }
}
