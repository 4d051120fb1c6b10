//! Listing variants and inventory items: searched (`query:`), ordered by id (`reverse:`), cut to
//! a page, or counted (`productVariantsCount`).

use std::sync::Arc;

use async_graphql::{Context, Enum, SimpleObject};

use super::connection::{cut, Page};
use super::shared;
use crate::shopify::search::{Search, Target};
use crate::store::shopify::VariantRecord;

/// `ProductVariantSortKeys`. All are accepted; the sandbox orders by id whatever the key,
/// which is Shopify's default (`ID`) and what cursor paging relies on.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ProductVariantSortKeys {
    FullTitle,
    #[default]
    Id,
    InventoryLevelsAvailable,
    InventoryManagement,
    InventoryPolicy,
    InventoryQuantity,
    Name,
    Popular,
    Position,
    Relevance,
    Sku,
    Title,
}

/// `CountPrecision`.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CountPrecision {
    /// The count is the number of matches.
    Exact,
    /// There are at least `count` matches: the count stopped at its limit.
    AtLeast,
}

/// `Count`.
#[derive(SimpleObject)]
pub(crate) struct Count {
    count: u64,
    precision: CountPrecision,
}

/// Shopify's default upper bound of a count.
pub(crate) const DEFAULT_COUNT_LIMIT: u64 = 10_000;

pub(crate) type Records = (Vec<(u64, Arc<VariantRecord>)>, bool);

/// One page of variants (keyed by variant id) or inventory items (keyed by item id).
pub(crate) fn page_of_records(
    ctx: &Context<'_>,
    query: Option<&str>,
    target: Target,
    page: &Page,
) -> Records {
    let world = shared(ctx).world();
    let store = &world.shopify;
    let search = query.map(|q| Search::parse(q, target));
    let key_of = |i: usize| {
        let v = &store.variant_at(i).variant;
        match target {
            Target::Variants => v.id,
            Target::InventoryItems => v.inventory_item_id,
        }
    };
    let matches = |i: usize| {
        search
            .as_ref()
            .is_none_or(|s| s.matches(store.variant_at(i)))
    };
    let pinned = search.as_ref().and_then(|s| s.candidates(store));
    let (items, more) = match pinned {
        Some(indexes) => {
            let mut keyed: Vec<(u64, usize)> = indexes
                .into_iter()
                .filter(|&i| matches(i))
                .map(|i| (key_of(i), i))
                .collect();
            keyed.sort_unstable();
            if page.descending {
                keyed.reverse();
            }
            cut(keyed.into_iter(), page)
        }
        None => {
            let sorted = match target {
                Target::Variants => store.sorted_variants(),
                Target::InventoryItems => store.sorted_items(),
            };
            if page.descending {
                let end = page.after.map_or(sorted.len(), |after| {
                    sorted.partition_point(|(k, _)| *k < after)
                });
                let iter = sorted[..end]
                    .iter()
                    .rev()
                    .copied()
                    .filter(|&(_, i)| matches(i));
                cut(iter, page)
            } else {
                let start = page
                    .after
                    .map_or(0, |after| sorted.partition_point(|(k, _)| *k <= after));
                let iter = sorted[start..].iter().copied().filter(|&(_, i)| matches(i));
                cut(iter, page)
            }
        }
    };
    let items = items
        .into_iter()
        .map(|(k, i)| (k, Arc::new(store.variant_at(i).clone())))
        .collect();
    (items, more)
}

/// How many variants match `query`, counting no further than `limit` when there is one.
pub(crate) fn count_variants(ctx: &Context<'_>, query: Option<&str>, limit: Option<u64>) -> Count {
    let world = shared(ctx).world();
    let store = &world.shopify;
    let search = query.map(|q| Search::parse(q, Target::Variants));
    let found = match &search {
        None => store.variant_count() as u64,
        Some(search) => match search.candidates(store) {
            Some(indexes) => indexes
                .into_iter()
                .filter(|&i| search.matches(store.variant_at(i)))
                .count() as u64,
            None => store
                .sorted_variants()
                .iter()
                .filter(|&&(_, i)| search.matches(store.variant_at(i)))
                .count() as u64,
        },
    };
    match limit {
        Some(limit) if found > limit => Count {
            count: limit,
            precision: CountPrecision::AtLeast,
        },
        _ => Count {
            count: found,
            precision: CountPrecision::Exact,
        },
    }
}
