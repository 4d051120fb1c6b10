//! The health check against the sandbox: a token of another shop than the configured one is
//! reported, naming both shops and never the token.

use stockbridge_adapters_shopify::ShopifyConfig;
use stockbridge_ports::{Secret, SourceError};
use stockbridge_sandbox::{Fixture, RunningSandbox, Sandbox, SandboxOptions};

async fn sandbox() -> RunningSandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fixture =
        Fixture::from_json(r#"{"shopify": {"locations": [{"id": 1, "name": "A"}]}}"#).unwrap();
    Sandbox::start(fixture, listener, SandboxOptions::default())
        .await
        .unwrap()
}

fn config(sandbox: &RunningSandbox, shop_domain: &str) -> ShopifyConfig {
    let mut config = ShopifyConfig::new(
        shop_domain,
        Secret::new(sandbox.credentials().shopify_access_token.clone()),
    );
    config.base_url = Some(sandbox.base_url());
    config
}

#[tokio::test]
async fn a_token_of_another_shop_fails_the_health_check_naming_both_shops() {
    let sandbox = sandbox().await;
    let token = sandbox.credentials().shopify_access_token.clone();
    let reported = sandbox.credentials().shop_domain.clone();
    let err = config(&sandbox, "another-shop.myshopify.com")
        .build()
        .unwrap()
        .health_check()
        .await
        .unwrap_err();
    let SourceError::Unauthorized { message } = &err else {
        panic!("expected Unauthorized, got {err:?}");
    };
    assert!(
        message.contains("another-shop.myshopify.com") && message.contains(&reported),
        "{message}"
    );
    assert!(!err.to_string().contains(&token), "{err}");
    assert!(!format!("{err:?}").contains(&token), "{err:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_configured_shop_passes_the_health_check_whatever_its_case() {
    let sandbox = sandbox().await;
    let configured = sandbox.credentials().shop_domain.to_ascii_uppercase();
    let health = config(&sandbox, &configured)
        .build()
        .unwrap()
        .health_check()
        .await
        .unwrap();
    assert_eq!(health.myshopify_domain, sandbox.credentials().shop_domain);
    sandbox.shutdown().await;
}
