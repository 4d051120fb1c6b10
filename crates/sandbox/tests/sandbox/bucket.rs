//! The Shopify cost bucket's settings: refused when unusable, and a query dearer than the bucket
//! is refused at once instead of being throttled for ever.

use reqwest::StatusCode;
use serde_json::json;
use stockbridge_sandbox::{Sandbox, SandboxError, SandboxOptions};

use crate::support::{fixture, graphql, start_with};

async fn start_error(options: SandboxOptions) -> SandboxError {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    match Sandbox::start(fixture(), listener, options).await {
        Ok(_) => panic!("the sandbox started"),
        Err(err) => err,
    }
}

#[tokio::test]
async fn refuses_a_bucket_size_that_is_not_a_finite_number_above_0() {
    for size in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = start_error(SandboxOptions {
            shopify_bucket_size: size,
            ..SandboxOptions::default()
        })
        .await;
        assert!(matches!(
            err,
            SandboxError::InvalidOption {
                option: "shopify_bucket_size",
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            format!("shopify_bucket_size is {size}; allowed: a finite number above 0")
        );
    }
}

#[tokio::test]
async fn refuses_a_restore_rate_that_is_not_a_finite_number_above_0() {
    for rate in [0.0, -0.5, f64::NAN] {
        let options = SandboxOptions {
            shopify_restore_rate: rate,
            ..SandboxOptions::default()
        };
        assert!(options.validate().is_err(), "{rate}");
        let message = start_error(options).await.to_string();
        assert_eq!(
            message,
            format!("shopify_restore_rate is {rate}; allowed: a finite number above 0")
        );
    }
}

#[test]
fn accepts_the_default_options_and_a_tiny_bucket() {
    assert!(SandboxOptions::default().validate().is_ok());
    let tiny = SandboxOptions {
        shopify_bucket_size: 0.5,
        shopify_restore_rate: 0.01,
        ..SandboxOptions::default()
    };
    assert!(tiny.validate().is_ok());
}

fn bucket_of(size: f64) -> SandboxOptions {
    SandboxOptions {
        shopify_bucket_size: size,
        shopify_restore_rate: 1.0,
        ..SandboxOptions::default()
    }
}

#[tokio::test]
async fn answers_max_cost_exceeded_when_a_query_costs_more_than_the_bucket_holds() {
    let sandbox = start_with(fixture(), bucket_of(60.0)).await;
    // 2 + 100 × 1 = 102 points: below the single query limit, above the bucket.
    let (status, body) = graphql(
        &sandbox,
        "{ productVariants(first: 100) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "MAX_COST_EXCEEDED", "{body}");
    assert_eq!(error["extensions"]["cost"], 102);
    assert_eq!(error["extensions"]["maxCost"], 60);
    assert!(error["message"]
        .as_str()
        .unwrap()
        .starts_with("Query cost is 102, which exceeds the single query max cost limit (60)."));
    assert_eq!(body.get("data"), None);
    let stats = sandbox.stats();
    assert_eq!(stats.count("shopify", "graphql", "max_cost_exceeded"), 1);
    assert_eq!(stats.count("shopify", "graphql", "throttled"), 0);
}

#[tokio::test]
async fn runs_a_query_that_costs_exactly_the_whole_bucket() {
    let sandbox = start_with(fixture(), bucket_of(60.5)).await;
    let (_, body) = graphql(
        &sandbox,
        "{ productVariants(first: 58) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(body.get("errors"), None, "{body}");
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 60);
    assert_eq!(
        body["data"]["productVariants"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}
