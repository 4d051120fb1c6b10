use reqwest::StatusCode;
use serde_json::{json, Value};
use stockbridge_sandbox::SandboxOptions;

use crate::support::{big_fixture, fixture, graphql, graphql_with_token, start, start_with};

const VARIANTS_PAGE: &str = r#"query($after: String) {
  productVariants(first: 10, after: $after) {
    edges { cursor node { id } }
    nodes { id legacyResourceId sku inventoryPolicy product { id status } inventoryItem { id tracked } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

#[tokio::test]
async fn refuses_a_wrong_access_token_with_401() {
    let sandbox = start(fixture()).await;
    let (status, body) = graphql_with_token(&sandbox, "{ shop { name } }", json!({}), "nope").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
    );
    assert_eq!(
        sandbox.stats().count("shopify", "graphql", "unauthorized"),
        1
    );
}

#[tokio::test]
async fn hides_inactive_locations_unless_asked() {
    let sandbox = start(fixture()).await;
    let query = r#"query($all: Boolean) { locations(first: 10, includeInactive: $all) {
        nodes { id name isActive fulfillsOnlineOrders legacyResourceId } pageInfo { hasNextPage } } }"#;
    let (_, body) = graphql(&sandbox, query, json!({"all": false})).await;
    let nodes = body["data"]["locations"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(
        nodes[0],
        json!({"id": "gid://shopify/Location/1", "name": "Location A", "isActive": true,
               "fulfillsOnlineOrders": true, "legacyResourceId": "1"})
    );
    let (_, body) = graphql(&sandbox, query, json!({"all": true})).await;
    assert_eq!(
        body["data"]["locations"]["nodes"].as_array().unwrap().len(),
        3
    );
}

#[tokio::test]
async fn pages_product_variants_with_cursors_until_the_end() {
    let sandbox = start(big_fixture(25, 0)).await;
    let mut after = Value::Null;
    let mut seen = Vec::new();
    loop {
        let (_, body) = graphql(&sandbox, VARIANTS_PAGE, json!({"after": after})).await;
        let connection = &body["data"]["productVariants"];
        for node in connection["nodes"].as_array().unwrap() {
            seen.push(node["legacyResourceId"].as_str().unwrap().to_owned());
        }
        assert_eq!(
            connection["edges"][0]["node"]["id"],
            connection["nodes"][0]["id"]
        );
        if !connection["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    let expected: Vec<String> = (1001..=1025).map(|i| i.to_string()).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn reads_variant_fields_and_levels_with_available_quantities() {
    let sandbox = start(fixture()).await;
    let query = r#"{ productVariants(first: 5) { nodes {
        id sku inventoryPolicy product { id status }
        inventoryItem { id legacyResourceId tracked inventoryLevels(first: 5) {
          edges { node { id location { id } quantities(names: ["available", "incoming"]) { name quantity } } }
          pageInfo { hasNextPage } } } } } }"#;
    let (status, body) = graphql(&sandbox, query, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let first = &body["data"]["productVariants"]["nodes"][0];
    assert_eq!(first["id"], "gid://shopify/ProductVariant/101");
    assert_eq!(first["inventoryPolicy"], "DENY");
    assert_eq!(
        first["product"],
        json!({"id": "gid://shopify/Product/10", "status": "ACTIVE"})
    );
    let item = &first["inventoryItem"];
    assert_eq!(item["id"], "gid://shopify/InventoryItem/1001");
    assert_eq!(item["tracked"], true);
    let level = &item["inventoryLevels"]["edges"][1]["node"];
    assert_eq!(
        level["id"],
        "gid://shopify/InventoryLevel/2?inventory_item_id=1001"
    );
    assert_eq!(level["location"]["id"], "gid://shopify/Location/2");
    assert_eq!(
        level["quantities"],
        json!([{"name": "available", "quantity": 200}, {"name": "incoming", "quantity": 0}])
    );
    let mug = &body["data"]["productVariants"]["nodes"][2];
    assert_eq!(mug["inventoryPolicy"], "CONTINUE");
    assert_eq!(mug["product"]["status"], "DRAFT");
    assert_eq!(mug["inventoryItem"]["tracked"], false);
}

#[tokio::test]
async fn filters_variants_by_inventory_item_ids_joined_with_or() {
    let sandbox = start(fixture()).await;
    let query = r#"{ productVariants(first: 10, query: "inventory_item_id:1003 OR inventory_item_id:1001") {
        nodes { id } } }"#;
    let (_, body) = graphql(&sandbox, query, json!({})).await;
    assert_eq!(
        body["data"]["productVariants"]["nodes"],
        json!([{"id": "gid://shopify/ProductVariant/101"}, {"id": "gid://shopify/ProductVariant/103"}])
    );
    let by_sku = r#"{ productVariants(first: 10, query: "sku:TEE-RED-M") { nodes { id } } }"#;
    let (_, body) = graphql(&sandbox, by_sku, json!({})).await;
    assert_eq!(
        body["data"]["productVariants"]["nodes"],
        json!([{"id": "gid://shopify/ProductVariant/102"}])
    );
}

