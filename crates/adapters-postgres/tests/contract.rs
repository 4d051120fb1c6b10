//! The PostgreSQL store passes the ports' store contract, like the SQLite store and the fake.

use std::sync::Arc;

use stockbridge_adapters_postgres::testing::TestDatabase;
use stockbridge_adapters_postgres::{PostgresStore, ShopScope};
use stockbridge_ports::contract::store_contract;
use stockbridge_ports::StateStore;

#[tokio::test]
async fn a_postgres_store_passes_the_store_contract() {
    let Some(db) = TestDatabase::new().await else {
        return;
    };
    let store = PostgresStore::connect(db.url()).await.unwrap();
    store_contract(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_behind_a_trait_object_passes_the_store_contract() {
    let Some(db) = TestDatabase::new().await else {
        return;
    };
    let store: Arc<dyn StateStore> = Arc::new(PostgresStore::connect(db.url()).await.unwrap());
    store_contract(store.as_ref()).await;
}

#[tokio::test]
async fn each_shop_of_one_database_passes_the_contract_on_its_own() {
    let Some(db) = TestDatabase::new().await else {
        return;
    };
    let store = PostgresStore::connect(db.url()).await.unwrap();
    store_contract(&store).await;
    let other = store.scoped(ShopScope {
        shop_id: 7,
        epoch: None,
    });
    store_contract(&other).await;
}

#[tokio::test]
async fn connecting_twice_migrates_once_and_keeps_the_state() {
    let Some(db) = TestDatabase::new().await else {
        return;
    };
    let (first, second) = tokio::join!(
        PostgresStore::connect(db.url()),
        PostgresStore::connect(db.url())
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    assert!(first
        .remember_delivery(&["wh-1".to_string()], std::time::UNIX_EPOCH)
        .await
        .unwrap());
    assert!(
        !second
            .remember_delivery(&["wh-1".to_string()], std::time::UNIX_EPOCH)
            .await
            .unwrap(),
        "both stores see one database"
    );
}

#[tokio::test]
async fn a_schema_from_a_newer_build_is_refused_naming_both_versions() {
    let Some(db) = TestDatabase::new().await else {
        return;
    };
    let store = PostgresStore::connect(db.url()).await.unwrap();
    let newer = stockbridge_adapters_postgres::SCHEMA_VERSION + 1;
    let (client, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute("UPDATE stockbridge_schema SET version = $1", &[&newer])
        .await
        .unwrap();
    drop(store);
    let err = PostgresStore::connect(db.url()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("newer Stockbridge"), "{text}");
    assert!(text.contains(&format!("schema version {newer}")), "{text}");
}
