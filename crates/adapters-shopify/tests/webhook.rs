//! Webhook deliveries as Shopify sends them: signature, headers, typed events, garbage.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use stockbridge_adapters_shopify::webhook::{
    parse_webhook, verify_webhook, EventKind, LocationChange, WebhookError, WebhookHeaders,
};
use stockbridge_domain::{InventoryItemId, LocationId, UpdatedAt};
use stockbridge_ports::Secret;

fn headers(topic: &str) -> WebhookHeaders {
    WebhookHeaders::from_pairs([
        ("X-Shopify-Topic", topic),
        ("X-Shopify-Shop-Domain", "demo.myshopify.com"),
        (
            "X-Shopify-Webhook-Id",
            "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        ),
        ("X-Shopify-Event-Id", "98880550-7158-44d4-b7cd-2c97c8a091b5"),
        ("X-Shopify-Triggered-At", "2025-06-01T12:00:00.123Z"),
    ])
    .unwrap()
}

fn item(id: u64) -> InventoryItemId {
    InventoryItemId::new(id).unwrap()
}

fn location(id: u64) -> LocationId {
    LocationId::new(id).unwrap()
}

#[test]
fn a_signed_inventory_level_update_verifies_and_parses() {
    let body = br#"{"inventory_item_id":271878346596884015,"location_id":53716844710,"available":7,"updated_at":"2020-09-03T08:44:10-04:00","admin_graphql_api_id":"gid://shopify/InventoryLevel/87892394150?inventory_item_id=271878346596884015"}"#;
    let mut mac = Hmac::<Sha256>::new_from_slice(b"app-secret").unwrap();
    mac.update(body);
    let signature = STANDARD.encode(mac.finalize().into_bytes());
    verify_webhook(&Secret::new("app-secret"), body, &signature).unwrap();

    let event = parse_webhook(&headers("inventory_levels/update"), body).unwrap();
    assert_eq!(event.webhook_id, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
    assert_eq!(
        event.event_id.as_deref(),
        Some("98880550-7158-44d4-b7cd-2c97c8a091b5")
    );
    assert_eq!(
        event.triggered_at.as_deref(),
        Some("2025-06-01T12:00:00.123Z")
    );
    assert_eq!(event.shop_domain, "demo.myshopify.com");
    assert_eq!(
        event.kind,
        EventKind::InventoryLevelUpdated {
            inventory_item_id: item(271878346596884015),
            location_id: location(53716844710),
            available: Some(7),
            // 08:44:10 at UTC-4.
            updated_at: UpdatedAt::from_unix_seconds(1_599_137_050),
        }
    );
}

#[test]
fn a_level_update_without_a_readable_time_has_none() {
    for body in [
        br#"{"inventory_item_id":1001,"location_id":1,"available":3}"#.as_slice(),
        br#"{"inventory_item_id":1001,"location_id":1,"available":3,"updated_at":"soon"}"#,
        br#"{"inventory_item_id":1001,"location_id":1,"available":3,"updated_at":null}"#,
    ] {
        let event = parse_webhook(&headers("inventory_levels/update"), body).unwrap();
        assert!(
            matches!(
                event.kind,
                EventKind::InventoryLevelUpdated {
                    available: Some(3),
                    updated_at: None,
                    ..
                }
            ),
            "{:?}",
            event.kind
        );
    }
}

#[test]
fn an_untracked_item_updates_with_no_available_quantity() {
    let body = br#"{"inventory_item_id":1001,"location_id":1,"available":null}"#;
    let event = parse_webhook(&headers("inventory_levels/update"), body).unwrap();
    assert!(matches!(
        event.kind,
        EventKind::InventoryLevelUpdated {
            available: None,
            ..
        }
    ));
}

#[test]
fn connect_and_disconnect_are_told_apart() {
    let body = br#"{"inventory_item_id":1001,"location_id":2,"available":0}"#;
    let connected = parse_webhook(&headers("inventory_levels/connect"), body).unwrap();
    assert_eq!(
        connected.kind,
        EventKind::InventoryLevelConnected {
            inventory_item_id: item(1001),
            location_id: location(2),
            available: Some(0)
        }
    );
    let body = br#"{"inventory_item_id":1001,"location_id":2}"#;
    let disconnected = parse_webhook(&headers("inventory_levels/disconnect"), body).unwrap();
    assert_eq!(
        disconnected.kind,
        EventKind::InventoryLevelDisconnected {
            inventory_item_id: item(1001),
            location_id: location(2)
        }
    );
}

#[test]
fn an_inventory_item_update_carries_tracked() {
    let body = br#"{"id":1001,"sku":"TEE","tracked":false,"requires_shipping":true,"admin_graphql_api_id":"gid://shopify/InventoryItem/1001"}"#;
    let event = parse_webhook(&headers("inventory_items/update"), body).unwrap();
    assert_eq!(
        event.kind,
        EventKind::InventoryItemUpdated {
            inventory_item_id: item(1001),
            tracked: Some(false)
        }
    );
    let deleted = parse_webhook(&headers("inventory_items/delete"), br#"{"id":1001}"#).unwrap();
    assert_eq!(
        deleted.kind,
        EventKind::InventoryItemDeleted {
            inventory_item_id: item(1001)
        }
    );
}

#[test]
fn a_product_update_lists_the_items_of_its_variants() {
    let body = br#"{"id":10,"status":"active","variants":[
        {"id":101,"sku":"A","inventory_policy":"deny","inventory_item_id":1001,"inventory_quantity":3},
        {"id":102,"sku":"B","inventory_policy":"continue","inventory_item_id":1002}]}"#;
    let event = parse_webhook(&headers("products/update"), body).unwrap();
    assert_eq!(
        event.kind,
        EventKind::ProductUpdated {
            inventory_item_ids: vec![item(1001), item(1002)]
        }
    );
}

#[test]
fn every_location_topic_is_a_location_change() {
    let cases = [
        ("locations/create", LocationChange::Create),
        ("locations/update", LocationChange::Update),
        ("locations/activate", LocationChange::Activate),
        ("locations/deactivate", LocationChange::Deactivate),
        ("locations/delete", LocationChange::Delete),
    ];
    for (topic, change) in cases {
        let event = parse_webhook(
            &headers(topic),
            br#"{"id":7,"name":"Depot","active":false}"#,
        )
        .unwrap();
        assert_eq!(
            event.kind,
            EventKind::LocationChanged {
                location_id: location(7),
                kind: change
            },
            "{topic}"
        );
    }
}

#[test]
fn an_unknown_topic_is_other_with_its_name() {
    let event = parse_webhook(&headers("orders/create"), br#"{"id":1}"#).unwrap();
    assert_eq!(event.kind, EventKind::Other("orders/create".into()));
}

#[test]
fn a_zero_id_is_an_invalid_id_not_a_panic() {
    let err = parse_webhook(
        &headers("inventory_levels/update"),
        br#"{"inventory_item_id":0,"location_id":1,"available":1}"#,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            WebhookError::InvalidId {
                field: "inventory_item_id",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn garbage_bodies_are_typed_errors_for_every_topic() {
    let topics = [
        "inventory_levels/update",
        "inventory_levels/connect",
        "inventory_levels/disconnect",
        "inventory_items/update",
        "inventory_items/delete",
        "products/update",
        "locations/deactivate",
        "orders/create",
    ];
    let hand_made: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"{".to_vec(),
        br#"{"inventory_item_id":"abc","location_id":1}"#.to_vec(),
        br#"{"inventory_item_id":-1,"location_id":1}"#.to_vec(),
        br#"{"inventory_item_id":1e400,"location_id":1}"#.to_vec(),
        br#"{"id":18446744073709551616}"#.to_vec(),
        br#"{"variants":[{"inventory_item_id":"x"}]}"#.to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
    ];
    for body in &hand_made {
        let result = parse_webhook(&headers("inventory_levels/update"), body);
        assert!(
            matches!(result, Err(WebhookError::MalformedBody { .. })),
            "{:?} must be refused, got {result:?}",
            String::from_utf8_lossy(body)
        );
    }
    let mut bodies = hand_made;
    // A deterministic spray of byte strings (xorshift), some made of JSON-ish bytes.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let alphabet = br#"{}[]":,0123456789-e.nultrfasi_dvbe "#;
    for n in 0..300 {
        let len = (n % 40) + 1;
        let body = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                if n % 2 == 0 {
                    alphabet[(state % alphabet.len() as u64) as usize]
                } else {
                    state as u8
                }
            })
            .collect();
        bodies.push(body);
    }
    // Whatever the bytes, the answer is an event or a typed refusal, never a panic.
    for topic in topics {
        for body in &bodies {
            match parse_webhook(&headers(topic), body) {
                Ok(_)
                | Err(
                    WebhookError::MalformedBody { .. }
                    | WebhookError::InvalidId { .. }
                    | WebhookError::WrongResource { .. },
                ) => {}
                Err(other) => panic!("{topic}: unexpected error {other}"),
            }
        }
    }
}

#[test]
fn a_body_of_another_resource_is_refused_whatever_the_topic_header_says() {
    let product = br#"{"id":10,"title":"Tee","admin_graphql_api_id":"gid://shopify/Product/10","variants":[{"id":101,"inventory_item_id":1001}]}"#;
    assert!(
        parse_webhook(&headers("inventory_levels/update"), product).is_err(),
        "a product has no inventory_item_id of its own"
    );
    for topic in ["locations/update", "inventory_items/update"] {
        let err = parse_webhook(&headers(topic), product).unwrap_err();
        assert!(
            matches!(err, WebhookError::WrongResource { .. }),
            "{topic}: {err:?}"
        );
    }
    assert!(parse_webhook(&headers("products/update"), product).is_ok());
    // Without admin_graphql_api_id, a product is still known by its variants, and a level
    // by its inventory_item_id.
    let bare_product = br#"{"id":10,"variants":[]}"#;
    assert!(parse_webhook(&headers("locations/update"), bare_product).is_err());
    let bare_level = br#"{"id":5,"inventory_item_id":1001,"location_id":1}"#;
    let err = parse_webhook(&headers("locations/update"), bare_level).unwrap_err();
    assert!(err.to_string().contains("inventory level"), "{err}");
    let location = br#"{"id":5,"name":"A","admin_graphql_api_id":"gid://shopify/Location/5"}"#;
    assert!(parse_webhook(&headers("locations/update"), location).is_ok());
}

#[test]
fn ids_longer_than_128_bytes_are_refused_naming_the_header() {
    let long = "w".repeat(129);
    let err = WebhookHeaders::from_pairs([
        ("X-Shopify-Topic", "products/update"),
        ("X-Shopify-Shop-Domain", "demo.myshopify.com"),
        ("X-Shopify-Webhook-Id", long.as_str()),
    ])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the webhook's X-Shopify-Webhook-Id header is 129 bytes long; at most 128 are accepted"
    );
    let at_the_bound = "e".repeat(128);
    assert!(WebhookHeaders::from_pairs([
        ("X-Shopify-Topic", "products/update"),
        ("X-Shopify-Shop-Domain", "demo.myshopify.com"),
        ("X-Shopify-Webhook-Id", "w-1"),
        ("X-Shopify-Event-Id", at_the_bound.as_str()),
    ])
    .is_ok());
    let err = WebhookHeaders::from_pairs([
        ("X-Shopify-Topic", "products/update"),
        ("X-Shopify-Shop-Domain", "demo.myshopify.com"),
        ("X-Shopify-Webhook-Id", "w-1"),
        ("X-Shopify-Event-Id", long.as_str()),
    ])
    .unwrap_err();
    assert!(
        matches!(err, WebhookError::HeaderTooLong { header, .. } if header == "X-Shopify-Event-Id")
    );
}
