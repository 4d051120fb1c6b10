//! `orders` and the `Order` object, under Shopify's names (shopify-api.md, "Orders and
//! bundles"): the fields an order-sync app writes a TikTok order id to (`sourceIdentifier`,
//! `tags`, `customAttributes`, `note`), `createdAt` and the line items. Reading them needs the
//! `read_orders` scope; without it the query is refused with `ACCESS_DENIED`.

use std::sync::Arc;

use async_graphql::{Context, Enum, Error, ErrorExtensions, Object, Result, SimpleObject, ID};

use super::connection::{cut, LineItemConnection, Page, Paged};
use super::objects::ProductVariant;
use super::{shared, UnsignedInt64};
use crate::clock;
use crate::fixture::ShopifyOrder;
use crate::shopify::gid::gid;

/// `OrderSortKeys`. All are accepted; the sandbox orders by id whatever the key (ids follow
/// creation here), which cursor paging relies on.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum OrderSortKeys {
    CreatedAt,
    #[default]
    Id,
    ProcessedAt,
    UpdatedAt,
}

/// `Order`.
#[derive(Clone)]
pub(crate) struct Order(pub(crate) Arc<ShopifyOrder>);

/// `Attribute`.
#[derive(SimpleObject, Clone)]
pub(crate) struct Attribute {
    key: String,
    value: Option<String>,
}

#[Object]
impl Order {
    async fn id(&self) -> ID {
        ID(gid("Order", self.0.id))
    }
    async fn legacy_resource_id(&self) -> UnsignedInt64 {
        UnsignedInt64(self.0.id)
    }
    async fn name(&self) -> String {
        format!("#{}", self.0.id)
    }
    async fn created_at(&self) -> Option<String> {
        self.0.created_at.clone()
    }
    async fn updated_at(&self) -> Option<String> {
        self.0.created_at.clone()
    }
    async fn source_identifier(&self) -> Option<String> {
        self.0.source_identifier.clone()
    }
    async fn tags(&self) -> Vec<String> {
        self.0.tags.clone()
    }
    async fn note(&self) -> Option<String> {
        self.0.note.clone()
    }
    async fn custom_attributes(&self) -> Vec<Attribute> {
        self.0
            .custom_attributes
            .iter()
            .map(|a| Attribute {
                key: a.key.clone(),
                value: Some(a.value.clone()),
            })
            .collect()
    }
    async fn line_items(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<LineItemConnection> {
        let page = Page::new(first, after, last, before)?;
        let lines = self.0.lines.iter().enumerate().map(|(i, line)| {
            let key = i as u64 + 1;
            let item = LineItem {
                id: self.0.id * 1000 + key,
                variant_id: line.variant_id,
                quantity: line.quantity,
            };
            (key, item)
        });
        let (items, more) = cut(lines, &page);
        Ok(Paged::page(items, more, page.after))
    }
}

/// `LineItem`.
#[derive(Clone)]
pub(crate) struct LineItem {
    id: u64,
    variant_id: u64,
    quantity: u64,
}

#[Object]
impl LineItem {
    async fn id(&self) -> ID {
        ID(gid("LineItem", self.id))
    }
    async fn quantity(&self) -> i64 {
        i64::try_from(self.quantity).unwrap_or(i64::MAX)
    }
    async fn sku(&self, ctx: &Context<'_>) -> Option<String> {
        let world = shared(ctx).world();
        world.shopify.variant(self.variant_id)?.variant.sku.clone()
    }
    async fn variant(&self, ctx: &Context<'_>) -> Option<ProductVariant> {
        let world = shared(ctx).world();
        let record = world.shopify.variant(self.variant_id)?;
        Some(ProductVariant(Arc::new(record.clone())))
    }
}

/// The orders a query selects, ascending by id (which follows creation here): every sort key
/// orders by id, as for `productVariants`.
pub(crate) fn orders(
    ctx: &Context<'_>,
    page: &Page,
    query: Option<&str>,
) -> Result<(Vec<(u64, Order)>, bool)> {
    let shared = shared(ctx);
    if !shared.credentials.has_shopify_scope("read_orders") {
        return Err(Error::new(
            "Access denied for orders field. Required access: `read_orders` access scope.",
        )
        .extend_with(|_, e| {
            e.set("code", "ACCESS_DENIED");
            e.set("requiredAccess", "`read_orders` access scope.");
        }));
    }
    let filter = Filter::parse(query.unwrap_or(""));
    let world = shared.world();
    let mut selected: Vec<(u64, Order)> = world
        .orders
        .shopify_orders()
        .iter()
        .filter(|o| filter.matches(o))
        .map(|o| (o.id, Order(Arc::new(o.clone()))))
        .collect();
    selected.sort_by_key(|(id, _)| *id);
    if page.descending {
        selected.reverse();
    }
    Ok(cut(selected.into_iter(), page))
}

/// `created_at` / `updated_at` comparisons (`>`, `>=`, `<`, `<=`, `:`), joined by AND; any
/// other term matches nothing.
struct Filter {
    terms: Vec<Option<(std::cmp::Ordering, bool, i64)>>,
}

impl Filter {
    fn parse(text: &str) -> Filter {
        let terms = text
            .split_whitespace()
            .filter(|t| *t != "AND")
            .map(|term| {
                let (field, raw) = term.split_once(':')?;
                if field != "created_at" && field != "updated_at" {
                    return None;
                }
                let (ordering, inclusive, value) = if let Some(v) = raw.strip_prefix(">=") {
                    (std::cmp::Ordering::Greater, true, v)
                } else if let Some(v) = raw.strip_prefix('>') {
                    (std::cmp::Ordering::Greater, false, v)
                } else if let Some(v) = raw.strip_prefix("<=") {
                    (std::cmp::Ordering::Less, true, v)
                } else if let Some(v) = raw.strip_prefix('<') {
                    (std::cmp::Ordering::Less, false, v)
                } else {
                    (std::cmp::Ordering::Equal, true, raw)
                };
                Some((ordering, inclusive, clock::parse_rfc3339(value)?))
            })
            .collect();
        Filter { terms }
    }

    fn matches(&self, order: &ShopifyOrder) -> bool {
        let created = order
            .created_at
            .as_deref()
            .and_then(clock::parse_rfc3339)
            .unwrap_or(0);
        self.terms.iter().all(|term| {
            let Some((ordering, inclusive, at)) = term else {
                return false;
            };
            let cmp = created.cmp(at);
            cmp == *ordering || (*inclusive && cmp == std::cmp::Ordering::Equal)
        })
    }
}
