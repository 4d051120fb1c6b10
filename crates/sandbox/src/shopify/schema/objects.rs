//! The GraphQL objects, under Shopify's names: Location, ProductVariant, Product,
//! InventoryItem, InventoryLevel, InventoryQuantity, Shop.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, Result, ID};

use super::components::components_of;
use super::connection::{
    cut, InventoryLevelConnection, Page, Paged, ProductVariantComponentConnection,
    ProductVariantConnection,
};
use super::{shared, UnsignedInt64};
use crate::clock;
use crate::fixture;
use crate::shopify::gid::{gid, level_gid, number_of};
use crate::store::shopify::VariantRecord;

/// `ProductVariantInventoryPolicy`.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ProductVariantInventoryPolicy")]
pub(crate) enum InventoryPolicy {
    Deny,
    Continue,
}

/// `ProductStatus`.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ProductStatus")]
pub(crate) enum ProductStatus {
    Active,
    Archived,
    Draft,
    Unlisted,
}

impl From<fixture::InventoryPolicy> for InventoryPolicy {
    fn from(p: fixture::InventoryPolicy) -> Self {
        match p {
            fixture::InventoryPolicy::Deny => InventoryPolicy::Deny,
            fixture::InventoryPolicy::Continue => InventoryPolicy::Continue,
        }
    }
}

impl From<fixture::ProductStatus> for ProductStatus {
    fn from(s: fixture::ProductStatus) -> Self {
        match s {
            fixture::ProductStatus::Active => ProductStatus::Active,
            fixture::ProductStatus::Archived => ProductStatus::Archived,
            fixture::ProductStatus::Draft => ProductStatus::Draft,
            fixture::ProductStatus::Unlisted => ProductStatus::Unlisted,
        }
    }
}

/// `Shop`.
pub(crate) struct Shop;

#[Object]
impl Shop {
    pub(crate) async fn id(&self) -> ID {
        ID(gid("Shop", 1))
    }
    async fn name(&self, ctx: &Context<'_>) -> String {
        let domain = &shared(ctx).credentials.shop_domain;
        domain.split('.').next().unwrap_or(domain).to_owned()
    }
    async fn myshopify_domain(&self, ctx: &Context<'_>) -> String {
        shared(ctx).credentials.shop_domain.clone()
    }
}

/// `Location`.
#[derive(Clone)]
pub(crate) struct Location(pub(crate) fixture::Location);

