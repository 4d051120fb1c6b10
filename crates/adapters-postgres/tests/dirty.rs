//! The fleet's webhook ingress tables against a real PostgreSQL: a delivery's items marked
//! dirty with its ids in one transaction, the newest mark winning, a redelivery marking
//! nothing, and only the current lease holder taking the marks.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use stockbridge_adapters_postgres::testing::TestDatabase;
use stockbridge_adapters_postgres::{
    Delivery, DirtyLevel, Fleet, Lease, LevelMark, NewShop, OrderMark, PostgresStore, SecretKey,
};
use stockbridge_domain::ShopifyOrderMarks;
use stockbridge_ports::Secret;

const TTL: Duration = Duration::from_secs(30);

fn key() -> SecretKey {
    SecretKey::parse(&"5a".repeat(32)).unwrap()
}

fn shop(domain: &str, cipher: &str) -> NewShop {
    NewShop {
        shop_domain: domain.into(),
        tiktok_shop_cipher: cipher.into(),
        settings: "[rules]\nquantity_percent = 80\n".into(),
        secrets: BTreeMap::from([(
            "shopify.webhook_secret".to_owned(),
            Secret::new(format!("whsec_{cipher}")),
        )]),
    }
}

async fn setup() -> Option<(TestDatabase, Fleet)> {
    let db = TestDatabase::new().await?;
    let store = PostgresStore::connect(db.url()).await.unwrap();
    Some((db, Fleet::new(&store)))
}

/// Stores one shop and grants its lease to `w1`.
async fn one_shop_held_by_w1(fleet: &Fleet) -> (i64, Lease) {
    let id = fleet
        .put_shop(&key(), &shop("a.myshopify.com", "US"))
        .await
        .unwrap();
    (id, fleet.acquire("w1", TTL).await.unwrap().remove(0))
}

