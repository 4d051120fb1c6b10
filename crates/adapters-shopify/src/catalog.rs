//! Reading the catalog page by page: locations, variant pages with their levels (following
//! up on items stocked at more locations than one levels page holds), and the variants of
//! given inventory items. Page sizes shrink to fit the shop's cost bucket.

mod query;
pub(crate) mod wire;

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize;
use serde_json::json;
use stockbridge_domain::{InventoryItemId, Location, StockLevel, VariantSnapshot};
use stockbridge_ports::{Page, SourceError};

pub(crate) use query::BULK_VARIANTS;
use wire::{ComponentNode, Connection, ItemNode, LevelNode, LocationNode, Partial, VariantNode};

use crate::client::{GraphqlClient, Query};
use crate::error::AnswerError;

/// Cost of one level node: the level, its location and its quantities.
const LEVEL_COST: u64 = 3;
/// Cost of one variant node without its levels: the variant, its product, its inventory item
/// and the levels connection's own 2.
const VARIANT_COST: u64 = 5;
/// Cost of one bundle in a components query: the variant, the components connection's own 2,
/// and 31 components with their variant.
const BUNDLE_COST: u64 = 1 + 2 + 31 * 2;
/// Bundles per components query: 15 × 65 + 2 = 977 points, under Shopify's 1000.
const BUNDLES_PER_QUERY: usize = 15;
/// Locations per page (Shopify's maximum).
const LOCATIONS_PAGE: usize = 250;

/// The requested cost of a variants page: `2 + variants × (5 + 3 × levels)`.
pub(crate) fn page_cost(variants: usize, levels: usize) -> u64 {
    2 + variants as u64 * (VARIANT_COST + LEVEL_COST * levels as u64)
}

/// Page sizes for one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sizes {
    pub(crate) variants: usize,
    pub(crate) levels: usize,
}

impl Sizes {
    /// These sizes, shrunk until a page costs no more than the bucket holds: fewer variants
    /// first, then fewer levels per variant (the rest come in follow-ups).
    pub(crate) fn fit(self, bucket: Option<f64>) -> Sizes {
        let Some(bucket) = bucket else { return self };
        let budget = bucket.max(0.0) as u64;
        if page_cost(self.variants, self.levels) <= budget {
            return self;
        }
        let per_variant = VARIANT_COST + LEVEL_COST * self.levels as u64;
        let variants = (budget.saturating_sub(2) / per_variant).max(1) as usize;
        if variants > 1 || page_cost(1, self.levels) <= budget {
            return Sizes {
                variants,
                levels: self.levels,
            };
        }
        let levels = (budget.saturating_sub(2 + VARIANT_COST) / LEVEL_COST).max(1) as usize;
        Sizes {
            variants: 1,
            levels: levels.min(self.levels),
        }
    }
}

fn fit_count(wanted: usize, per_item: u64, bucket: Option<f64>) -> usize {
    match bucket {
        None => wanted,
        Some(b) => {
            ((b.max(0.0) as u64).saturating_sub(2) / per_item).clamp(1, wanted as u64) as usize
        }
    }
}

#[derive(Deserialize)]
struct LocationsData {
    locations: Connection<LocationNode>,
}

