use crate::*;

fn order(status: OrderStatus) -> HeldOrder {
    HeldOrder {
        order: TikTokOrder {
            id: OrderId::new("576001").unwrap(),
            status,
            create_time: 1_000,
            update_time: 1_000,
            lines: vec![OrderLine {
                sku_id: SkuId::new("90011").unwrap(),
                seller_sku: Sku::parse_optional(Some("TEE")),
                warehouse: None,
                quantity: 3,
            }],
        },
        first_seen_ms: 10_000,
        copied_at_ms: None,
    }
}

const HOUR: i64 = 3_600_000;

#[test]
fn orders_before_shipping_hold_and_shipped_or_cancelled_ones_do_not() {
    for status in [
        OrderStatus::Unpaid,
        OrderStatus::OnHold,
        OrderStatus::AwaitingShipment,
        OrderStatus::PartiallyShipping,
        OrderStatus::AwaitingCollection,
        OrderStatus::Unknown,
    ] {
        assert_eq!(
            order(status).holds(20_000, 20_000, HOUR),
            Ok(()),
            "{status:?}"
        );
    }
    for status in [
        OrderStatus::InTransit,
        OrderStatus::Delivered,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
    ] {
        assert_eq!(
            order(status).holds(20_000, 20_000, HOUR),
            Err(HoldEnd::Status(status))
        );
    }
}

#[test]
fn a_copy_ends_the_hold_only_for_levels_read_after_it_was_seen() {
    let mut held = order(OrderStatus::AwaitingShipment);
    held.copied_at_ms = Some(50_000);
    assert_eq!(
        held.holds(49_999, 60_000, HOUR),
        Ok(()),
        "read before the copy"
    );
    assert_eq!(held.holds(50_000, 60_000, HOUR), Err(HoldEnd::Copied));
    assert_eq!(held.holds(70_000, 70_000, HOUR), Err(HoldEnd::Copied));
}

#[test]
fn a_hold_expires_after_max_hold_from_when_it_was_first_seen() {
    let held = order(OrderStatus::AwaitingShipment);
    assert_eq!(held.holds(0, 10_000 + HOUR, HOUR), Ok(()));
    assert_eq!(held.holds(0, 10_001 + HOUR, HOUR), Err(HoldEnd::Expired));
}

#[test]
fn statuses_read_by_tiktok_name_and_unknown_names_hold() {
    assert_eq!(
        OrderStatus::parse("AWAITING_COLLECTION"),
        OrderStatus::AwaitingCollection
    );
    assert_eq!(OrderStatus::parse("SOMETHING_NEW"), OrderStatus::Unknown);
    assert!(OrderStatus::parse("SOMETHING_NEW").holds());
    assert_eq!(OrderStatus::Cancelled.as_str(), "CANCELLED");
}

#[test]
fn a_shopify_order_is_the_copy_when_a_configured_field_carries_the_id() {
    let id = OrderId::new("576001").unwrap();
    let by = |marks: ShopifyOrderMarks| {
        MatchField::ALL
            .into_iter()
            .filter(|f| marks.carries(&id, &[*f]))
            .collect::<Vec<_>>()
    };
    let source = ShopifyOrderMarks {
        source_identifier: Some(" 576001 ".into()),
        ..Default::default()
    };
    assert_eq!(by(source), [MatchField::SourceIdentifier]);
    let tag = ShopifyOrderMarks {
        tags: vec!["TikTok".into(), "576001".into()],
        ..Default::default()
    };
    assert_eq!(by(tag), [MatchField::Tag]);
    let attribute = ShopifyOrderMarks {
        attribute_values: vec!["576001".into()],
        ..Default::default()
    };
    assert_eq!(by(attribute), [MatchField::CustomAttribute]);
    let note = ShopifyOrderMarks {
        note: Some("TikTok Shop order 576001, paid".into()),
        ..Default::default()
    };
    assert_eq!(by(note), [MatchField::Note]);
}

#[test]
fn a_longer_number_in_a_note_or_another_tag_is_not_the_id() {
    let id = OrderId::new("576001").unwrap();
    let marks = ShopifyOrderMarks {
        source_identifier: Some("5760011".into()),
        tags: vec!["order 576001".into()],
        note: Some("TikTok order 15760012".into()),
        ..Default::default()
    };
    assert!(!marks.carries(&id, &MatchField::ALL));
}

#[test]
fn match_fields_have_configuration_names() {
    for field in MatchField::ALL {
        assert_eq!(MatchField::parse(field.name()), Some(field));
    }
    assert_eq!(MatchField::parse("email"), None);
}
