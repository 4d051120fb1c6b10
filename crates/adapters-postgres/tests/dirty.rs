//! The fleet's webhook ingress tables against a real PostgreSQL: a delivery's items marked
//! dirty with its ids in one transaction, the newest mark winning, a redelivery marking
//! nothing, and only the current lease holder taking the marks.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use stockbridge_adapters_postgres::testing::TestDatabase;
use stockbridge_adapters_postgres::{Delivery, Fleet, NewShop, PostgresStore, SecretKey};
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
    let id = fleet
        .put_shop(&key(), &shop("a.myshopify.com", "US"))
        .await
        .unwrap();
    let lease = fleet.acquire("w1", TTL).await.unwrap().remove(0);
    let first = Delivery {
        ids: &ids(&["webhook:1"]),
        items: &[1001, 1002],
        topic: "inventory_levels/update",
        changed_at: at(10),
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
        .unwrap();
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
    };
    assert!(fleet.mark_dirty(id, &delivery, at(11)).await.unwrap());
    assert!(
        fleet.take_dirty("w1", &[old]).await.unwrap().is_empty(),
        "the paused worker resumes and takes nothing"
    );
    let taken = fleet.take_dirty("w2", &[new]).await.unwrap();
    assert_eq!(taken.len(), 1);
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
    };
    assert!(fleet.mark_dirty(id, &delivery, at(11)).await.unwrap());
    let listed = fleet.shops().await.unwrap();
    let waiting = listed[0].waiting.expect("a mark waits");
    assert!(waiting < Duration::from_secs(60), "{waiting:?}");
    assert_eq!(listed[0].owner, None);
}