fn at(seconds: u64) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + seconds)
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn a_domain_with_two_tiktok_shops_gives_both_targets_with_their_own_secrets() {
    let Some((_db, fleet)) = setup().await else {
        return;
    };
    fleet
        .put_shop(&key(), &shop("a.myshopify.com", "US"))
        .await
        .unwrap();
    fleet
        .put_shop(&key(), &shop("a.myshopify.com", "UK"))
        .await
        .unwrap();
    fleet
        .put_shop(&key(), &shop("b.myshopify.com", "US"))
        .await
        .unwrap();
    let targets = fleet
        .webhook_targets(&key(), "A.myshopify.com")
        .await
        .unwrap();
    let secrets: Vec<String> = targets
        .iter()
        .map(|t| t.webhook_secret.as_ref().unwrap().expose().to_owned())
        .collect();
    assert_eq!(secrets, ["whsec_US", "whsec_UK"]);
    assert!(fleet
        .webhook_targets(&key(), "c.myshopify.com")
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn marks_are_taken_once_by_the_holder_with_the_newest_mark_winning() {
    let Some((_db, fleet)) = setup().await else {
        return;
    };
    let (id, lease) = one_shop_held_by_w1(&fleet).await;
    let first = Delivery {
        ids: &ids(&["webhook:1"]),
        items: &[1001, 1002],
        topic: "inventory_levels/update",
        changed_at: at(10),
        level: None,
    };
    assert!(fleet.mark_dirty(id, &first, at(11)).await.unwrap());
    assert!(
        !fleet.mark_dirty(id, &first, at(12)).await.unwrap(),
        "a redelivery marks nothing"
    );
    let newer = Delivery {
        ids: &ids(&["webhook:2"]),
        items: &[1001],
        topic: "products/update",
        changed_at: at(20),
        level: None,
    };
    assert!(fleet.mark_dirty(id, &newer, at(21)).await.unwrap());

    assert!(
        fleet
            .take_dirty("w2", std::slice::from_ref(&lease))
            .await
            .unwrap()
            .is_empty(),
        "another worker naming the same lease takes nothing"
    );
    let mut taken = fleet
        .take_dirty("w1", std::slice::from_ref(&lease))
        .await
        .unwrap()
        .items;
    taken.sort_by_key(|d| d.item_id);
    assert_eq!(taken.len(), 2, "one mark per item: {taken:?}");
    assert_eq!(taken[0].item_id, 1001);
    assert_eq!(taken[0].topic, "products/update", "the newest mark wins");
    assert_eq!(taken[0].changed_at, at(20));
    assert_eq!(taken[1].item_id, 1002);
    assert_eq!(taken[1].topic, "inventory_levels/update");
    assert!(
        fleet.take_dirty("w1", &[lease]).await.unwrap().is_empty(),
        "taken once"
    );
}

#[tokio::test]
async fn a_worker_that_lost_the_lease_takes_nothing_the_new_holder_must_write() {
    let Some((db, fleet)) = setup().await else {
        return;
    };
    let id = fleet
        .put_shop(&key(), &shop("a.myshopify.com", "US"))
        .await
        .unwrap();
    let old = fleet.acquire("w1", TTL).await.unwrap().remove(0);
    // The lease runs out (w1 paused), and w2 takes it under a new epoch.
    let (client, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute(
            "UPDATE shop_leases SET expires_at = clock_timestamp() - interval '1 second'",
            &[],
        )
        .await
        .unwrap();
    client
        .execute(
            "UPDATE fleet_workers SET expires_at = clock_timestamp() - interval '1 second'",
            &[],
        )
        .await
        .unwrap();
    let new = fleet.acquire("w2", TTL).await.unwrap().remove(0);
    assert_eq!(new.epoch, old.epoch + 1);
    let delivery = Delivery {
        ids: &ids(&["webhook:1"]),
        items: &[1001],
        topic: "inventory_levels/update",
        changed_at: at(10),
        level: None,
    };
    assert!(fleet.mark_dirty(id, &delivery, at(11)).await.unwrap());
    assert!(
        fleet.take_dirty("w1", &[old]).await.unwrap().is_empty(),
        "the paused worker resumes and takes nothing"
    );
    let taken = fleet.take_dirty("w2", &[new]).await.unwrap();
    assert_eq!(taken.items.len(), 1);
    let listed = fleet.shops().await.unwrap();
    assert_eq!(listed[0].owner.as_deref(), Some("w2"));
    assert!(listed[0].waiting.is_none(), "nothing waits once taken");
}

#[tokio::test]
async fn shops_list_says_how_long_the_oldest_mark_has_waited() {
    let Some((_db, fleet)) = setup().await else {
        return;
    };
    let id = fleet
        .put_shop(&key(), &shop("a.myshopify.com", "US"))
        .await
        .unwrap();
    let delivery = Delivery {
        ids: &[],
        items: &[7],
        topic: "inventory_levels/update",
        changed_at: at(10),
        level: None,
    };
    assert!(fleet.mark_dirty(id, &delivery, at(11)).await.unwrap());
    let listed = fleet.shops().await.unwrap();
    let waiting = listed[0].waiting.expect("a mark waits");
    assert!(waiting < Duration::from_secs(60), "{waiting:?}");
    assert_eq!(listed[0].owner, None);
}

#[tokio::test]
async fn tiktok_webhooks_find_their_shops_by_the_tiktok_shop_id_their_owner_recorded() {
    let Some((_db, fleet)) = setup().await else {
        return;
    };
    let us = fleet
        .put_shop(&key(), &shop("a.myshopify.com", "US"))
        .await
        .unwrap();
    let uk = fleet
        .put_shop(&key(), &shop("a.myshopify.com", "UK"))
        .await
        .unwrap();
    assert!(
        fleet
            .tiktok_targets(&key(), "7001")
            .await
            .unwrap()
            .is_empty(),
        "no shop's id is known before its owner read it"
    );
    fleet.set_tiktok_shop_id(us, "7001").await.unwrap();
    fleet.set_tiktok_shop_id(uk, "7002").await.unwrap();
    let targets = fleet.tiktok_targets(&key(), "7002").await.unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].shop_id, uk);
    assert_eq!(targets[0].tiktok_shop_cipher, "UK");
    assert_eq!(targets[0].settings, "[rules]\nquantity_percent = 80\n");
    assert_eq!(
        targets[0].secrets["shopify.webhook_secret"].expose(),
        "whsec_UK"
    );
    let stored = fleet.stored_shop(&key(), us).await.unwrap().unwrap();
    assert_eq!(stored.tiktok_shop_id.as_deref(), Some("7001"));
    assert!(fleet
        .tiktok_targets(&key(), "7003")
        .await
        .unwrap()
        .is_empty());
}

/// What `w1`, the holder of `lease`, takes, after checking that `w2` takes nothing.
async fn taken_by_w1_alone(fleet: &Fleet, lease: &Lease) -> stockbridge_adapters_postgres::Marked {
    assert!(
        fleet
            .take_dirty("w2", std::slice::from_ref(lease))
            .await
            .unwrap()
            .is_empty(),
        "another worker takes nothing"
    );
    fleet
        .take_dirty("w1", std::slice::from_ref(lease))
        .await
        .unwrap()
}

#[tokio::test]
async fn an_order_webhook_is_marked_once_with_its_newest_status_and_taken_by_the_holder() {
    let Some((_db, fleet)) = setup().await else {
        return;
    };
    let (id, lease) = one_shop_held_by_w1(&fleet).await;
    let placed = ids(&["tiktok:73"]);
    let mark = |ids, status, update_time| OrderMark {
        ids,
        order_id: "576",
        status,
        update_time,
    };
    assert!(fleet
        .mark_order(id, &mark(&placed, "AWAITING_SHIPMENT", 100), at(1))
        .await
        .unwrap());
    assert!(
        !fleet
            .mark_order(id, &mark(&placed, "AWAITING_SHIPMENT", 100), at(2))
            .await
            .unwrap(),
        "a redelivery marks nothing"
    );
    let cancelled = ids(&["tiktok:74"]);
    assert!(fleet
        .mark_order(id, &mark(&cancelled, "CANCELLED", 120), at(3))
        .await
        .unwrap());
    let late = ids(&["tiktok:72"]);
    assert!(fleet
        .mark_order(id, &mark(&late, "UNPAID", 90), at(4))
        .await
        .unwrap());
    let taken = taken_by_w1_alone(&fleet, &lease).await;
    assert!(taken.items.is_empty());
    assert_eq!(taken.orders.len(), 1, "one mark per order: {taken:?}");
    let order = &taken.orders[0];
    assert_eq!((order.shop_id, order.order_id.as_str()), (id, "576"));
    assert_eq!(
        (order.status.as_str(), order.update_time),
        ("CANCELLED", 120),
        "the newest update wins, a late older one does not replace it"
    );
    assert!(
        fleet.take_dirty("w1", &[lease]).await.unwrap().is_empty(),
        "taken once"
    );
}

#[tokio::test]
async fn a_worker_takes_the_marks_of_the_leases_it_names_only_each_under_its_own_epoch() {
    let Some((_db, fleet)) = setup().await else {
        return;
    };
    let mut shops = Vec::new();
    for cipher in ["US", "UK", "DE"] {
        shops.push(
            fleet
                .put_shop(&key(), &shop("a.myshopify.com", cipher))
                .await
                .unwrap(),
        );
    }
    let leases = fleet.acquire("w1", TTL).await.unwrap();
    assert_eq!(leases.len(), 3);
    for (n, id) in shops.iter().enumerate() {
        let delivery = Delivery {
            ids: &ids(&[&format!("webhook:{n}")]),
            items: &[1001 + n as i64],
            topic: "inventory_levels/update",
            changed_at: at(10),
            level: None,
        };
        assert!(fleet.mark_dirty(*id, &delivery, at(11)).await.unwrap());
    }
    // The second lease named under an epoch it no longer has, the third not named (not
    // trusted any more): only the first shop's mark is taken.
    let mut stale = leases[1].clone();
    stale.epoch += 1;
    let taken = fleet
        .take_dirty("w1", &[leases[0].clone(), stale])
        .await
        .unwrap()
        .items;
    let taken: Vec<(i64, i64)> = taken.iter().map(|d| (d.shop_id, d.item_id)).collect();
    assert_eq!(taken, [(shops[0], 1001)]);
    let mut rest: Vec<(i64, i64)> = fleet
        .take_dirty("w1", &leases)
        .await
        .unwrap()
        .items
        .iter()
        .map(|d| (d.shop_id, d.item_id))
        .collect();
    rest.sort();
    assert_eq!(rest, [(shops[1], 1002), (shops[2], 1003)]);
}

#[tokio::test]
async fn a_shopify_order_is_kept_once_with_when_it_was_seen_and_taken_by_the_holder() {
    let Some((_db, fleet)) = setup().await else {
        return;
    };
    let (id, lease) = one_shop_held_by_w1(&fleet).await;
    let copy = ShopifyOrderMarks {
        source_identifier: Some("576".to_owned()),
        tags: vec!["TikTok".to_owned(), "576".to_owned()],
        attribute_values: vec!["576".to_owned()],
        note: Some("TikTok Shop order 576".to_owned()),
    };
    let other = ShopifyOrderMarks {
        source_identifier: None,
        tags: Vec::new(),
        attribute_values: Vec::new(),
        note: None,
    };
    let first = ids(&["webhook:w-1", "event:orders/create:e-1"]);
    assert!(fleet.mark_copy(id, &first, &copy, at(5)).await.unwrap());
    assert!(
        !fleet
            .mark_copy(
                id,
                &ids(&["webhook:w-2", "event:orders/create:e-1"]),
                &copy,
                at(6)
            )
            .await
            .unwrap(),
        "a redelivery (same event) keeps nothing"
    );
    assert!(fleet
        .mark_copy(id, &ids(&["webhook:w-0"]), &other, at(3))
        .await
        .unwrap());
    let listed = fleet.shops().await.unwrap();
    assert!(
        listed[0].waiting.is_some(),
        "a waiting Shopify order counts in the lag"
    );
    let taken = taken_by_w1_alone(&fleet, &lease).await;
    assert!(taken.items.is_empty() && taken.orders.is_empty());
    assert_eq!(
        taken
            .copies
            .iter()
            .map(|c| (c.shop_id, c.marks.clone(), c.seen_at))
            .collect::<Vec<_>>(),
        [(id, other, at(3)), (id, copy, at(5))],
        "each kept once, every field back, the earliest seen first"
    );
    assert!(
        fleet.take_dirty("w1", &[lease]).await.unwrap().is_empty(),
        "taken once"
    );
    assert!(fleet.shops().await.unwrap()[0].waiting.is_none());
}

/// A level payload of item `item` at location `location`, delivered with id `id`.
async fn level(fleet: &Fleet, shop: i64, id: &str, mark: LevelMark) -> bool {
    let delivery = Delivery {
        ids: &ids(&[id]),
        items: &[mark.item_id],
        topic: "inventory_levels/update",
        changed_at: at(10),
        level: Some(mark),
    };
    fleet.mark_dirty(shop, &delivery, at(11)).await.unwrap()
}

fn payload(item_id: i64, location_id: i64, available: Option<i64>, updated_at: i64) -> LevelMark {
    LevelMark {
        item_id,
        location_id,
        available,
        updated_at: Some(updated_at),
    }
}

#[tokio::test]
async fn a_level_payload_waits_beside_its_mark_and_only_a_strictly_newer_one_replaces_it() {
    let Some((_db, fleet)) = setup().await else {
        return;
    };
    let (id, lease) = one_shop_held_by_w1(&fleet).await;
    // Item 1, location 1: newer replaces older.
    assert!(level(&fleet, id, "w:1", payload(1, 1, Some(5), 100)).await);
    assert!(level(&fleet, id, "w:2", payload(1, 1, Some(7), 101)).await);
    assert!(
        !level(&fleet, id, "w:2", payload(1, 1, Some(9), 102)).await,
        "a redelivery keeps nothing"
    );
    // Item 1, location 2: its own row.
    assert!(level(&fleet, id, "w:3", payload(1, 2, Some(3), 100)).await);
    // Item 2: two payloads in one second cannot be ordered: no number, and a newer one
    // after that does not bring one back (the item is read).
    assert!(level(&fleet, id, "w:4", payload(2, 1, Some(4), 100)).await);
    assert!(level(&fleet, id, "w:5", payload(2, 1, Some(6), 100)).await);
    assert!(level(&fleet, id, "w:6", payload(2, 1, Some(8), 105)).await);
    // Item 3: an older payload after a newer one leaves no number.
    assert!(level(&fleet, id, "w:7", payload(3, 1, Some(4), 100)).await);
    assert!(level(&fleet, id, "w:8", payload(3, 1, Some(2), 99)).await);
    // Item 4: a null `available` is no number.
    assert!(level(&fleet, id, "w:9", payload(4, 1, None, 100)).await);
    // Item 5: a payload, then another topic: the item must be read.
    assert!(level(&fleet, id, "w:10", payload(5, 1, Some(1), 100)).await);
    let other = Delivery {
        ids: &ids(&["w:11"]),
        items: &[5],
        topic: "inventory_items/update",
        changed_at: at(20),
        level: None,
    };
    assert!(fleet.mark_dirty(id, &other, at(21)).await.unwrap());
    // ... and a payload after that does not make it trusted again.
    assert!(level(&fleet, id, "w:12", payload(5, 1, Some(2), 101)).await);

    assert!(
        fleet
            .take_dirty("w2", std::slice::from_ref(&lease))
            .await
            .unwrap()
            .levels
            .is_empty(),
        "another worker naming the lease takes no payload"
    );
    let marked = fleet
        .take_dirty("w1", std::slice::from_ref(&lease))
        .await
        .unwrap();
    let mut levels = marked.levels;
    levels.sort_by_key(|l| (l.item_id, l.location_id));
    let row = |item_id, location_id, available, updated_at| DirtyLevel {
        shop_id: id,
        item_id,
        location_id,
        available,
        updated_at: Some(updated_at),
    };
    assert_eq!(
        levels,
        [
            row(1, 1, Some(7), 101),
            row(1, 2, Some(3), 100),
            row(2, 1, None, 105),
            row(3, 1, None, 100),
            row(4, 1, None, 100),
            row(5, 1, Some(2), 101),
        ]
    );
    let mut items: Vec<(i64, bool)> = marked
        .items
        .iter()
        .map(|i| (i.item_id, i.needs_read))
        .collect();
    items.sort_unstable();
    assert_eq!(
        items,
        [(1, false), (2, false), (3, false), (4, false), (5, true)],
        "only the item another topic named needs a read whatever its payloads"
    );
    assert!(
        fleet.take_dirty("w1", &[lease]).await.unwrap().is_empty(),
        "taken once"
    );
}
