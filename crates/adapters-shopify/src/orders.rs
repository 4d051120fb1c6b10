//! Recent orders (`orders(query: "created_at:>=...")`, the `read_orders` scope): the fields an
//! order-sync app writes a TikTok order id to, so that a hold ends when the Shopify copy of a
//! TikTok order appears (sync-rules.md §7).

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;
use stockbridge_domain::ShopifyOrderMarks;
use stockbridge_ports::{ShopifyOrders, SourceError};

use crate::client::Query;
use crate::source::ShopifySource;

/// Orders per page: each costs about one point with these scalar fields.
const ORDERS_PAGE: u64 = 100;

const ORDERS: &str = "query RecentOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT) {
    nodes { sourceIdentifier tags note customAttributes { key value } }
    pageInfo { hasNextPage endCursor }
  }
}";

#[derive(Deserialize)]
struct OrdersData {
    orders: Connection,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    nodes: Vec<Node>,
    page_info: PageInfo,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    source_identifier: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    note: Option<String>,
    #[serde(default)]
    custom_attributes: Vec<Attribute>,
}

#[derive(Deserialize)]
struct Attribute {
    value: Option<String>,
}

/// RFC 3339 (UTC, seconds) of Unix seconds, for a search query.
fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[async_trait]
impl ShopifyOrders for ShopifySource {
    async fn orders_created_since(
        &self,
        since: i64,
    ) -> Result<Vec<ShopifyOrderMarks>, SourceError> {
        let query = format!("created_at:>={}", rfc3339(since));
        let mut marks = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let data: OrdersData = self
                .client
                .run(|_| Query {
                    operation: "orders",
                    text: ORDERS,
                    variables: json!({"first": ORDERS_PAGE, "after": after, "query": query}),
                    shape: "orders".into(),
                    estimated_cost: ORDERS_PAGE + 2,
                })
                .await?;
            marks.extend(data.orders.nodes.into_iter().map(|n| {
                ShopifyOrderMarks {
                    source_identifier: n.source_identifier,
                    tags: n.tags,
                    attribute_values: n
                        .custom_attributes
                        .into_iter()
                        .filter_map(|a| a.value)
                        .collect(),
                    note: n.note,
                }
            }));
            match data.orders.page_info.end_cursor {
                Some(cursor) if data.orders.page_info.has_next_page => after = Some(cursor),
                _ => break,
            }
        }
        Ok(marks)
    }
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn writes_unix_seconds_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_764_000_000), "2025-11-24T16:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
