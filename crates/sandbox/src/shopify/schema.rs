//! The Admin GraphQL schema the emulator serves: Shopify's names for everything the adapter
//! reads, built with async-graphql.

pub(crate) mod components;
mod connection;
mod installation;
mod listing;
pub(crate) mod objects;
pub(crate) mod orders;

use std::sync::Arc;

use async_graphql::{
    Context, EmptySubscription, ErrorExtensions, InputValueError, InputValueResult, Interface,
    MaybeUndefined, Object, Result, Scalar, ScalarType, Schema, Value, ID,
};

use self::connection::{
    cut, InventoryItemConnection, LocationConnection, Page, Paged, ProductVariantConnection,
};
use self::installation::AppInstallation;
use self::listing::{
    count_variants, page_of_records, Count, ProductVariantSortKeys, DEFAULT_COUNT_LIMIT,
};
use self::objects::{InventoryItem, InventoryLevel, Location, Product, ProductVariant, Shop};
use super::bulk::{self, BulkOperation, BulkOperationRunQueryPayload, BulkOperationType};
use super::gid::{self, number_of};
use super::search::Target;
use crate::server::Shared;

/// The most ids `nodes(ids:)` takes, as on Shopify.
pub(crate) const MAX_IDS: usize = 250;

pub(crate) type ShopifySchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

pub(crate) fn build() -> ShopifySchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription).finish()
}

pub(crate) fn shared<'a>(ctx: &Context<'a>) -> &'a Arc<Shared> {
    ctx.data_unchecked::<Arc<Shared>>()
}

/// Shopify's `UnsignedInt64`: a number serialized as a string.
pub(crate) struct UnsignedInt64(pub(crate) u64);

#[Scalar(name = "UnsignedInt64")]
impl ScalarType for UnsignedInt64 {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => s
                .parse()
                .map(UnsignedInt64)
                .map_err(|_| InputValueError::custom("not an unsigned integer")),
            Value::Number(n) => n
                .as_u64()
                .map(UnsignedInt64)
                .ok_or_else(|| InputValueError::custom("not an unsigned integer")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }
    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// `Node`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub(crate) enum Node {
    Location(Location),
    ProductVariant(ProductVariant),
    Product(Product),
    InventoryItem(InventoryItem),
    InventoryLevel(InventoryLevel),
    BulkOperation(BulkOperation),
}

pub(crate) struct QueryRoot;

#[Object]
impl QueryRoot {
    async fn shop(&self) -> Shop {
        Shop
    }