#[Object]
impl Location {
    pub(crate) async fn id(&self) -> ID {
        ID(gid("Location", self.0.id))
    }
    async fn legacy_resource_id(&self) -> UnsignedInt64 {
        UnsignedInt64(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn is_active(&self) -> bool {
        self.0.active
    }
    async fn fulfills_online_orders(&self) -> bool {
        self.0.fulfills_online_orders
    }
    async fn activatable(&self) -> bool {
        !self.0.active
    }
    async fn deactivatable(&self) -> bool {
        self.0.active
    }
    async fn deactivated_at(&self) -> Option<String> {
        None
    }
}

/// `ProductVariant`.
#[derive(Clone)]
pub(crate) struct ProductVariant(pub(crate) Arc<VariantRecord>);

#[Object]
impl ProductVariant {
    pub(crate) async fn id(&self) -> ID {
        ID(gid("ProductVariant", self.0.variant.id))
    }
    async fn legacy_resource_id(&self) -> UnsignedInt64 {
        UnsignedInt64(self.0.variant.id)
    }
    async fn sku(&self) -> Option<&str> {
        self.0.variant.sku.as_deref()
    }
    async fn title(&self) -> String {
        self.0
            .variant
            .sku
            .clone()
            .unwrap_or_else(|| "Default Title".to_owned())
    }
    async fn inventory_policy(&self) -> InventoryPolicy {
        self.0.variant.inventory_policy.into()
    }
    /// Sum of `available` over the variant's levels.
    async fn inventory_quantity(&self) -> i64 {
        self.0.variant.total_available()
    }
    async fn updated_at(&self) -> String {
        clock::rfc3339_seconds(self.0.updated_at.div_euclid(1000))
    }
    async fn product(&self) -> Product {
        Product(self.0.clone())
    }
    async fn inventory_item(&self) -> InventoryItem {
        InventoryItem(self.0.clone())
    }
    /// Whether the variant is a bundle, whose stock is made of its components.
    async fn requires_components(&self) -> bool {
        !self.0.variant.components.is_empty()
    }
    async fn product_variant_components(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<ProductVariantComponentConnection> {
        let page = Page::new(first, after, last, before)?;
        let world = shared(ctx).world();
        let components = components_of(&world.shopify, &self.0.variant);
        let (items, more) = cut(components.into_iter(), &page);
        Ok(Paged::page(items, more, page.after))
    }
}

/// `Product` (seen through one of its variants).
#[derive(Clone)]
pub(crate) struct Product(pub(crate) Arc<VariantRecord>);

#[Object]
impl Product {
    pub(crate) async fn id(&self) -> ID {
        ID(gid("Product", self.0.variant.product_id))
    }
    async fn legacy_resource_id(&self) -> UnsignedInt64 {
        UnsignedInt64(self.0.variant.product_id)
    }
    async fn status(&self) -> ProductStatus {
        self.0.variant.product_status.into()
    }
}

/// `InventoryItem`.
#[derive(Clone)]
pub(crate) struct InventoryItem(pub(crate) Arc<VariantRecord>);

#[Object]
impl InventoryItem {
    pub(crate) async fn id(&self) -> ID {
        ID(gid("InventoryItem", self.0.variant.inventory_item_id))
    }
    async fn legacy_resource_id(&self) -> UnsignedInt64 {
        UnsignedInt64(self.0.variant.inventory_item_id)
    }
    async fn sku(&self) -> Option<&str> {
        self.0.variant.sku.as_deref()
    }
    async fn tracked(&self) -> bool {
        self.0.variant.tracked
    }
    async fn requires_shipping(&self) -> bool {
        true
    }
    async fn updated_at(&self) -> String {
        clock::rfc3339_seconds(self.0.updated_at.div_euclid(1000))
    }
    /// Deprecated in Shopify; kept because clients still use it.
    async fn variant(&self) -> ProductVariant {
        ProductVariant(self.0.clone())
    }
    async fn variants(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<ProductVariantConnection> {
        let page = Page::new(first, after, last, before)?;
        let one = std::iter::once((self.0.variant.id, ProductVariant(self.0.clone())));
        let (items, more) = cut(one, &page);
        Ok(Paged::page(items, more, page.after))
    }
    #[allow(clippy::too_many_arguments)] // Shopify's argument list
    async fn inventory_levels(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        #[graphql(default = false)] include_inactive: bool,
        query: Option<String>,
    ) -> Result<InventoryLevelConnection> {
        // Levels are all active here; a level query filter is not supported and ignored.
        let _ = (include_inactive, query);
        let page = Page::new(first, after, last, before)?;
        let mut levels = self.levels();
        levels.sort_by_key(|(key, _)| *key);
        let (items, more) = cut(levels.into_iter(), &page);
        Ok(Paged::page(items, more, page.after))
    }
    async fn inventory_level(&self, location_id: ID) -> Option<InventoryLevel> {
        let location = number_of(&location_id, "Location")?;
        self.levels()
            .into_iter()
            .find(|(id, _)| *id == location)
            .map(|(_, level)| level)
    }
}

impl InventoryItem {
    fn levels(&self) -> Vec<(u64, InventoryLevel)> {
        let record = &self.0;
        record
            .variant
            .levels
            .iter()
            .zip(&record.level_updated_at)
            .map(|(level, at)| {
                (
                    level.location_id,
                    InventoryLevel {
                        record: record.clone(),
                        location_id: level.location_id,
                        available: level.available,
                        updated_at: *at,
                    },
                )
            })
            .collect()
    }
}

/// `InventoryLevel`.
#[derive(Clone)]
pub(crate) struct InventoryLevel {
    pub(crate) record: Arc<VariantRecord>,
    pub(crate) location_id: u64,
    pub(crate) available: i64,
    pub(crate) updated_at: i64,
}

#[Object]
impl InventoryLevel {
    pub(crate) async fn id(&self) -> ID {
        ID(level_gid(
            self.record.variant.inventory_item_id,
            self.location_id,
        ))
    }
    async fn is_active(&self) -> bool {
        true
    }
    async fn updated_at(&self) -> String {
        clock::rfc3339_seconds(self.updated_at.div_euclid(1000))
    }
    async fn item(&self) -> InventoryItem {
        InventoryItem(self.record.clone())
    }
    async fn location(&self, ctx: &Context<'_>) -> Result<Location> {
        let world = shared(ctx).world();
        world
            .shopify
            .location(self.location_id)
            .cloned()
            .map(Location)
            .ok_or_else(|| format!("location {} is gone", self.location_id).into())
    }
    /// `available` and `on_hand` are the level's number; other names are 0.
    async fn quantities(&self, names: Vec<String>) -> Vec<InventoryQuantity> {
        names
            .into_iter()
            .map(|name| {
                let quantity = match name.as_str() {
                    "available" | "on_hand" => self.available,
                    _ => 0,
                };
                InventoryQuantity {
                    name,
                    quantity,
                    updated_at: self.updated_at,
                }
            })
            .collect()
    }
}

/// `InventoryQuantity`.
pub(crate) struct InventoryQuantity {
    name: String,
    quantity: i64,
    updated_at: i64,
}

#[Object]
impl InventoryQuantity {
    async fn name(&self) -> &str {
        &self.name
    }
    async fn quantity(&self) -> i64 {
        self.quantity
    }
    async fn updated_at(&self) -> Option<String> {
        Some(clock::rfc3339_seconds(self.updated_at.div_euclid(1000)))
    }
}