#[tokio::test]
async fn finds_inventory_items_by_id_with_their_variant() {
    let sandbox = start(fixture()).await;
    let query = r#"{ inventoryItems(first: 10, query: "id:1002 OR id:1003") {
        nodes { id sku tracked variant { id inventoryPolicy }
                inventoryLevel(locationId: "gid://shopify/Location/1") { quantities(names: ["available"]) { quantity } } } } }"#;
    let (_, body) = graphql(&sandbox, query, json!({})).await;
    let nodes = &body["data"]["inventoryItems"]["nodes"];
    assert_eq!(
        nodes[0]["variant"]["id"],
        "gid://shopify/ProductVariant/102"
    );
    assert_eq!(nodes[0]["inventoryLevel"]["quantities"][0]["quantity"], 5);
    assert_eq!(nodes[1]["inventoryLevel"], Value::Null);
    assert_eq!(nodes.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn resolves_nodes_by_gid() {
    let sandbox = start(fixture()).await;
    let query = r#"{ node(id: "gid://shopify/InventoryItem/1001") { id ... on InventoryItem { tracked } } }"#;
    let (_, body) = graphql(&sandbox, query, json!({})).await;
    assert_eq!(
        body["data"]["node"],
        json!({"id": "gid://shopify/InventoryItem/1001", "tracked": true})
    );
}

#[tokio::test]
async fn reports_cost_and_throttle_status_on_every_answer() {
    let sandbox = start(fixture()).await;
    let (_, body) = graphql(
        &sandbox,
        "{ locations(first: 10) { nodes { id } } }",
        json!({}),
    )
    .await;
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 12);
    assert!(cost["actualQueryCost"].as_u64().unwrap() <= 12);
    assert_eq!(cost["throttleStatus"]["maximumAvailable"], 2000.0);
    assert_eq!(cost["throttleStatus"]["restoreRate"], 100.0);
    assert!(
        cost["throttleStatus"]["currentlyAvailable"]
            .as_u64()
            .unwrap()
            >= 1988
    );
}

#[tokio::test]
async fn answers_max_cost_exceeded_above_1000_points() {
    let sandbox = start(fixture()).await;
    let query = r#"{ productVariants(first: 100) { nodes { inventoryItem {
        inventoryLevels(first: 20) { nodes { location { id } } } } } } }"#;
    let (status, body) = graphql(&sandbox, query, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED");
    assert_eq!(body["errors"][0]["extensions"]["maxCost"], 1000);
    assert!(
        body["extensions"]["cost"]["requestedQueryCost"]
            .as_u64()
            .unwrap()
            > 1000
    );
    assert_eq!(body.get("data"), None);
    assert_eq!(
        sandbox
            .stats()
            .count("shopify", "graphql", "max_cost_exceeded"),
        1
    );
}

#[tokio::test]
async fn throttles_when_the_bucket_cannot_pay() {
    let options = SandboxOptions {
        shopify_bucket_size: 60.0,
        shopify_restore_rate: 1.0,
        ..SandboxOptions::default()
    };
    let sandbox = start_with(fixture(), options).await;
    let query = "{ productVariants(first: 55) { nodes { id } } }";
    let (_, first) = graphql(&sandbox, query, json!({})).await;
    assert!(first.get("errors").is_none(), "{first}");
    let (status, body) = graphql(&sandbox, query, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["errors"][0]["message"], "Throttled");
    assert_eq!(body["errors"][0]["extensions"]["code"], "THROTTLED");
    assert_eq!(body["extensions"]["cost"]["actualQueryCost"], Value::Null);
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 57);
    assert!(
        body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
            .as_u64()
            .unwrap()
            < 57
    );
    assert_eq!(sandbox.stats().count("shopify", "graphql", "throttled"), 1);
}

#[tokio::test]
async fn refunds_the_difference_between_requested_and_actual_cost() {
    let sandbox = start(fixture()).await;
    let (_, body) = graphql(
        &sandbox,
        "{ productVariants(first: 250) { nodes { id } } }",
        json!({}),
    )
    .await;
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 252);
    assert_eq!(cost["actualQueryCost"], 5);
    assert!(
        cost["throttleStatus"]["currentlyAvailable"]
            .as_u64()
            .unwrap()
            >= 1995
    );
}