    #[allow(clippy::too_many_arguments)] // Shopify's argument list
    async fn locations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        #[graphql(default = false)] include_inactive: bool,
        #[graphql(default = false)] include_legacy: bool,
        query: Option<String>,
    ) -> Result<LocationConnection> {
        let _ = (include_legacy, query);
        let page = Page::new(first, after, last, before)?;
        let locations = shared(ctx).world().shopify.locations_by_id();
        let visible = locations
            .into_iter()
            .filter(|l| include_inactive || l.active)
            .map(|l| (l.id, Location(l)));
        let (items, more) = cut(visible, &page);
        Ok(Paged::page(items, more, page.after))
    }

    async fn location(&self, ctx: &Context<'_>, id: Option<ID>) -> Option<Location> {
        let world = shared(ctx).world();
        match id {
            Some(id) => world
                .shopify
                .location(number_of(&id, "Location")?)
                .cloned()
                .map(Location),
            None => world
                .shopify
                .locations_by_id()
                .into_iter()
                .next()
                .map(Location),
        }
    }

    #[allow(clippy::too_many_arguments)] // Shopify's argument list
    async fn product_variants(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        query: Option<String>,
        #[graphql(default = false)] reverse: bool,
        #[graphql(default)] sort_key: ProductVariantSortKeys,
    ) -> Result<ProductVariantConnection> {
        // Every sort key orders by id here (see `ProductVariantSortKeys`).
        let _ = sort_key;
        let page = Page::new(first, after, last, before)?.reversed(reverse);
        let (items, more) = page_of_records(ctx, query.as_deref(), Target::Variants, &page);
        let items = items
            .into_iter()
            .map(|(k, r)| (k, ProductVariant(r)))
            .collect();
        Ok(Paged::page(items, more, page.after))
    }

    /// Variants matching `query`, up to `limit` (10,000 unless given; `null` for none).
    async fn product_variants_count(
        &self,
        ctx: &Context<'_>,
        query: Option<String>,
        limit: MaybeUndefined<i32>,
    ) -> Result<Count> {
        let limit = match limit {
            MaybeUndefined::Undefined => Some(DEFAULT_COUNT_LIMIT),
            MaybeUndefined::Null => None,
            MaybeUndefined::Value(n) => Some(u64::try_from(n).map_err(|_| {
                async_graphql::Error::new(format!("limit must be at least 0, not {n}"))
                    .extend_with(|_, e| e.set("code", "BAD_REQUEST"))
            })?),
        };
        Ok(count_variants(ctx, query.as_deref(), limit))
    }

    /// Orders, for the Shopify copies of TikTok orders (needs `read_orders`).
    #[allow(clippy::too_many_arguments)] // Shopify's argument list
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        query: Option<String>,
        #[graphql(default = false)] reverse: bool,
        #[graphql(default)] sort_key: orders::OrderSortKeys,
    ) -> Result<self::connection::OrderConnection> {
        let _ = sort_key;
        let page = Page::new(first, after, last, before)?.reversed(reverse);
        let (items, more) = orders::orders(ctx, &page, query.as_deref())?;
        Ok(Paged::page(items, more, page.after))
    }

    /// The app behind the access token, with its granted scopes.
    async fn current_app_installation(&self) -> AppInstallation {
        AppInstallation
    }

    async fn product_variant(&self, ctx: &Context<'_>, id: ID) -> Option<ProductVariant> {
        let world = shared(ctx).world();
        let record = world.shopify.variant(number_of(&id, "ProductVariant")?)?;
        Some(ProductVariant(Arc::new(record.clone())))
    }

    #[allow(clippy::too_many_arguments)] // Shopify's argument list
    async fn inventory_items(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        query: Option<String>,
        #[graphql(default = false)] reverse: bool,
    ) -> Result<InventoryItemConnection> {
        let page = Page::new(first, after, last, before)?.reversed(reverse);
        let (items, more) = page_of_records(ctx, query.as_deref(), Target::InventoryItems, &page);
        let items = items
            .into_iter()
            .map(|(k, r)| (k, InventoryItem(r)))
            .collect();
        Ok(Paged::page(items, more, page.after))
    }

    async fn inventory_item(&self, ctx: &Context<'_>, id: ID) -> Option<InventoryItem> {
        let world = shared(ctx).world();
        let record = world
            .shopify
            .variant_by_item(number_of(&id, "InventoryItem")?)?;
        Some(InventoryItem(Arc::new(record.clone())))
    }

    async fn product(&self, ctx: &Context<'_>, id: ID) -> Option<Product> {
        let world = shared(ctx).world();
        let product_id = number_of(&id, "Product")?;
        let record = world
            .shopify
            .variants_of_product(product_id)
            .into_iter()
            .next()?;
        Some(Product(Arc::new(record.clone())))
    }

    async fn node(&self, ctx: &Context<'_>, id: ID) -> Option<Node> {
        node_by_id(ctx, &id)
    }

    /// At most [`MAX_IDS`] ids, as Shopify allows; each costs one object and its selection.
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Node>>> {
        if ids.len() > MAX_IDS {
            return Err(async_graphql::Error::new(format!(
                "The input array size of {} is greater than the maximum allowed of {MAX_IDS}.",
                ids.len()
            ))
            .extend_with(|_, e| e.set("code", "MAX_INPUT_SIZE_EXCEEDED")));
        }
        Ok(ids.iter().map(|id| node_by_id(ctx, id)).collect())
    }

    async fn bulk_operation(&self, ctx: &Context<'_>, id: ID) -> Option<BulkOperation> {
        let number = number_of(&id, "BulkOperation")?;
        bulk::find(shared(ctx), number)
    }

    async fn current_bulk_operation(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type", default)] kind: BulkOperationType,
    ) -> Option<BulkOperation> {
        match kind {
            BulkOperationType::Query => bulk::current(shared(ctx)),
            BulkOperationType::Mutation => None,
        }
    }
}

fn node_by_id(ctx: &Context<'_>, id: &ID) -> Option<Node> {
    let (kind, number) = gid::parse(id)?;
    let shared = shared(ctx);
    if kind == "BulkOperation" {
        return bulk::find(shared, number).map(Node::BulkOperation);
    }
    let world = shared.world();
    let store = &world.shopify;
    let node = match kind {
        "Location" => Node::Location(Location(store.location(number)?.clone())),
        "ProductVariant" => {
            Node::ProductVariant(ProductVariant(Arc::new(store.variant(number)?.clone())))
        }
        "InventoryItem" => Node::InventoryItem(InventoryItem(Arc::new(
            store.variant_by_item(number)?.clone(),
        ))),
        "Product" => Node::Product(Product(Arc::new(
            store
                .variants_of_product(number)
                .into_iter()
                .next()?
                .clone(),
        ))),
        "InventoryLevel" => {
            let item: u64 = id.split("inventory_item_id=").nth(1)?.parse().ok()?;
            let record = store.variant_by_item(item)?;
            let (level, at) = record.level(number)?;
            Node::InventoryLevel(InventoryLevel {
                record: Arc::new(record.clone()),
                location_id: number,
                available: level.available,
                updated_at: at,
            })
        }
        _ => return None,
    };
    Some(node)
}

pub(crate) struct MutationRoot;

#[Object]
impl MutationRoot {
    async fn bulk_operation_run_query(
        &self,
        ctx: &Context<'_>,
        query: String,
        group_objects: Option<bool>,
    ) -> BulkOperationRunQueryPayload {
        bulk::run_query(shared(ctx), &query, group_objects.unwrap_or(false))
    }
}
