//! Counting, ordering and statuses of the Shopify catalog, as the adapter reads them.

use serde_json::{json, Value};
use stockbridge_sandbox::{Fixture, ProductStatus};

use crate::support::{big_fixture, control, fixture, graphql, start};

/// The document the Shopify adapter's Auto read mode sends, word for word.
const ADAPTER_COUNT: &str = "query VariantCount { productVariantsCount { count precision } }";

const COUNT: &str = r#"query($q: String, $limit: Int) {
  productVariantsCount(query: $q, limit: $limit) { count precision } }"#;

/// Ids of variants paged through `productVariants` with `args`, `size` at a time.
async fn paged_ids(
    sandbox: &stockbridge_sandbox::RunningSandbox,
    args: &str,
    size: u32,
) -> Vec<u64> {
    let query = format!(
        "query($after: String) {{ productVariants(first: {size}, after: $after{args}) {{
           nodes {{ legacyResourceId }} pageInfo {{ hasNextPage endCursor }} }} }}"
    );
    let mut after = Value::Null;
    let mut ids = Vec::new();
    loop {
        let (_, body) = graphql(sandbox, &query, json!({"after": after})).await;
        let connection = &body["data"]["productVariants"];
        let nodes = connection["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        ids.extend(nodes.iter().map(|n| {
            n["legacyResourceId"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        }));
        if connection["pageInfo"]["hasNextPage"] != true {
            return ids;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn counts_variants_for_the_query_the_adapter_sends() {
    let sandbox = start(fixture()).await;
    let (_, body) = graphql(&sandbox, ADAPTER_COUNT, json!({})).await;
    assert_eq!(
        body["data"]["productVariantsCount"],
        json!({"count": 3, "precision": "EXACT"}),
        "{body}"
    );
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 1);
}

#[tokio::test]
async fn counts_only_the_variants_a_search_matches() {
    let sandbox = start(fixture()).await;
    for (search, expected) in [
        ("product_status:DRAFT", 1),
        ("product_id:10", 2),
        ("sku:TEE-RED-M OR sku:MUG", 2),
        ("sku:NOPE", 0),
    ] {
        let (_, body) = graphql(&sandbox, COUNT, json!({"q": search})).await;
        assert_eq!(
            body["data"]["productVariantsCount"],
            json!({"count": expected, "precision": "EXACT"}),
            "{search}"
        );
    }
}

#[tokio::test]
async fn caps_a_count_at_its_limit_and_says_at_least() {
    let sandbox = start(big_fixture(30, 0)).await;
    let (_, body) = graphql(&sandbox, COUNT, json!({"limit": 10})).await;
    assert_eq!(
        body["data"]["productVariantsCount"],
        json!({"count": 10, "precision": "AT_LEAST"})
    );
    let (_, body) = graphql(&sandbox, COUNT, json!({"limit": 30})).await;
    assert_eq!(
        body["data"]["productVariantsCount"],
        json!({"count": 30, "precision": "EXACT"})
    );
    let (_, body) = graphql(&sandbox, COUNT, json!({"limit": null})).await;
    assert_eq!(body["data"]["productVariantsCount"]["count"], 30);
}

#[tokio::test]
async fn accepts_every_variant_sort_key_and_orders_by_id() {
    let sandbox = start(big_fixture(12, 0)).await;
    let ascending: Vec<u64> = (1001..=1012).collect();
    for key in [
        "ID",
        "SKU",
        "TITLE",
        "FULL_TITLE",
        "INVENTORY_QUANTITY",
        "POSITION",
        "RELEVANCE",
    ] {
        let ids = paged_ids(&sandbox, &format!(", sortKey: {key}"), 5).await;
        assert_eq!(ids, ascending, "sortKey: {key}");
    }
    // Variants have no UPDATED_AT sort key in the real API either.
    let (_, body) = graphql(
        &sandbox,
        "{ productVariants(first: 1, sortKey: UPDATED_AT) { nodes { id } } }",
        json!({}),
    )
    .await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("UPDATED_AT"), "{message}");
}