#[tokio::test]
async fn refuses_pages_above_250() {
    let sandbox = start(fixture()).await;
    let (_, body) = graphql(
        &sandbox,
        "{ productVariants(first: 251) { nodes { id } } }",
        json!({}),
    )
    .await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("250"), "{message}");
}

#[tokio::test]
async fn rejects_unknown_fields_as_graphql_errors() {
    let sandbox = start(fixture()).await;
    let (status, body) = graphql(
        &sandbox,
        "{ productVariants(first: 1) { nodes { colour } } }",
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("colour"));
    assert!(body["extensions"]["cost"].is_object());
}

#[tokio::test]
async fn sees_control_api_changes_in_the_next_query() {
    let sandbox = start(fixture()).await;
    crate::support::control(
        &sandbox,
        "shopify/inventory_levels",
        json!({"inventory_item_id": 1002, "location_id": 2, "available": 42}),
    )
    .await;
    let query = r#"{ inventoryItem(id: "gid://shopify/InventoryItem/1002") {
        inventoryLevel(locationId: "gid://shopify/Location/2") { quantities(names: ["available"]) { quantity } } } }"#;
    let (_, body) = graphql(&sandbox, query, json!({})).await;
    assert_eq!(
        body["data"]["inventoryItem"]["inventoryLevel"]["quantities"][0]["quantity"],
        42
    );
}

#[tokio::test]
async fn reports_the_granted_scopes_for_the_adapters_health_query() {
    let sandbox = start(fixture()).await;
    let query = "query HealthScopes { currentAppInstallation { accessScopes { handle } } }";
    let (status, body) = graphql(&sandbox, query, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"]["currentAppInstallation"]["accessScopes"],
        json!([{"handle": "read_products"}, {"handle": "read_inventory"}, {"handle": "read_locations"}, {"handle": "read_orders"}]),
        "{body}"
    );
    let (_, body) = graphql(
        &sandbox,
        "{ currentAppInstallation { id accessScopes { description } } }",
        json!({}),
    )
    .await;
    let installation = &body["data"]["currentAppInstallation"];
    assert_eq!(installation["id"], "gid://shopify/AppInstallation/1");
    assert_eq!(
        installation["accessScopes"][0]["description"],
        "Read products"
    );
}

const ITEMS_BY_ID: &str = r#"query($ids: [ID!]!) {
  nodes(ids: $ids) { ... on InventoryItem { id tracked
    variant { id sku product { id status } }
    inventoryLevels(first: 2) { nodes { updatedAt location { id } quantities(names: ["available"]) { name quantity } } }
  } }
}"#;

#[tokio::test]
async fn costs_nodes_by_ids_as_one_object_per_id_with_its_selection() {
    let sandbox = start(fixture()).await;
    let ids = json!([
        "gid://shopify/InventoryItem/1001",
        "gid://shopify/InventoryItem/1002"
    ]);
    let (_, body) = graphql(&sandbox, ITEMS_BY_ID, json!({ "ids": ids })).await;
    assert!(body.get("errors").is_none(), "{body}");
    let cost = &body["extensions"]["cost"];
    // Per id: the item 1, its variant 1 and product 1, the levels connection 2 + 2 levels
    // × (level 1, location 1, quantities 1) = 11.
    assert_eq!(cost["requestedQueryCost"], 2 * 11);
    let nodes = body["data"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0]["id"], "gid://shopify/InventoryItem/1001");
    // The actual cost counts what came back: item 1001 is stocked at 2 locations, 1002 at 1.
    assert_eq!(cost["actualQueryCost"], 11 + 8);
    let four = json!([
        "gid://shopify/InventoryItem/1001",
        "gid://shopify/InventoryItem/1002",
        "gid://shopify/InventoryItem/1001",
        "gid://shopify/InventoryItem/1002"
    ]);
    let (_, body) = graphql(&sandbox, ITEMS_BY_ID, json!({ "ids": four })).await;
    assert_eq!(
        body["extensions"]["cost"]["requestedQueryCost"],
        4 * 11,
        "the cost grows with the ids, not with a page size"
    );
}

#[tokio::test]
async fn refuses_nodes_of_more_than_250_ids() {
    let sandbox = start(fixture()).await;
    let ids: Vec<String> = (1..=251)
        .map(|n| format!("gid://shopify/Location/{n}"))
        .collect();
    let (_, body) = graphql(
        &sandbox,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        json!({ "ids": ids }),
    )
    .await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("251") && message.contains("250"),
        "{message}"
    );
    let (_, body) = graphql(
        &sandbox,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        json!({ "ids": ids[..250] }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 250);
}
