//! Shopify error answers not covered elsewhere, one short call each.

use reqwest::StatusCode;
use serde_json::{json, Value};
use stockbridge_sandbox::{credentials, RunningSandbox};

use crate::support::{fixture, graphql, start};

async fn post_raw(sandbox: &RunningSandbox, file: &str, body: &str) -> (StatusCode, Value) {
    let answer = reqwest::Client::new()
        .post(format!("{}/admin/api/2025-10/{file}", sandbox.base_url()))
        .header("X-Shopify-Access-Token", credentials::SHOPIFY_ACCESS_TOKEN)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (answer.status(), answer.json().await.unwrap())
}

#[tokio::test]
async fn answers_400_required_parameter_missing_to_a_body_that_is_not_a_graphql_request() {
    let sandbox = start(fixture()).await;
    for body in ["not json", r#"{"query": 5}"#] {
        let (status, answer) = post_raw(&sandbox, "graphql.json", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            answer,
            json!({"errors": {"query": "Required parameter missing or invalid"}})
        );
    }
    assert_eq!(
        sandbox.stats().count("shopify", "graphql", "bad_request"),
        2
    );
}

#[tokio::test]
async fn answers_404_for_an_admin_file_other_than_graphql_json() {
    let sandbox = start(fixture()).await;
    let (status, answer) = post_raw(
        &sandbox,
        "products.json",
        r#"{"query": "{ shop { name } }"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer, json!({"errors": "Not Found"}));
}

async fn error_code(sandbox: &RunningSandbox, query: &str) -> (String, String) {
    let (status, body) = graphql(sandbox, query, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let error = &body["errors"][0];
    (
        error["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn answers_bad_request_to_a_cursor_it_did_not_issue() {
    let sandbox = start(fixture()).await;
    let (code, message) = error_code(
        &sandbox,
        r#"{ productVariants(first: 1, after: "not-a-cursor") { nodes { id } } }"#,
    )
    .await;
    assert_eq!(code, "BAD_REQUEST");
    assert_eq!(message, "Invalid cursor: not-a-cursor");
}

#[tokio::test]
async fn answers_bad_request_to_last_or_before() {
    let sandbox = start(fixture()).await;
    for query in [
        "{ productVariants(last: 1) { nodes { id } } }",
        r#"{ inventoryItems(first: 1, before: "eyJsYXN0X2lkIjoxMDAxfQ==") { nodes { id } } }"#,
    ] {
        let (code, message) = error_code(&sandbox, query).await;
        assert_eq!(code, "BAD_REQUEST", "{query}");
        assert!(message.contains("first and after"), "{message}");
    }
}
