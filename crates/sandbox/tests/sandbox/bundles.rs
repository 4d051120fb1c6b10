//! Bundles (sandbox.md, version 2): fixture `components`, GraphQL `requiresComponents` and
//! `productVariantComponents` under Shopify's names and cost, in pages and bulk exports.

use std::time::Duration;

use serde_json::{json, Value};
use stockbridge_sandbox::{Fixture, FixtureError};

use crate::support::{eventually, graphql, start};

/// MUG (201) and TEE (202); BOX (301) is 2 × MUG + 1 × TEE; GIFT (302) lists a variant the
/// store does not have.
const BUNDLES: &str = r#"{"shopify": {
  "locations": [{"id": 1, "name": "Location A"}],
  "variants": [
    {"id": 201, "product_id": 20, "sku": "MUG", "inventory_item_id": 2001,
     "levels": [{"location_id": 1, "available": 7}]},
    {"id": 202, "product_id": 20, "sku": "TEE", "inventory_item_id": 2002,
     "levels": [{"location_id": 1, "available": 9}]},
    {"id": 301, "product_id": 30, "sku": "BOX", "inventory_item_id": 3001,
     "components": [{"variant_id": 201, "quantity": 2}, {"variant_id": 202, "quantity": 1}]},
    {"id": 302, "product_id": 30, "sku": "GIFT", "inventory_item_id": 3002,
     "components": [{"variant_id": 999, "quantity": 1}]}]}}"#;

fn bundles() -> Fixture {
    Fixture::from_json(BUNDLES).unwrap()
}

const COMPONENTS: &str = r#"query($ids: String!) {
  productVariants(first: 10, query: $ids) { nodes {
    id requiresComponents
    productVariantComponents(first: 30) { nodes { id quantity productVariant { id } }
      pageInfo { hasNextPage } } } } }"#;

#[tokio::test]
async fn pages_serve_requires_components_and_the_components_with_their_quantities() {
    let sandbox = start(bundles()).await;
    let (_, body) = graphql(
        &sandbox,
        COMPONENTS,
        json!({"ids": "id:201 OR id:301 OR id:302"}),
    )
    .await;
    let nodes = &body["data"]["productVariants"]["nodes"];
    assert_eq!(nodes[0]["requiresComponents"], false);
    assert_eq!(nodes[0]["productVariantComponents"]["nodes"], json!([]));
    assert_eq!(nodes[1]["requiresComponents"], true);
    assert_eq!(
        nodes[1]["productVariantComponents"]["nodes"],
        json!([
            {"id": "gid://shopify/ProductVariantComponent/30101", "quantity": 2,
             "productVariant": {"id": "gid://shopify/ProductVariant/201"}},
            {"id": "gid://shopify/ProductVariantComponent/30102", "quantity": 1,
             "productVariant": {"id": "gid://shopify/ProductVariant/202"}}
        ])
    );
    assert_eq!(
        nodes[2]["productVariantComponents"]["nodes"][0]["productVariant"],
        json!({"id": "gid://shopify/ProductVariant/999"}),
        "a component the store does not have is served by its id alone"
    );
    // 2 + 10 × (1 variant + 2 + 30 × (1 component + 1 variant)).
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 632);
}

