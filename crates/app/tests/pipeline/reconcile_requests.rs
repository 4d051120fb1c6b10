//! Full reconciliations asked for by webhooks (a location changed) are coalesced: however
//! many are asked for while one runs or waits, one more runs.

use stockbridge_app::engine::Change;

use super::paused::{item, main_location, spawn, stores};
use super::*;
use stockbridge_ports::fakes::FaultySource;

#[tokio::test(start_paused = true)]
async fn thirty_reconciliations_asked_for_at_once_run_as_one() {
    let (source, sink) = shop();
    let store = Arc::new(InMemoryStore::new());
    // Only real-time flushes re-read through `variants_for_items`: its notification says
    // the change queued behind the thirty requests has been taken.
    let reads = FaultySource::slow(source.clone(), Duration::ZERO);
    let mut p = spawn(stores(reads.clone(), sink.clone(), &store), options());
    p.until_ready().await;
    let started = p.count(|m| m.reconciles_ok.get());
    let flushed = reads.item_read_started.notified();
    for i in 0..30 {
        p.send(Change::Reconcile {
            reason: format!("locations/update replay {i}"),
        });
    }
    source.set_available(item(10), main_location(), 42);
    p.change(10);
    flushed.await;
    let ran = p.count(|m| m.reconciles_ok.get()) - started;
    assert_eq!(ran, 1, "one reconciliation for thirty requests");
    p.stop().await.unwrap();
    assert_eq!(held(&sink, "91"), Some(42));
}
