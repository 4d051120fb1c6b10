//! The fakes pass the contract suite that every adapter must pass.

use stockbridge_ports::contract::{
    sink_contract, sink_seed, source_contract, source_seed, store_contract,
};
use stockbridge_ports::fakes::{InMemorySink, InMemorySource, InMemoryStore};

#[tokio::test]
async fn in_memory_source_passes_the_source_contract() {
    let (locations, variants) = source_seed();
    source_contract(&InMemorySource::new(locations, variants)).await;
}

#[tokio::test]
async fn in_memory_sink_passes_the_sink_contract() {
    let (warehouses, skus) = sink_seed();
    sink_contract(&InMemorySink::new(warehouses, skus)).await;
}

#[tokio::test]
async fn in_memory_store_passes_the_store_contract() {
    store_contract(&InMemoryStore::new()).await;
}
