use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stockbridge_domain::{
    HeldOrder, OrderId, OrderLine, OrderStatus, ProductId, Quantity, Sku, SkuId, TikTokOrder,
    WarehouseId,
};

use crate::secret::Secret;
use crate::store::{
    AuditEntry, AuditOutcome, HeldWrite, PlatformTokens, RunCounts, RunEnd, RunKind, RunOutcome,
    StateStore, Trigger,
};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn entry(
    sku: &str,
    wh: &str,
    new: i64,
    secs: u64,
    trigger: Trigger,
    outcome: AuditOutcome,
) -> AuditEntry {
    AuditEntry {
        at: at(secs),
        run_id: None,
        product_id: ProductId::new("9001").unwrap(),
        sku_id: SkuId::new(sku).unwrap(),
        seller_sku: format!("SELLER-{sku}"),
        warehouse: WarehouseId::new(wh).unwrap(),
        old: Some(Quantity::new(1).unwrap()),
        new: Quantity::new(new).unwrap(),
        explanation: "East 10 + West 5 = 15; × 80% = 12".into(),
        trigger,
        outcome,
    }
}

/// Checks an empty store. Times are whole seconds; a store must keep at least that precision.
pub async fn store_contract<S: StateStore + ?Sized>(store: &S) {
    let s1 = SkuId::new("90011").unwrap();
    let s2 = SkuId::new("90012").unwrap();
    assert!(
        store
            .confirmed(std::slice::from_ref(&s1))
            .await
            .unwrap()
            .is_empty(),
        "a new store confirms nothing"
    );

    let run = store.start_run(RunKind::Sync, at(1_000)).await.unwrap();
    let mut first = vec![
        entry(
            "90011",
            "7001",
            12,
            1_001,
            Trigger::Sync,
            AuditOutcome::Applied,
        ),
        entry(
            "90012",
            "7001",
            3,
            1_002,
            Trigger::Webhook("inventory_levels/update".into()),
            AuditOutcome::Rejected {
                code: "12019024".into(),
                message: "stock invalid".into(),
            },
        ),
        entry(
            "90012",
            "7002",
            4,
            1_003,
            Trigger::Retry,
            AuditOutcome::Failed {
                message: "timeout".into(),
            },
        ),
    ];
    first[0].run_id = Some(run);
    store.record_writes(&first).await.unwrap();

    let confirmed = store.confirmed(&[s1.clone(), s2.clone()]).await.unwrap();
    assert_eq!(
        confirmed.len(),
        1,
        "only applied writes are confirmed: {confirmed:?}"
    );
    assert_eq!(confirmed[0].quantity.get(), 12);
    assert_eq!(confirmed[0].warehouse.as_str(), "7001");
    assert_eq!(confirmed[0].at, at(1_001));

    let log = store.audit_log(10).await.unwrap();
    let expected: Vec<AuditEntry> = first.iter().rev().cloned().collect();
    assert_eq!(
        log, expected,
        "the audit log returns every field, newest first"
    );
    assert_eq!(
        store.audit_log(1).await.unwrap().len(),
        1,
        "the limit is honoured"
    );

    store
        .record_writes(&[entry(
            "90011",
            "7001",
            20,
            1_010,
            Trigger::Reconcile,
            AuditOutcome::Applied,
        )])
        .await
        .unwrap();
    let confirmed = store.confirmed(std::slice::from_ref(&s1)).await.unwrap();
    assert_eq!(
        confirmed.len(),
        1,
        "a later write replaces the confirmed number"
    );
    assert_eq!(confirmed[0].quantity.get(), 20);

    let counts = RunCounts {
        lines: 3,
        updated: 1,
        unchanged: 0,
        failed: 2,
    };
    store
        .finish_run(
            run,
            RunEnd {
                at: at(1_020),
                counts,
                outcome: RunOutcome::PartlyFailed,
            },
        )
        .await
        .unwrap();
    let open = store
        .start_run(RunKind::Reconcile, at(1_030))
        .await
        .unwrap();
    let runs = store.runs(10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].id, open, "newest run first");
    assert_eq!(
        runs[0].outcome,
        RunOutcome::Running,
        "an unfinished run reads as running"
    );
    assert_eq!(runs[0].kind, RunKind::Reconcile);
    assert_eq!(runs[1].counts, counts);
    assert_eq!(runs[1].outcome, RunOutcome::PartlyFailed);
    assert_eq!(runs[1].finished_at, Some(at(1_020)));
    assert_eq!(runs[1].started_at, at(1_000));

    assert!(
        store
            .remember_delivery(&["wh-1".to_string()], at(2_000))
            .await
            .unwrap(),
        "a new webhook id is new"
    );
    assert!(
        !store
            .remember_delivery(&["wh-1".to_string()], at(2_001))
            .await
            .unwrap(),
        "a seen webhook id is not"
    );
    assert!(store
        .remember_delivery(&["wh-2".to_string()], at(3_000))
        .await
        .unwrap());
    assert_eq!(store.forget_webhooks_before(at(2_500)).await.unwrap(), 1);
    assert!(
        store
            .remember_delivery(&["wh-1".to_string()], at(3_001))
            .await
            .unwrap(),
        "a forgotten id is new again"
    );

    assert!(
        store
            .remember_delivery(&["webhook:a".into(), "event:x".into()], at(4_000))
            .await
            .unwrap(),
        "a delivery whose ids are all new is new"
    );
    assert!(
        !store
            .remember_delivery(&["webhook:b".into(), "event:x".into()], at(4_001))
            .await
            .unwrap(),
        "a delivery with one seen id is not"
    );
    assert!(
        !store
            .remember_delivery(&["webhook:b".to_string()], at(4_002))
            .await
            .unwrap(),
        "every id of a duplicate delivery is remembered all the same"
    );

    assert_eq!(store.load_tokens("tiktok").await.unwrap(), None);
    let tokens = PlatformTokens {
        access_token: Secret::new("access-1"),
        refresh_token: Secret::new("refresh-1"),
        access_expires_at: Some(at(5_000)),
        refresh_expires_at: None,
    };
    store.save_tokens("tiktok", &tokens).await.unwrap();
    assert_eq!(
        store.load_tokens("tiktok").await.unwrap(),
        Some(tokens.clone())
    );
    let newer = PlatformTokens {
        access_token: Secret::new("access-2"),
        ..tokens
    };
    store.save_tokens("tiktok", &newer).await.unwrap();
    assert_eq!(
        store.load_tokens("tiktok").await.unwrap(),
        Some(newer),
        "saving replaces"
    );
    assert_eq!(
        store.load_tokens("shopify").await.unwrap(),
        None,
        "tokens are per platform"
    );

    assert!(
        store.held_writes().await.unwrap().is_empty(),
        "a new store holds no write"
    );
    let held = |sku: &str, wh: &str, old: i64| HeldWrite {
        at: at(6_000),
        run_id: Some(run),
        product_id: ProductId::new("9001").unwrap(),
        sku_id: SkuId::new(sku).unwrap(),
        seller_sku: format!("SELLER-{sku}"),
        warehouse: WarehouseId::new(wh).unwrap(),
        old: Quantity::new(old).unwrap(),
        explanation: "East 0 = 0".into(),
    };
    let first = vec![
        held("90012", "7001", 4),
        held("90011", "7002", 9),
        held("90011", "7001", 3),
    ];
    store.hold_writes(&first).await.unwrap();
    assert_eq!(
        store.held_writes().await.unwrap(),
        vec![first[2].clone(), first[1].clone(), first[0].clone()],
        "held writes come back whole, by SKU then warehouse"
    );
    store.hold_writes(&first[..1]).await.unwrap();
    assert_eq!(
        store.held_writes().await.unwrap(),
        first[..1].to_vec(),
        "holding replaces what was held"
    );
    store.hold_writes(&[]).await.unwrap();
    assert!(
        store.held_writes().await.unwrap().is_empty(),
        "holding nothing clears them"
    );
    orders_contract(store).await;
}

