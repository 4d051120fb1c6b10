//! The SQLite store passes the ports' store contract, on a file and in memory.

use stockbridge_adapters_store::SqliteStore;
use stockbridge_ports::contract::store_contract;

#[tokio::test]
async fn a_file_store_passes_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("state.db").display());
    let store = SqliteStore::open(&url).unwrap();
    store_contract(&store).await;
}

#[tokio::test]
async fn a_memory_store_passes_the_store_contract() {
    let store = SqliteStore::open("sqlite::memory:").unwrap();
    assert_eq!(store.path(), None);
    store_contract(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_behind_a_trait_object_passes_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store: std::sync::Arc<dyn stockbridge_ports::StateStore> = std::sync::Arc::new(
        SqliteStore::open(dir.path().join("state.db").to_str().unwrap()).unwrap(),
    );
    store_contract(store.as_ref()).await;
}
