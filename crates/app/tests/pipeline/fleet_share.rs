//! A fleet worker's shops share permits for their scheduled reconciliations, and spread
//! their first scheduled one over the second half of the interval; on Tokio's paused clock.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use stockbridge_app::engine::{first_schedule, FleetShare};

use super::paused::{item, main_location, spawn, stores, until};
use super::*;

fn fleet_options(every: Duration, permits: &Arc<Semaphore>) -> PipelineOptions {
    let mut options = options();
    options.reconcile_every = every;
    options.fleet = Some(FleetShare {
        scheduled: permits.clone(),
        starting: Arc::new(AtomicUsize::new(0)),
    });
    options
}

#[tokio::test(start_paused = true)]
async fn a_scheduled_reconciliation_waits_for_a_shared_permit_while_changes_still_flow() {
    let (source, sink) = shop();
    let store = Arc::new(InMemoryStore::new());
    let permits = Arc::new(Semaphore::new(0));
    let options = fleet_options(Duration::from_secs(60), &permits);
    let mut p = spawn(stores(source.clone(), sink.clone(), &store), options);
    p.until_ready().await;
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(
        p.count(|m| m.reconciles_ok.get()),
        1,
        "only the start-up reconciliation: the scheduled ones found no permit for 10 minutes"
    );
    source.set_available(item(10), main_location(), 42);
    p.change(10);
    assert!(
        until(Duration::from_secs(5), || held(&sink, "91") == Some(42)).await,
        "a change is written while the schedule waits: {:?}",
        held(&sink, "91")
    );
    permits.add_permits(1);
    assert!(
        until(Duration::from_secs(5), || p
            .count(|m| m.reconciles_ok.get())
            >= 2)
        .await,
        "a permit freed: the overdue reconciliation runs within a couple of seconds"
    );
    assert!(
        until(Duration::from_secs(1), || permits.available_permits() == 1).await,
        "and gives its permit back"
    );
    p.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn shops_started_together_come_due_spread_over_the_second_half_of_the_interval() {
    let permits = Arc::new(Semaphore::new(8));
    let every = Duration::from_secs(100);
    let mut shops = Vec::new();
    for _ in 0..20 {
        let (source, sink) = shop();
        let store = Arc::new(InMemoryStore::new());
        let mut p = spawn(stores(source, sink, &store), fleet_options(every, &permits));
        p.until_ready().await;
        shops.push(p);
    }
    let scheduled = |shops: &[super::paused::Running]| {
        shops
            .iter()
            .filter(|p| p.count(|m| m.reconciles_ok.get()) >= 2)
            .count()
    };
    tokio::time::sleep(Duration::from_millis(49_900)).await;
    assert_eq!(scheduled(&shops), 0, "none before half the interval");
    tokio::time::sleep(Duration::from_secs(25)).await;
    // Each draw lands in the first half of the spread with probability 1/2: none or all 20 of
    // them (all 20 is what happens without the spread) with 2^-20 each.
    let early = scheduled(&shops);
    assert!(
        (1..20).contains(&early),
        "some, not all, came due before 75 s: {early}"
    );
    assert!(
        until(Duration::from_secs(26), || scheduled(&shops) == 20).await,
        "every one by the end of the interval"
    );
    for p in shops {
        p.stop().await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn a_scheduled_reconciliation_waits_while_a_shop_of_the_worker_waits_to_start() {
    let (source, sink) = shop();
    let store = Arc::new(InMemoryStore::new());
    let permits = Arc::new(Semaphore::new(8));
    let mut options = fleet_options(Duration::from_secs(60), &permits);
    let starting = Arc::new(AtomicUsize::new(1));
    if let Some(fleet) = options.fleet.as_mut() {
        fleet.starting = starting.clone();
    }
    let mut p = spawn(stores(source, sink, &store), options);
    p.until_ready().await;
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(
        p.count(|m| m.reconciles_ok.get()),
        1,
        "only the start-up reconciliation while another shop waited to start"
    );
    starting.store(0, Ordering::Release);
    assert!(
        until(Duration::from_secs(5), || p
            .count(|m| m.reconciles_ok.get())
            >= 2)
        .await,
        "the overdue reconciliation runs once no shop waits"
    );
    p.stop().await.unwrap();
}

#[test]
fn the_first_schedule_spans_the_second_half_of_the_interval() {
    let every = Duration::from_secs(300);
    assert_eq!(first_schedule(every, 0.0), Duration::from_secs(150));
    assert_eq!(first_schedule(every, 0.5), Duration::from_secs(225));
    assert_eq!(first_schedule(every, 1.0), every);
    assert_eq!(
        first_schedule(every, 7.0),
        every,
        "a draw beyond 1 is clamped"
    );
}
