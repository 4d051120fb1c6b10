//! The fleet tables against a real PostgreSQL: shops with sealed secrets, leases taken up to a
//! fair share, and the database refusing every state write under a stale epoch. Time moves by
//! setting a lease's `expires_at` in the past, as the database's clock would.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, UNIX_EPOCH};

use stockbridge_adapters_postgres::testing::TestDatabase;
use stockbridge_adapters_postgres::{Fleet, NewShop, PostgresError, PostgresStore, SecretKey};
use stockbridge_domain::{ProductId, Quantity, SkuId, WarehouseId};
use stockbridge_ports::{AuditEntry, AuditOutcome, RunKind, Secret, StateStore, Trigger};

const TTL: Duration = Duration::from_secs(30);

fn key() -> SecretKey {
    SecretKey::parse(&"5a".repeat(32)).unwrap()
}

fn shop(n: usize) -> NewShop {
    NewShop {
        shop_domain: format!("shop-{n}.myshopify.com"),
        tiktok_shop_cipher: format!("SHOP_{n}"),
        settings: "[rules]\nquantity_percent = 80\n".into(),
        secrets: BTreeMap::from([(
            "shopify.access_token".to_owned(),
            Secret::new(format!("shpat_SECRET_{n}")),
        )]),
    }
}

fn applied(quantity: i64) -> AuditEntry {
    AuditEntry {
        at: UNIX_EPOCH + Duration::from_secs(1_000),
        run_id: None,
        product_id: ProductId::new("9001").unwrap(),
        sku_id: SkuId::new("90011").unwrap(),
        seller_sku: "MUG".into(),
        warehouse: WarehouseId::new("7001").unwrap(),
        old: None,
        new: Quantity::new(quantity).unwrap(),
        explanation: "985 × 80% = 788".into(),
        trigger: Trigger::Reconcile,
        outcome: AuditOutcome::Applied,
    }
}

async fn setup() -> Option<(TestDatabase, PostgresStore, Fleet)> {
    let db = TestDatabase::new().await?;
    let store = PostgresStore::connect(db.url()).await.unwrap();
    let fleet = Fleet::new(&store);
    Some((db, store, fleet))
}

