use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{eventually, fixture, graphql, start};

const RUN: &str = r#"mutation($q: String!) { bulkOperationRunQuery(query: $q) {
    bulkOperation { id status } userErrors { field message code } } }"#;

const SNAPSHOT: &str = r#"{ productVariants { edges { node {
    id sku inventoryPolicy product { id status } inventoryItem { id tracked
      inventoryLevels { edges { node { location { id } quantities(names: ["available"]) { name quantity } } } } } } } } }"#;

async fn finished(sandbox: &stockbridge_sandbox::RunningSandbox, id: &str) -> Value {
    let query = r#"query($id: ID!) { node(id: $id) { ... on BulkOperation {
        id status errorCode objectCount rootObjectCount url partialDataUrl } } }"#;
    eventually(Duration::from_secs(5), || async {
        let (_, body) = graphql(sandbox, query, json!({"id": id})).await;
        let op = body["data"]["node"].clone();
        (op["status"] == "COMPLETED").then_some(op)
    })
    .await
}

#[tokio::test]
async fn runs_a_bulk_query_whose_lines_join_by_parent_id() {
    let sandbox = start(fixture()).await;
    let (_, body) = graphql(&sandbox, RUN, json!({"q": SNAPSHOT})).await;
    let payload = &body["data"]["bulkOperationRunQuery"];
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["bulkOperation"]["status"], "CREATED");
    let id = payload["bulkOperation"]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("gid://shopify/BulkOperation/"));

    let op = finished(&sandbox, &id).await;
    assert_eq!(op["objectCount"], "6");
    assert_eq!(op["rootObjectCount"], "3");
    assert_eq!(op["partialDataUrl"], Value::Null);
    let text = reqwest::get(op["url"].as_str().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);

    let mut variants = HashMap::new();
    let mut levels: HashMap<String, Vec<&Value>> = HashMap::new();
    for line in &lines {
        match line.get("__parentId") {
            Some(parent) => levels
                .entry(parent.as_str().unwrap().to_owned())
                .or_default()
                .push(line),
            None => {
                variants.insert(line["id"].as_str().unwrap().to_owned(), line);
            }
        }
    }
    let tee = variants["gid://shopify/ProductVariant/101"];
    assert_eq!(tee["sku"], "TEE-RED-S");
    assert_eq!(tee["inventoryPolicy"], "DENY");
    assert_eq!(
        tee["product"],
        json!({"id": "gid://shopify/Product/10", "status": "ACTIVE"})
    );
    assert_eq!(
        tee["inventoryItem"],
        json!({"id": "gid://shopify/InventoryItem/1001", "tracked": true})
    );
    let tee_levels = &levels["gid://shopify/ProductVariant/101"];
    assert_eq!(tee_levels.len(), 2);
    let at_b = tee_levels
        .iter()
        .find(|l| l["location"]["id"] == "gid://shopify/Location/2")
        .unwrap();
    assert_eq!(
        at_b["quantities"],
        json!([{"name": "available", "quantity": 200}])
    );
    let stamp = at_b["updatedAt"].as_str().unwrap();
    assert!(
        stamp.len() == 20 && stamp.ends_with('Z'),
        "the level's time to the second, as GraphQL gives it: {stamp}"
    );
    // Children do not all come right after their parent: clients must join by __parentId.
    let mut last_parent: Option<&str> = None;
    let mut grouped = true;
    for line in &lines {
        match line.get("__parentId") {
            Some(parent) => grouped &= last_parent == parent.as_str(),
            None => last_parent = line["id"].as_str(),
        }
    }
    assert!(!grouped, "lines came out grouped: {text}");
}

#[tokio::test]
async fn reports_the_current_bulk_operation() {
    let sandbox = start(fixture()).await;
    let (_, body) = graphql(&sandbox, RUN, json!({"q": SNAPSHOT})).await;
    let id = body["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"].clone();
    let (_, body) = graphql(
        &sandbox,
        "{ currentBulkOperation(type: QUERY) { id status } }",
        json!({}),
    )
    .await;
    assert_eq!(body["data"]["currentBulkOperation"]["id"], id);
    let status = body["data"]["currentBulkOperation"]["status"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(status == "RUNNING" || status == "COMPLETED", "{status}");
}

#[tokio::test]
async fn refuses_a_bulk_query_it_cannot_run_with_a_user_error() {
    let sandbox = start(fixture()).await;
    let (_, body) = graphql(
        &sandbox,
        RUN,
        json!({"q": "{ orders { edges { node { id } } } }"}),
    )
    .await;
    let payload = &body["data"]["bulkOperationRunQuery"];
    assert_eq!(payload["bulkOperation"], Value::Null);
    assert_eq!(payload["userErrors"][0]["code"], "INVALID");
    assert_eq!(payload["userErrors"][0]["field"], json!(["query"]));
}