fn held(id: &str, status: OrderStatus, first_seen_ms: i64, lines: usize) -> HeldOrder {
    HeldOrder {
        order: TikTokOrder {
            id: OrderId::new(id).unwrap(),
            status,
            create_time: 1_700_000_000,
            update_time: 1_700_000_100,
            lines: (0..lines)
                .map(|i| OrderLine {
                    sku_id: SkuId::new(format!("9001{i}")).unwrap(),
                    seller_sku: (i == 0).then(|| Sku::new("TEE").unwrap()),
                    warehouse: (i > 0).then(|| WarehouseId::new("7001").unwrap()),
                    quantity: 3 + i as u64,
                })
                .collect(),
        },
        first_seen_ms,
        copied_at_ms: None,
    }
}

/// The ledger of TikTok orders in flight keeps each order whole, replaces by id, and forgets
/// by when the order was first seen.
async fn orders_contract<S: StateStore + ?Sized>(store: &S) {
    assert!(store.orders().await.unwrap().is_empty());
    let a = held("576001", OrderStatus::AwaitingShipment, 2_000, 2);
    let b = held("576002", OrderStatus::Unpaid, 1_000, 1);
    store.save_orders(&[a.clone(), b.clone()]).await.unwrap();
    assert_eq!(store.orders().await.unwrap(), vec![b.clone(), a.clone()]);

    let mut changed = a.clone();
    changed.order.status = OrderStatus::Cancelled;
    changed.order.lines.truncate(1);
    changed.copied_at_ms = Some(2_500);
    store
        .save_orders(std::slice::from_ref(&changed))
        .await
        .unwrap();
    assert_eq!(
        store.orders().await.unwrap(),
        vec![b.clone(), changed.clone()],
        "saving replaces the order, lines included"
    );

    assert_eq!(store.forget_orders_before(1_500).await.unwrap(), 1);
    assert_eq!(store.orders().await.unwrap(), vec![changed]);
}