/// Ends every lease of `shop` now, as time passing would.
async fn expire(db: &TestDatabase, shop: i64) {
    let (client, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute(
            "UPDATE shop_leases SET expires_at = clock_timestamp() - interval '1 second' \
             WHERE shop_id = $1",
            &[&shop],
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_racing_for_leases_never_both_hold_one() {
    let Some((_db, _store, fleet)) = setup().await else {
        return;
    };
    for n in 0..24 {
        fleet.put_shop(&key(), &shop(n)).await.unwrap();
    }
    let racers = (0..6).map(|w| {
        let fleet = fleet.clone();
        tokio::spawn(async move {
            let worker = format!("worker-{w}");
            let mut got = Vec::new();
            for _ in 0..4 {
                got.extend(fleet.acquire(&worker, TTL).await.unwrap());
            }
            (worker, got)
        })
    });
    let mut owner_of: HashMap<i64, String> = HashMap::new();
    for racer in racers {
        let (worker, got) = racer.await.unwrap();
        for lease in got {
            if let Some(other) = owner_of.insert(lease.shop_id, worker.clone()) {
                panic!("shop {} granted to {other} and {worker}", lease.shop_id);
            }
            assert_eq!(lease.epoch, 1, "a first grant is epoch 1: {lease:?}");
        }
    }
    let listed = fleet.shops().await.unwrap();
    for row in &listed {
        assert_eq!(
            row.owner.as_ref(),
            owner_of.get(&row.id),
            "the table agrees with the grants: {row:?}"
        );
    }
}

#[tokio::test]
async fn a_worker_takes_at_most_its_fair_share() {
    let Some((_db, _store, fleet)) = setup().await else {
        return;
    };
    // Both workers are alive before there is anything to take.
    assert!(fleet.acquire("a", TTL).await.unwrap().is_empty());
    assert!(fleet.acquire("b", TTL).await.unwrap().is_empty());
    for n in 0..5 {
        fleet.put_shop(&key(), &shop(n)).await.unwrap();
    }
    assert_eq!(
        fleet.acquire("a", TTL).await.unwrap().len(),
        3,
        "ceil(5 / 2)"
    );
    assert_eq!(
        fleet.acquire("a", TTL).await.unwrap().len(),
        0,
        "a worker at its share takes no more"
    );
    assert_eq!(fleet.acquire("b", TTL).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_worker_gives_back_its_surplus_when_another_joins() {
    let Some((_db, _store, fleet)) = setup().await else {
        return;
    };
    for n in 0..4 {
        fleet.put_shop(&key(), &shop(n)).await.unwrap();
    }
    assert_eq!(
        fleet.acquire("a", TTL).await.unwrap().len(),
        4,
        "alone, a takes all"
    );
    assert!(fleet.surplus("a").await.unwrap().is_empty());
    assert!(
        fleet.acquire("b", TTL).await.unwrap().is_empty(),
        "nothing is free when b joins"
    );
    let surplus = fleet.surplus("a").await.unwrap();
    assert_eq!(surplus.len(), 2, "a keeps ceil(4 / 2): {surplus:?}");
    assert_eq!(fleet.release("a", &surplus).await.unwrap(), 2);
    let taken = fleet.acquire("b", TTL).await.unwrap();
    let mut taken: Vec<i64> = taken.iter().map(|l| l.shop_id).collect();
    taken.sort_unstable();
    let mut surplus = surplus;
    surplus.sort_unstable();
    assert_eq!(taken, surplus, "b takes what a gave back");
    assert!(fleet.surplus("a").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_write_under_a_stale_epoch_is_refused_by_the_database() {
    let Some((db, store, fleet)) = setup().await else {
        return;
    };
    let id = fleet.put_shop(&key(), &shop(1)).await.unwrap();
    let first = fleet.acquire("a", TTL).await.unwrap().remove(0);
    let zombie = store.scoped(first.scope());
    zombie.record_writes(&[applied(5)]).await.unwrap();

    expire(&db, id).await;
    let second = fleet.acquire("b", TTL).await.unwrap().remove(0);
    assert_eq!(second.shop_id, id);
    assert!(
        second.epoch > first.epoch,
        "an expired lease is taken over under a higher epoch: {first:?} then {second:?}"
    );
    assert!(
        fleet
            .renew("a", std::slice::from_ref(&first), TTL)
            .await
            .unwrap()
            .is_empty(),
        "the old owner cannot renew a lease it lost"
    );

    let refused = zombie.record_writes(&[applied(9)]).await.unwrap_err();
    assert!(PostgresError::is_stale_epoch(&refused), "{refused:?}");
    let refused = zombie
        .start_run(RunKind::Reconcile, UNIX_EPOCH)
        .await
        .unwrap_err();
    assert!(PostgresError::is_stale_epoch(&refused), "{refused:?}");
    let refused = zombie.hold_writes(&[]).await;
    assert!(refused.is_ok(), "deleting nothing writes nothing");

    let owner = store.scoped(second.scope());
    owner.record_writes(&[applied(7)]).await.unwrap();
    let confirmed = owner
        .confirmed(&[SkuId::new("90011").unwrap()])
        .await
        .unwrap();
    assert_eq!(
        confirmed[0].quantity.get(),
        7,
        "the stale write left nothing behind"
    );
    assert_eq!(owner.audit_log(10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_write_without_an_epoch_or_after_the_lease_expired_is_refused() {
    let Some((db, store, fleet)) = setup().await else {
        return;
    };
    let id = fleet.put_shop(&key(), &shop(1)).await.unwrap();
    let lease = fleet.acquire("a", TTL).await.unwrap().remove(0);
    let unfenced = store.scoped(stockbridge_adapters_postgres::ShopScope {
        shop_id: id,
        epoch: None,
    });
    let refused = unfenced.record_writes(&[applied(1)]).await.unwrap_err();
    assert!(PostgresError::is_stale_epoch(&refused), "{refused:?}");

    let holder = store.scoped(lease.scope());
    holder.record_writes(&[applied(2)]).await.unwrap();
    expire(&db, id).await;
    let refused = holder.record_writes(&[applied(3)]).await.unwrap_err();
    assert!(
        PostgresError::is_stale_epoch(&refused),
        "an expired lease writes nothing, even before anyone takes it over: {refused:?}"
    );
}

#[tokio::test]
async fn a_released_lease_is_granted_again_under_a_new_epoch() {
    let Some((_db, store, fleet)) = setup().await else {
        return;
    };
    fleet.put_shop(&key(), &shop(1)).await.unwrap();
    let first = fleet.acquire("a", TTL).await.unwrap().remove(0);
    assert_eq!(
        fleet
            .renew("a", std::slice::from_ref(&first), TTL)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(fleet.release("a", &[first.shop_id]).await.unwrap(), 1);
    let refused = store
        .scoped(first.scope())
        .save_tokens(
            "tiktok",
            &stockbridge_ports::PlatformTokens {
                access_token: Secret::new("a"),
                refresh_token: Secret::new("r"),
                access_expires_at: None,
                refresh_expires_at: None,
            },
        )
        .await
        .unwrap_err();
    assert!(PostgresError::is_stale_epoch(&refused), "{refused:?}");
    let again = fleet.acquire("b", TTL).await.unwrap().remove(0);
    assert_eq!(again.epoch, first.epoch + 1);
}

#[tokio::test]
async fn shop_secrets_are_sealed_at_rest_and_open_with_the_key() {
    let Some((db, _store, fleet)) = setup().await else {
        return;
    };
    let id = fleet.put_shop(&key(), &shop(1)).await.unwrap();
    let (client, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let dump: String = client
        .query_one("SELECT (SELECT json_agg(s)::text FROM shops s)", &[])
        .await
        .unwrap()
        .get(0);
    assert!(dump.contains("shop-1.myshopify.com"), "{dump}");
    assert!(
        !dump.contains("shpat_SECRET_1"),
        "a dump reveals no token: {dump}"
    );
    let secrets = fleet.shop_secrets(&key(), id).await.unwrap().unwrap();
    assert_eq!(secrets["shopify.access_token"].expose(), "shpat_SECRET_1");
    let other = SecretKey::parse(&"11".repeat(32)).unwrap();
    let err = fleet.shop_secrets(&other, id).await.unwrap_err();
    assert!(err.to_string().contains("do not open"), "{err}");
}

#[tokio::test]
async fn removing_a_shop_removes_its_state_and_fences_out_its_worker() {
    let Some((_db, store, fleet)) = setup().await else {
        return;
    };
    let id = fleet.put_shop(&key(), &shop(1)).await.unwrap();
    let kept = fleet.put_shop(&key(), &shop(2)).await.unwrap();
    let leases = fleet.acquire("a", TTL).await.unwrap();
    for lease in &leases {
        store
            .scoped(lease.scope())
            .record_writes(&[applied(4)])
            .await
            .unwrap();
    }
    assert_eq!(
        fleet.put_shop(&key(), &shop(1)).await.unwrap(),
        id,
        "storing a shop again replaces it in place"
    );
    assert_eq!(
        fleet
            .remove_shops("shop-1.myshopify.com", None)
            .await
            .unwrap(),
        vec![id]
    );
    let gone = leases.iter().find(|l| l.shop_id == id).unwrap();
    let refused = store
        .scoped(gone.scope())
        .record_writes(&[applied(5)])
        .await;
    assert!(
        PostgresError::is_stale_epoch(&refused.unwrap_err()),
        "a removed shop's worker writes nothing"
    );
    assert!(store
        .scoped(gone.scope())
        .audit_log(10)
        .await
        .unwrap()
        .is_empty());
    let listed: Vec<i64> = fleet.shops().await.unwrap().iter().map(|s| s.id).collect();
    assert_eq!(listed, vec![kept]);
}
