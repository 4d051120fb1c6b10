//! The GraphQL documents that read the catalog. One variant selection serves the paged read
//! and the incremental read, so both produce the same snapshots.

macro_rules! levels_selection {
    () => {
        "inventoryLevels(first: $levels) {
          nodes { updatedAt location { id } quantities(names: [\"available\"]) { name quantity } }
          pageInfo { hasNextPage endCursor }
        }"
    };
}

macro_rules! variant_selection {
    () => {
        concat!(
            "id sku inventoryPolicy requiresComponents product { id status }
            inventoryItem { id tracked ",
            levels_selection!(),
            " }"
        )
    };
}

/// Every location, active or not.
pub(crate) const LOCATIONS: &str = "query Locations($first: Int!, $after: String) {
  locations(first: $first, after: $after, includeInactive: true) {
    nodes { id name isActive }
    pageInfo { hasNextPage endCursor }
  }
}";

/// One page of variants with their first levels.
pub(crate) const VARIANTS_PAGE: &str = concat!(
    "query VariantsPage($first: Int!, $after: String, $levels: Int!) {
  productVariants(first: $first, after: $after) {
    nodes { ",
    variant_selection!(),
    " }
    pageInfo { hasNextPage endCursor }
  }
}"
);

/// The levels of one item after the first page of them.
pub(crate) const ITEM_LEVELS: &str = "query ItemLevels($id: ID!, $levels: Int!, $after: String) {
  inventoryItem(id: $id) {
    inventoryLevels(first: $levels, after: $after) {
      nodes { updatedAt location { id } quantities(names: [\"available\"]) { name quantity } }
      pageInfo { hasNextPage endCursor }
    }
  }
}";

/// Inventory items by id with their variant, read by key (no search index between):
/// one object per id, at most 250 ids.
pub(crate) const ITEMS_BY_ID: &str = concat!(
    "query ItemsById($ids: [ID!]!, $levels: Int!) {
  nodes(ids: $ids) {
    ... on InventoryItem { id tracked
      variant { id sku inventoryPolicy requiresComponents product { id status } } ",
    levels_selection!(),
    " }
  }
}"
);

/// The components of some bundles, found by `id:1 OR id:2` search. One more than Shopify's
/// 30 is asked for, so a bundle listing more than Shopify allows is seen and not cut short.
pub(crate) const COMPONENTS: &str =
    "query BundleComponents($first: Int!, $after: String, $query: String!) {
  productVariants(first: $first, after: $after, query: $query) {
    nodes { id productVariantComponents(first: 31) { nodes { quantity productVariant { id } } } }
    pageInfo { hasNextPage endCursor }
  }
}";

/// How many variants the shop has, to choose between pages and bulk.
pub(crate) const VARIANT_COUNT: &str =
    "query VariantCount { productVariantsCount { count precision } }";

/// The bulk export of every variant with every level (no page sizes: bulk reads it all).
pub(crate) const BULK_VARIANTS: &str = "{
  productVariants {
    edges { node {
      id sku inventoryPolicy requiresComponents product { id status }
      productVariantComponents { edges { node { id quantity productVariant { id } } } }
      inventoryItem { id tracked
        inventoryLevels { edges { node {
          updatedAt location { id } quantities(names: [\"available\"]) { name quantity }
        } } }
      }
    } }
  }
}";