#[tokio::test]
async fn components_page_forward_like_any_connection() {
    let sandbox = start(bundles()).await;
    let query = r#"query($after: String) { productVariant(id: "gid://shopify/ProductVariant/301") {
        productVariantComponents(first: 1, after: $after) {
          nodes { quantity } pageInfo { hasNextPage endCursor } } } }"#;
    let (_, first) = graphql(&sandbox, query, json!({})).await;
    let page = &first["data"]["productVariant"]["productVariantComponents"];
    assert_eq!(page["nodes"], json!([{"quantity": 2}]));
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let after = page["pageInfo"]["endCursor"].clone();
    let (_, second) = graphql(&sandbox, query, json!({"after": after})).await;
    let page = &second["data"]["productVariant"]["productVariantComponents"];
    assert_eq!(page["nodes"], json!([{"quantity": 1}]));
    assert_eq!(page["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn bulk_exports_components_as_child_lines_of_their_bundle() {
    let sandbox = start(bundles()).await;
    let run = r#"mutation($q: String!) { bulkOperationRunQuery(query: $q) {
        bulkOperation { id } userErrors { message } } }"#;
    let export = r#"{ productVariants { edges { node { id requiresComponents
        productVariantComponents { edges { node { id quantity productVariant { id } } } } } } } }"#;
    let (_, body) = graphql(&sandbox, run, json!({"q": export})).await;
    let id = body["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"].clone();
    let poll = r#"query($id: ID!) { node(id: $id) { ... on BulkOperation { status url } } }"#;
    let url = eventually(Duration::from_secs(5), || async {
        let (_, body) = graphql(&sandbox, poll, json!({"id": id})).await;
        let op = &body["data"]["node"];
        (op["status"] == "COMPLETED").then(|| op["url"].as_str().unwrap().to_owned())
    })
    .await;
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let bundle_flags: Vec<(&str, bool)> = lines
        .iter()
        .filter(|l| l.get("requiresComponents").is_some())
        .map(|l| {
            (
                l["id"].as_str().unwrap(),
                l["requiresComponents"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(bundle_flags.len(), 4);
    assert!(bundle_flags.contains(&("gid://shopify/ProductVariant/301", true)));
    assert!(bundle_flags.contains(&("gid://shopify/ProductVariant/201", false)));
    let mut of_box: Vec<(u64, &str)> = lines
        .iter()
        .filter(|l| l["__parentId"] == "gid://shopify/ProductVariant/301")
        .map(|l| {
            (
                l["quantity"].as_u64().unwrap(),
                l["productVariant"]["id"].as_str().unwrap(),
            )
        })
        .collect();
    of_box.sort();
    assert_eq!(
        of_box,
        [
            (1, "gid://shopify/ProductVariant/202"),
            (2, "gid://shopify/ProductVariant/201")
        ]
    );
}

fn refusal(components: Value, levels: Value) -> String {
    let fixture = json!({"shopify": {
        "locations": [{"id": 1, "name": "A"}],
        "variants": [
            {"id": 1, "product_id": 1, "inventory_item_id": 1},
            {"id": 2, "product_id": 1, "inventory_item_id": 2,
             "components": [{"variant_id": 1, "quantity": 1}]},
            {"id": 3, "product_id": 1, "inventory_item_id": 3,
             "components": components, "levels": levels}]}});
    let err = Fixture::from_json(&fixture.to_string()).unwrap_err();
    assert!(matches!(err, FixtureError::Invalid { .. }));
    err.to_string()
}

#[test]
fn refuses_bundles_that_shopify_would_not_allow_naming_the_key() {
    assert_eq!(
        refusal(json!([{"variant_id": 1, "quantity": 0}]), json!([])),
        "fixture key `shopify.variants[2].components[0].quantity`: 0; allowed: at least 1"
    );
    assert_eq!(
        refusal(json!([{"variant_id": 2, "quantity": 1}]), json!([])),
        "fixture key `shopify.variants[2].components[0].variant_id`: variant 2 is itself a bundle; allowed: a variant without components"
    );
    assert_eq!(
        refusal(
            json!([{"variant_id": 1, "quantity": 1}]),
            json!([{"location_id": 1, "available": 3}])
        ),
        "fixture key `shopify.variants[2].levels`: a bundle (a variant with components) has no levels of its own; allowed: []"
    );
    let many: Vec<Value> = (0..31)
        .map(|_| json!({"variant_id": 1, "quantity": 1}))
        .collect();
    assert_eq!(
        refusal(json!(many), json!([])),
        "fixture key `shopify.variants[2].components`: 31 components; allowed: at most 30"
    );
}