#[tokio::test]
async fn pages_variants_backwards_with_reverse() {
    let sandbox = start(big_fixture(25, 0)).await;
    let descending: Vec<u64> = (1001..=1025).rev().collect();
    assert_eq!(paged_ids(&sandbox, ", reverse: true", 10).await, descending);
    assert_eq!(
        paged_ids(&sandbox, ", reverse: true, sortKey: ID", 7).await,
        descending
    );
    // A scanned filter (product 11 holds variants 1003 to 1005) and a pinned one (by item id).
    assert_eq!(
        paged_ids(&sandbox, r#", reverse: true, query: "product_id:11""#, 2).await,
        vec![1005, 1004, 1003]
    );
    assert_eq!(
        paged_ids(
            &sandbox,
            r#", reverse: true, query: "inventory_item_id:5001 OR inventory_item_id:5003""#,
            1
        )
        .await,
        vec![1003, 1001]
    );
    assert_eq!(
        paged_ids(&sandbox, ", reverse: false", 10).await,
        (1001..=1025).collect::<Vec<u64>>()
    );
}

#[tokio::test]
async fn pages_inventory_items_backwards_with_reverse() {
    let sandbox = start(big_fixture(5, 0)).await;
    let query = r#"query($after: String) { inventoryItems(first: 3, after: $after, reverse: true) {
        nodes { legacyResourceId } pageInfo { hasNextPage endCursor } } }"#;
    let (_, body) = graphql(&sandbox, query, json!({"after": null})).await;
    let page = &body["data"]["inventoryItems"];
    assert_eq!(
        page["nodes"],
        json!([{"legacyResourceId": "5005"}, {"legacyResourceId": "5004"}, {"legacyResourceId": "5003"}])
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let (_, body) = graphql(
        &sandbox,
        query,
        json!({"after": page["pageInfo"]["endCursor"]}),
    )
    .await;
    assert_eq!(
        body["data"]["inventoryItems"]["nodes"],
        json!([{"legacyResourceId": "5002"}, {"legacyResourceId": "5001"}])
    );
    assert_eq!(
        body["data"]["inventoryItems"]["pageInfo"]["hasNextPage"],
        false
    );
}

#[tokio::test]
async fn serves_unlisted_products_from_the_fixture_and_the_control_api() {
    let text = r#"{"shopify": {"locations": [{"id": 1, "name": "A"}],
        "variants": [{"id": 1, "product_id": 7, "sku": "HIDDEN", "inventory_item_id": 11,
                      "product_status": "UNLISTED"},
                     {"id": 2, "product_id": 8, "sku": "SHOWN", "inventory_item_id": 12}]}}"#;
    let parsed = Fixture::from_json(text).unwrap();
    assert_eq!(
        parsed.shopify.variants[0].product_status,
        ProductStatus::Unlisted
    );
    let sandbox = start(parsed).await;
    let query = r#"{ productVariants(first: 5, query: "product_status:UNLISTED") {
        nodes { sku product { status } } } }"#;
    let (_, body) = graphql(&sandbox, query, json!({})).await;
    assert_eq!(
        body["data"]["productVariants"]["nodes"],
        json!([{"sku": "HIDDEN", "product": {"status": "UNLISTED"}}])
    );

    let (status, answer) = control(
        &sandbox,
        "shopify/products/8",
        json!({"status": "UNLISTED"}),
    )
    .await;
    assert!(status.is_success(), "{answer}");
    assert_eq!(answer["product"]["status"], "unlisted");
    let (_, body) = graphql(&sandbox, query, json!({})).await;
    assert_eq!(
        body["data"]["productVariants"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        sandbox.state().shopify.variants[1].product_status,
        ProductStatus::Unlisted
    );
}
