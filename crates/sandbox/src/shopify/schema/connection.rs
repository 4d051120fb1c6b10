//! Relay connections as Shopify shapes them: `edges { cursor node }`, `nodes`, `pageInfo`,
//! forward paging with `first` (at most 250) and an opaque `after` cursor, in ascending key
//! order or, with `reverse: true`, descending.

use async_graphql::{Error, ErrorExtensions, SimpleObject};
use base64::Engine;

use super::components::ProductVariantComponent;
use super::objects::{InventoryItem, InventoryLevel, Location, ProductVariant};

/// The largest page Shopify serves.
pub(crate) const MAX_PAGE: i32 = 250;

/// Declares one concrete connection and edge type (async-graphql needs concrete names).
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty) => {
        #[derive(SimpleObject)]
        pub(crate) struct $connection {
            edges: Vec<$edge>,
            nodes: Vec<$node>,
            page_info: PageInfo,
        }

        #[derive(SimpleObject, Clone)]
        pub(crate) struct $edge {
            cursor: String,
            node: $node,
        }

        impl Paged for $connection {
            type Node = $node;
            fn assemble(items: Vec<(String, $node)>, page_info: PageInfo) -> Self {
                $connection {
                    nodes: items.iter().map(|(_, node)| node.clone()).collect(),
                    edges: items
                        .into_iter()
                        .map(|(cursor, node)| $edge { cursor, node })
                        .collect(),
                    page_info,
                }
            }
        }
    };
}

connection!(LocationConnection, LocationEdge, Location);
connection!(ProductVariantConnection, ProductVariantEdge, ProductVariant);
connection!(InventoryItemConnection, InventoryItemEdge, InventoryItem);
connection!(InventoryLevelConnection, InventoryLevelEdge, InventoryLevel);
connection!(
    ProductVariantComponentConnection,
    ProductVariantComponentEdge,
    ProductVariantComponent
);

/// A connection type built from one page of keyed nodes.
pub(crate) trait Paged: Sized {
    type Node: Clone;
    fn assemble(items: Vec<(String, Self::Node)>, page_info: PageInfo) -> Self;

    /// Builds a page from `(key, node)` items already cut to the page, `more` telling whether
    /// items follow.
    fn page(items: Vec<(u64, Self::Node)>, more: bool, after: Option<u64>) -> Self {
        let items: Vec<(String, Self::Node)> = items
            .into_iter()
            .map(|(key, node)| (encode_cursor(key), node))
            .collect();
        let page_info = PageInfo {
            has_next_page: more,
            has_previous_page: after.is_some(),
            start_cursor: items.first().map(|(c, _)| c.clone()),
            end_cursor: items.last().map(|(c, _)| c.clone()),
        };
        Self::assemble(items, page_info)
    }
}

#[derive(SimpleObject, Clone)]
pub(crate) struct PageInfo {
    has_next_page: bool,
    has_previous_page: bool,
    start_cursor: Option<String>,
    end_cursor: Option<String>,
}

/// A forward page request.
pub(crate) struct Page {
    pub(crate) size: usize,
    /// Items after this key (in the page's order).
    pub(crate) after: Option<u64>,
    /// Keys descend (`reverse: true`).
    pub(crate) descending: bool,
}

fn bad_request(message: impl Into<String>) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", "BAD_REQUEST"))
}

impl Page {
    pub(crate) fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page> {
        if last.is_some() || before.is_some() {
            return Err(bad_request(
                "The sandbox pages forward only: use first and after.",
            ));
        }
        let Some(first) = first else {
            return Err(bad_request("you must provide one of first or last"));
        };
        if !(0..=MAX_PAGE).contains(&first) {
            return Err(bad_request(format!(
                "The value of the argument `first` is {first}; it must be between 0 and {MAX_PAGE}."
            )));
        }
        let after = match after {
            Some(cursor) => Some(
                decode_cursor(&cursor)
                    .ok_or_else(|| bad_request(format!("Invalid cursor: {cursor}")))?,
            ),
            None => None,
        };
        Ok(Page {
            size: first as usize,
            after,
            descending: false,
        })
    }

    /// The same request in descending key order when `reverse`.
    pub(crate) fn reversed(self, reverse: bool) -> Page {
        Page {
            descending: reverse,
            ..self
        }
    }

    /// Whether `key` sits at or before the `after` cursor in the page's order.
    fn passed(&self, key: u64) -> bool {
        self.after.is_some_and(|after| {
            if self.descending {
                key >= after
            } else {
                key <= after
            }
        })
    }
}

/// Shopify-like opaque cursor: base64 of `{"last_id":N,"last_value":"N"}`.
pub(crate) fn encode_cursor(key: u64) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(format!("{{\"last_id\":{key},\"last_value\":\"{key}\"}}"))
}

fn decode_cursor(cursor: &str) -> Option<u64> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("last_id")?.as_u64()
}

/// Cuts `(key, item)` pairs sorted in the page's order to the page; returns the page and whether
/// more follow.
pub(crate) fn cut<T>(sorted: impl Iterator<Item = (u64, T)>, page: &Page) -> (Vec<(u64, T)>, bool) {
    let mut out = Vec::with_capacity(page.size.min(MAX_PAGE as usize));
    let mut more = false;
    for (key, item) in sorted {
        if page.passed(key) {
            continue;
        }
        if out.len() == page.size {
            more = true;
            break;
        }
        out.push((key, item));
    }
    (out, more)
}
