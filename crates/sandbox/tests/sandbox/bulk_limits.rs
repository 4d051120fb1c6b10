//! The limits of bulk operations: five running at once, and exports that fail on Shopify's
//! side (an injected fault).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use stockbridge_sandbox::{ApiFaults, Faults, RunningSandbox, SandboxOptions};

use crate::support::{eventually, fixture, graphql, start, start_with};

const RUN: &str = r#"mutation($q: String!) { bulkOperationRunQuery(query: $q) {
    bulkOperation { id status } userErrors { field message code } } }"#;

const SNAPSHOT: &str = r#"{ productVariants { edges { node { id sku
    inventoryItem { id inventoryLevels { edges { node { location { id }
      quantities(names: ["available"]) { name quantity } } } } } } } } }"#;

const STATUS: &str = r#"query($id: ID!) { bulkOperation(id: $id) {
    id status errorCode objectCount url partialDataUrl } }"#;

async fn run(sandbox: &RunningSandbox) -> Value {
    let (status, body) = graphql(sandbox, RUN, json!({"q": SNAPSHOT})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["bulkOperationRunQuery"].clone()
}

/// Waits until the operation leaves CREATED/RUNNING; its last state.
async fn ended(sandbox: &RunningSandbox, id: &Value) -> Value {
    eventually(Duration::from_secs(10), || async {
        let (_, body) = graphql(sandbox, STATUS, json!({"id": id})).await;
        let op = body["data"]["bulkOperation"].clone();
        (op["status"] != "RUNNING" && op["status"] != "CREATED").then_some(op)
    })
    .await
}

#[tokio::test]
async fn a_sixth_bulk_query_is_refused_with_limit_reached_until_one_of_five_finishes() {
    let sandbox = start_with(
        fixture(),
        SandboxOptions {
            bulk_delay: Duration::from_millis(800),
            ..SandboxOptions::default()
        },
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let payload = run(&sandbox).await;
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        ids.push(payload["bulkOperation"]["id"].clone());
    }

    let refused = run(&sandbox).await;
    assert_eq!(refused["bulkOperation"], Value::Null);
    let error = &refused["userErrors"][0];
    assert_eq!(error["code"], "LIMIT_REACHED");
    assert_eq!(error["field"], Value::Null);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("Bulk operations limit reached"),
        "{error}"
    );
    assert_eq!(
        sandbox
            .stats()
            .count("shopify", "bulk_operation", "limit_reached"),
        1
    );

    // Once the five have finished, a new one starts.
    for id in &ids {
        assert_eq!(ended(&sandbox, id).await["status"], "COMPLETED");
    }
    let started = run(&sandbox).await;
    assert_eq!(started["userErrors"], json!([]), "{started}");
    assert_eq!(started["bulkOperation"]["status"], "CREATED");
    assert_eq!(
        sandbox
            .stats()
            .count("shopify", "bulk_operation", "created"),
        6
    );
}

#[tokio::test]
async fn a_fault_on_bulk_operation_ends_the_export_failed_with_internal_server_error() {
    let sandbox = start(fixture()).await;
    sandbox.set_faults(Faults {
        seed: Some(1),
        shopify: Some(ApiFaults {
            error_rate: 1.0,
            endpoints: Some(vec!["bulk_operation".to_owned()]),
            ..ApiFaults::default()
        }),
        ..Faults::default()
    });
    let payload = run(&sandbox).await;
    // The mutation itself is answered: only the export fails, later.
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    let id = payload["bulkOperation"]["id"].clone();

    let op = ended(&sandbox, &id).await;
    assert_eq!(op["status"], "FAILED");
    assert_eq!(op["errorCode"], "INTERNAL_SERVER_ERROR");
    assert_eq!(op["url"], Value::Null);
    assert_eq!(op["partialDataUrl"], Value::Null);
    assert_eq!(op["objectCount"], "0");
    let number = id.as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let file = reqwest::get(format!(
        "{}/_sandbox/bulk/{number}.jsonl",
        sandbox.base_url()
    ))
    .await
    .unwrap();
    assert_eq!(file.status(), StatusCode::NOT_FOUND);
}
