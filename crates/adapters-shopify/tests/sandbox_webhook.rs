//! The sandbox's signed webhooks, received by wiremock, pass `verify_webhook` and parse into
//! the events the changes made.

use std::time::Duration;

use serde_json::json;
use stockbridge_adapters_shopify::webhook::{
    parse_webhook, verify_webhook, verify_webhook_any, EventKind, LocationChange, WebhookError,
    WebhookHeaders,
};
use stockbridge_domain::{InventoryItemId, LocationId};
use stockbridge_ports::{InventorySource, Secret};
use stockbridge_sandbox::{Fixture, Sandbox, SandboxOptions};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const FIXTURE: &str = r#"{"shopify": {
    "locations": [{"id": 1, "name": "East"}, {"id": 2, "name": "West"}],
    "variants": [{"id": 101, "product_id": 10, "sku": "TEE", "inventory_item_id": 1001,
                  "levels": [{"location_id": 1, "available": 5}]}]}}"#;

/// Waits, with a deadline, until the receiver holds `n` deliveries.
async fn deliveries(receiver: &MockServer, n: usize) -> Vec<Request> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got = receiver.received_requests().await.unwrap();
        if got.len() >= n {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {n} deliveries arrived",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn headers_of(request: &Request) -> WebhookHeaders {
    WebhookHeaders::from_lookup(|name| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
    .unwrap()
}

#[tokio::test]
async fn sandbox_deliveries_verify_and_parse_into_typed_events() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let options = SandboxOptions {
        webhook_urls: vec![format!("{}/webhooks", receiver.uri())],
        ..SandboxOptions::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = Sandbox::start(Fixture::from_json(FIXTURE).unwrap(), listener, options)
        .await
        .unwrap();
    let secret = Secret::new(sandbox.credentials().shopify_webhook_secret.clone());
    let control = reqwest::Client::new();

    let answer = control
        .post(format!(
            "{}/_sandbox/shopify/inventory_levels",
            sandbox.base_url()
        ))
        .json(&json!({"inventory_item_id": 1001, "location_id": 1, "available": 9}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    let level = deliveries(&receiver, 1).await.remove(0);
    let headers = headers_of(&level);
    verify_webhook(&secret, &level.body, headers.hmac.as_deref().unwrap()).unwrap();
    let event = parse_webhook(&headers, &level.body).unwrap();
    assert_eq!(event.shop_domain, sandbox.credentials().shop_domain);
    assert!(event.event_id.is_some() && event.triggered_at.is_some());
    let EventKind::InventoryLevelUpdated { updated_at, .. } = event.kind else {
        panic!("a level update: {:?}", event.kind);
    };
    assert!(updated_at.is_some(), "the sandbox stamps its payloads");
    assert_eq!(
        event.kind,
        EventKind::InventoryLevelUpdated {
            inventory_item_id: InventoryItemId::new(1001).unwrap(),
            location_id: LocationId::new(1).unwrap(),
            available: Some(9),
            updated_at,
        }
    );
    // The payload's time is the level's, as a read gives it.
    let source = crate::sandbox::config(&sandbox).build().unwrap();
    let read = source
        .variants_for_items(&[InventoryItemId::new(1001).unwrap()])
        .await
        .unwrap();
    let read_level = read[0]
        .levels
        .iter()
        .find(|l| l.location.get() == 1)
        .unwrap();
    assert_eq!(read_level.updated_at, updated_at);

    let mut tampered = level.body.clone();
    tampered.push(b' ');
    assert!(matches!(
        verify_webhook(&secret, &tampered, headers.hmac.as_deref().unwrap()),
        Err(WebhookError::BadSignature)
    ));
    let rotated = [Secret::new("the-new-secret"), secret.clone()];
    verify_webhook_any(&rotated, &level.body, headers.hmac.as_deref().unwrap()).unwrap();

    control
        .post(format!(
            "{}/_sandbox/shopify/locations/2",
            sandbox.base_url()
        ))
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let deactivated = EventKind::LocationChanged {
        location_id: LocationId::new(2).unwrap(),
        kind: LocationChange::Deactivate,
    };
    let mut seen = 2;
    loop {
        let kinds: Vec<EventKind> = deliveries(&receiver, seen)
            .await
            .iter()
            .map(|request| {
                let headers = headers_of(request);
                verify_webhook(&secret, &request.body, headers.hmac.as_deref().unwrap()).unwrap();
                parse_webhook(&headers, &request.body).unwrap().kind
            })
            .collect();
        if kinds.contains(&deactivated) {
            break;
        }
        seen = kinds.len() + 1;
    }
    sandbox.shutdown().await;
}