/// Every location, active or not.
pub(crate) async fn locations(client: &GraphqlClient) -> Result<Vec<Location>, SourceError> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data: LocationsData = client
            .run(|bucket| Query {
                operation: "locations",
                text: query::LOCATIONS,
                variables: json!({ "first": fit_count(LOCATIONS_PAGE, 1, bucket), "after": after }),
                shape: "locations".into(),
                estimated_cost: page_cost(0, 0) + LOCATIONS_PAGE as u64,
            })
            .await?;
        for node in data.locations.nodes {
            all.push(node.into_domain()?);
        }
        match data.locations.page_info.next() {
            Some(cursor) => after = Some(cursor),
            None => return Ok(all),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VariantsData {
    product_variants: Connection<VariantNode>,
}

/// One page of variants, each with all of its levels.
pub(crate) async fn variants_page(
    client: &GraphqlClient,
    sizes: Sizes,
    cursor: Option<String>,
) -> Result<Page<VariantSnapshot>, SourceError> {
    let data: VariantsData = client
        .run(|bucket| {
            let fit = sizes.fit(bucket);
            Query {
                operation: "productVariants page",
                text: query::VARIANTS_PAGE,
                variables: json!({ "first": fit.variants, "after": cursor, "levels": fit.levels }),
                shape: format!("variants:{}x{}", fit.variants, fit.levels),
                estimated_cost: page_cost(fit.variants, fit.levels),
            }
        })
        .await?;
    let next_cursor = data.product_variants.page_info.next();
    let partials = data
        .product_variants
        .nodes
        .into_iter()
        .map(VariantNode::into_partial)
        .collect::<Result<Vec<_>, AnswerError>>()?;
    let items = complete(client, sizes, partials).await?;
    Ok(Page { items, next_cursor })
}

/// Snapshots with every level: follows up on items whose first levels page was full.
async fn complete(
    client: &GraphqlClient,
    sizes: Sizes,
    partials: Vec<Partial>,
) -> Result<Vec<VariantSnapshot>, SourceError> {
    let mut out = Vec::with_capacity(partials.len());
    for partial in partials {
        let mut snapshot = partial.snapshot;
        if let Some(cursor) = partial.more_levels {
            let more = more_levels(client, sizes, &partial.item_gid, cursor).await?;
            snapshot.levels.extend(more);
        }
        snapshot.levels.sort_by_key(|l| l.location);
        out.push(snapshot);
    }
    attach_components(client, &mut out).await?;
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ComponentsData {
    product_variants: Connection<BundleNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BundleNode {
    id: String,
    product_variant_components: ComponentNodes,
}

#[derive(Deserialize)]
struct ComponentNodes {
    nodes: Vec<ComponentNode>,
}

/// Reads the components of the bundles among `snapshots` (`requiresComponents`, read with
/// their variant), [`BUNDLES_PER_QUERY`] bundles per query. A bundle that the search no
/// longer finds keeps an empty list, which makes it unreadable rather than guessed.
async fn attach_components(
    client: &GraphqlClient,
    snapshots: &mut [VariantSnapshot],
) -> Result<(), SourceError> {
    let bundles: Vec<u64> = snapshots
        .iter()
        .filter(|s| s.components.as_ref().is_some_and(Vec::is_empty))
        .map(|s| s.variant_id.get())
        .collect();
    for chunk in bundles.chunks(BUNDLES_PER_QUERY) {
        let search = chunk
            .iter()
            .map(|id| format!("id:{id}"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let mut after: Option<String> = None;
        loop {
            let data: ComponentsData = client
                .run(|bucket| {
                    let first = fit_count(chunk.len(), BUNDLE_COST, bucket);
                    Query {
                        operation: "productVariantComponents",
                        text: query::COMPONENTS,
                        variables: json!({ "first": first, "after": after, "query": search }),
                        shape: format!("components:{first}"),
                        estimated_cost: 2 + first as u64 * BUNDLE_COST,
                    }
                })
                .await?;
            for node in data.product_variants.nodes {
                let id = crate::gid::variant(&node.id)?;
                let Some(bundle) = snapshots.iter_mut().find(|s| s.variant_id == id) else {
                    continue;
                };
                let list = node
                    .product_variant_components
                    .nodes
                    .into_iter()
                    .map(ComponentNode::into_domain)
                    .collect::<Result<Vec<_>, AnswerError>>()?;
                if let Some(components) = bundle.components.as_mut() {
                    *components = list;
                }
            }
            match data.product_variants.page_info.next() {
                Some(cursor) => after = Some(cursor),
                None => break,
            }
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemLevelsData {
    inventory_item: Option<ItemLevels>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemLevels {
    inventory_levels: Connection<LevelNode>,
}

/// The levels of one item from `cursor` on.
async fn more_levels(
    client: &GraphqlClient,
    sizes: Sizes,
    item_gid: &str,
    cursor: String,
) -> Result<Vec<StockLevel>, SourceError> {
    let mut levels = Vec::new();
    let mut after = Some(cursor);
    // A follow-up reads one item, so it can take a whole page of variants' worth of levels.
    let wanted = (sizes.variants * sizes.levels).clamp(1, 250);
    while let Some(cursor) = after.take() {
        let data: ItemLevelsData = client
            .run(|bucket| {
                let first = fit_count(wanted, LEVEL_COST, bucket.map(|b| b - 1.0));
                Query {
                    operation: "inventoryItem levels",
                    text: query::ITEM_LEVELS,
                    variables: json!({ "id": item_gid, "levels": first, "after": cursor }),
                    shape: format!("item-levels:{first}"),
                    estimated_cost: 3 + LEVEL_COST * first as u64,
                }
            })
            .await?;
        // The item vanished between the two reads: the levels read so far are all it has.
        let Some(item) = data.inventory_item else {
            break;
        };
        after = item.inventory_levels.page_info.next();
        let (page, _) = wire::levels_of(Some(item.inventory_levels))?;
        levels.extend(page);
    }
    Ok(levels)
}

/// The most ids one `nodes(ids:)` query takes (Shopify's limit).
pub(crate) const MAX_IDS: usize = 250;

/// The requested cost of reading `items` inventory items by id with `levels` levels each:
/// per item, the item, its variant and product, and its levels connection.
pub(crate) fn items_cost(items: usize, levels: usize) -> u64 {
    items as u64 * (VARIANT_COST + LEVEL_COST * levels as u64)
}

/// How many of `wanted` items one query reads: as many as fit the single-query limit (or
/// the bucket's size, when smaller) and what the bucket holds now, at least one (which then
/// waits for the bucket) and at most [`MAX_IDS`].
pub(crate) fn items_per_query(
    wanted: usize,
    levels: usize,
    maximum: Option<f64>,
    holds: Option<f64>,
) -> usize {
    let mut budget = crate::config::MAX_QUERY_COST as f64;
    for limit in [maximum, holds].into_iter().flatten() {
        budget = budget.min(limit.max(0.0));
    }
    let each = items_cost(1, levels) as f64;
    let fit = (budget / each).floor() as usize;
    fit.clamp(1, wanted.clamp(1, MAX_IDS))
}

#[derive(Deserialize)]
struct NodesData {
    nodes: Vec<Option<ItemNode>>,
}

/// The snapshots of the variants of these items, read by id in as few queries as the cost
/// limits allow ([`items_per_query`]), `levels` levels per item in the first query (an item
/// stocked at more locations gets the rest in follow-ups), at most `sizes.variants` ids per
/// query. Unknown ids are left out.
pub(crate) async fn variants_for_items(
    client: &GraphqlClient,
    sizes: Sizes,
    items: &[InventoryItemId],
) -> Result<Vec<VariantSnapshot>, SourceError> {
    let mut ids: Vec<u64> = items.iter().map(|i| i.get()).collect();
    ids.sort_unstable();
    ids.dedup();
    let levels = sizes.levels;
    let mut out = Vec::with_capacity(ids.len());
    let mut rest = ids.as_slice();
    while !rest.is_empty() {
        let wanted = items_per_query(
            rest.len().min(sizes.variants),
            levels,
            client.bucket_maximum(),
            client.bucket_holds(),
        );
        // A bucket found smaller than thought while sending shrinks the batch again.
        let sent = AtomicUsize::new(wanted);
        let data: NodesData = client
            .run(|bucket| {
                let n = items_per_query(wanted, levels, bucket, None);
                sent.store(n, Ordering::Relaxed);
                let gids: Vec<String> = rest[..n]
                    .iter()
                    .map(|id| crate::gid::format(crate::gid::INVENTORY_ITEM, *id))
                    .collect();
                Query {
                    operation: "inventory items by id",
                    text: query::ITEMS_BY_ID,
                    variables: json!({ "ids": gids, "levels": levels }),
                    shape: format!("items-by-id:{n}x{levels}"),
                    estimated_cost: items_cost(n, levels),
                }
            })
            .await?;
        let n = sent.load(Ordering::Relaxed).min(rest.len());
        let mut partials = Vec::with_capacity(n);
        for node in data.nodes.into_iter().flatten() {
            if let Some(partial) = node.into_partial()? {
                partials.push(partial);
            }
        }
        out.extend(complete(client, sizes, partials).await?);
        rest = &rest[n..];
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CountData {
    product_variants_count: Count,
}

/// `productVariantsCount`: Shopify caps the count (10,000 by default) and then says the
/// precision is `AT_LEAST`.
#[derive(Debug, Deserialize)]
pub(crate) struct Count {
    pub(crate) count: u64,
    #[serde(default)]
    pub(crate) precision: Option<String>,
}

impl Count {
    /// Whether the shop has more variants than `threshold`.
    pub(crate) fn exceeds(&self, threshold: u64) -> bool {
        self.count > threshold
            || (self.count == threshold && self.precision.as_deref() == Some("AT_LEAST"))
    }
}

/// How many variants the shop has.
pub(crate) async fn variant_count(client: &GraphqlClient) -> Result<Count, SourceError> {
    let data: CountData = client
        .run(|_| Query {
            operation: "productVariantsCount",
            text: query::VARIANT_COUNT,
            variables: json!({}),
            shape: "variant-count".into(),
            estimated_cost: 1,
        })
        .await?;
    Ok(data.product_variants_count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_components_query_of_15_bundles_fits_shopifys_1000_points() {
        assert_eq!(2 + BUNDLES_PER_QUERY as u64 * BUNDLE_COST, 977);
        assert!(2 + (BUNDLES_PER_QUERY as u64 + 1) * BUNDLE_COST > 1000);
    }

    #[test]
    fn items_by_id_fill_the_single_query_limit() {
        // One level each: 8 points an item, 125 items in 1000 points.
        assert_eq!(items_per_query(400, 1, None, None), 125);
        assert!(items_cost(125, 1) <= 1000 && items_cost(126, 1) > 1000);
        assert_eq!(
            items_per_query(40, 1, None, None),
            40,
            "no more than wanted"
        );
        // Ten levels each: 35 points an item.
        assert_eq!(items_per_query(400, 10, Some(2000.0), None), 28);
        assert_eq!(
            items_per_query(1000, 0, None, None),
            200,
            "5 points an item without levels"
        );
        assert!(items_per_query(1000, 0, None, None) <= MAX_IDS);
    }

    #[test]
    fn items_by_id_fit_what_the_bucket_holds_now_and_its_size() {
        assert_eq!(items_per_query(400, 1, Some(2000.0), Some(100.0)), 12);
        assert!(items_cost(12, 1) <= 100);
        assert_eq!(
            items_per_query(400, 1, Some(50.0), Some(2000.0)),
            6,
            "a small bucket"
        );
        assert_eq!(
            items_per_query(400, 1, Some(2000.0), Some(3.0)),
            1,
            "one item waits for the bucket rather than none"
        );
        assert_eq!(items_per_query(400, 1, Some(2000.0), Some(-40.0)), 1);
    }

    #[test]
    fn default_page_costs_877_points() {
        assert_eq!(page_cost(25, 10), 877);
    }

    #[test]
    fn sizes_are_kept_when_the_bucket_holds_a_page() {
        let sizes = Sizes {
            variants: 25,
            levels: 10,
        };
        assert_eq!(sizes.fit(None), sizes);
        assert_eq!(sizes.fit(Some(2000.0)), sizes);
    }

    #[test]
    fn a_small_bucket_shrinks_the_variants_per_page_first() {
        let sizes = Sizes {
            variants: 25,
            levels: 10,
        }
        .fit(Some(100.0));
        assert_eq!(
            sizes,
            Sizes {
                variants: 2,
                levels: 10
            }
        );
        assert!(page_cost(sizes.variants, sizes.levels) <= 100);
    }

    #[test]
    fn a_tiny_bucket_also_shrinks_the_levels_per_variant() {
        let sizes = Sizes {
            variants: 25,
            levels: 10,
        }
        .fit(Some(20.0));
        assert_eq!(
            sizes,
            Sizes {
                variants: 1,
                levels: 4
            }
        );
        assert!(page_cost(1, sizes.levels) <= 20);
    }
}
