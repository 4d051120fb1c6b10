//! Fleet workers in-process against a real PostgreSQL and in-process emulators (one per
//! shop, over real HTTP): two workers share the shops, a webhook answered by either reaches
//! the shop's owner, every request carries the owner's lease, and a stopped worker's shops
//! move on to the other.

use std::collections::BTreeMap;
use std::time::Duration;

use stockbridge_adapters_postgres::testing::TestDatabase;
use stockbridge_adapters_postgres::{Fleet, NewShop, PostgresStore, SecretKey};
use stockbridge_app::fleet::{Context, FleetWorker};
use stockbridge_app::settings::{FileConfig, FleetSettings, Settings};
use stockbridge_ports::Secret;
use stockbridge_sandbox::{Fixture, RunningSandbox, Sandbox, SandboxOptions};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const KEY: &str = "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=";
/// TEE-RED-S: Location A 100 + Location B 200, at 80%, into the default warehouse α.
const SKU: &str = "90011";
const ALPHA: &str = "7001";

async fn sandbox(n: usize, webhook_urls: Vec<String>) -> RunningSandbox {
    let mut fixture = Fixture::from_json(stockbridge_app::demo::FIXTURE).unwrap();
    fixture.credentials.shop_domain = format!("shop-{n}.myshopify.com");
    fixture.credentials.tiktok_shop_cipher = format!("SHOP_{n}");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let options = SandboxOptions {
        webhook_urls,
        ..SandboxOptions::default()
    };
    Sandbox::start(fixture, listener, options).await.unwrap()
}

fn new_shop(sandbox: &RunningSandbox) -> NewShop {
    let c = sandbox.credentials();
    let base = sandbox.base_url();
    let settings = format!(
        "[shopify]\nshop_domain = \"{}\"\nbase_url = \"{base}\"\n\
         [tiktok]\napp_key = \"{}\"\nshop_cipher = \"{}\"\nbase_url = \"{base}\"\n\
         auth_base_url = \"{base}\"\nrequest_timeout = \"2s\"\n\
         [server]\ncoalesce_window = \"50ms\"\n\
         [rules]\nquantity_percent = 80\n",
        c.shop_domain, c.tiktok_app_key, c.tiktok_shop_cipher
    );
    let secrets = [
        ("shopify.access_token", &c.shopify_access_token),
        ("shopify.webhook_secret", &c.shopify_webhook_secret),
        ("tiktok.app_secret", &c.tiktok_app_secret),
        ("tiktok.access_token", &c.tiktok_access_token),
        ("tiktok.refresh_token", &c.tiktok_refresh_token),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Secret::new(v.clone())))
    .collect::<BTreeMap<_, _>>();
    NewShop {
        shop_domain: c.shop_domain.clone(),
        tiktok_shop_cipher: c.tiktok_shop_cipher.clone(),
        settings,
        secrets,
    }
}

fn quantity(sandbox: &RunningSandbox) -> Option<i64> {
    let state = sandbox.state();
    state
        .tiktok
        .products
        .iter()
        .flat_map(|p| &p.skus)
        .find(|s| s.id == SKU)?
        .inventory
        .iter()
        .find(|i| i.warehouse_id == ALPHA)
        .map(|i| i.quantity)
}

async fn set_level(sandbox: &RunningSandbox, location: u64, available: i64) {
    let answer = reqwest::Client::new()
        .post(format!("{}/_sandbox/shopify/inventory_levels", sandbox.base_url()))
        .json(&serde_json::json!({"inventory_item_id": 1001, "location_id": location, "available": available}))
        .send()
        .await
        .unwrap();
    assert!(
        answer.status().is_success(),
        "{}",
        answer.text().await.unwrap()
    );
}

/// Polls `done` every 50 ms until it holds or `limit` passes.
async fn eventually<F, Fut>(limit: Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if done().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct RunningWorker {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningWorker {
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.unwrap();
    }

    async fn health(&self) -> (u16, serde_json::Value) {
        let answer = reqwest::get(format!("{}/healthz", self.url)).await.unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap())
    }

    async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

async fn start_worker(
    id: &str,
    url: &str,
    store: &PostgresStore,
    listener: TcpListener,
) -> RunningWorker {
    start_worker_beating(
        id,
        url,
        store,
        listener,
        Duration::from_secs(3),
        Duration::from_secs(1),
    )
    .await
}

/// A worker as `serve` starts one: its lease loop on a pool of its own.
async fn start_worker_beating(
    id: &str,
    url: &str,
    store: &PostgresStore,
    listener: TcpListener,
    lease_ttl: Duration,
    heartbeat: Duration,
) -> RunningWorker {
    let fleet = FleetSettings {
        database_url: url.to_owned(),
        worker_id: id.to_owned(),
        lease_ttl,
        heartbeat,
        secret_key: None,
    };
    let control = PostgresStore::connect_with_pool(url, 2).await.unwrap();
    let context = Context::new(
        &fleet,
        store.clone(),
        SecretKey::parse(KEY).unwrap(),
        Duration::from_millis(100),
    )
    .with_control(&control);
    let settings = Settings::from_file(FileConfig::default()).unwrap();
    let worker = FleetWorker::build(context, &settings, listener);
    let url = format!("http://{}", worker.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(worker.run_until_stopped(async {
        let _ = rx.await;
    }));
    RunningWorker {
        url,
        stop: Some(tx),
        task,
    }
}

async fn owners(fleet: &Fleet) -> Vec<Option<String>> {
    fleet
        .shops()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.owner)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_share_the_shops_take_any_webhook_and_take_over_a_stopped_one() {
    let Some(db) = TestDatabase::new().await else {
        return;
    };
    let store = PostgresStore::connect(db.url()).await.unwrap();
    let fleet = Fleet::new(&store);
    let listeners = [
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
    ];
    let hooks: Vec<String> = listeners
        .iter()
        .map(|l| format!("http://{}/webhooks/shopify", l.local_addr().unwrap()))
        .collect();
    let sandboxes = [sandbox(1, hooks.clone()).await, sandbox(2, hooks).await];
    let key = SecretKey::parse(KEY).unwrap();
    for sandbox in &sandboxes {
        fleet.put_shop(&key, &new_shop(sandbox)).await.unwrap();
    }
    let [first, second] = listeners;
    let w1 = start_worker("w1", db.url(), &store, first).await;
    let w2 = start_worker("w2", db.url(), &store, second).await;

    // Each worker takes its fair share, one shop, and reconciles it.
    assert!(
        eventually(Duration::from_secs(30), || async {
            let mut o = owners(&fleet).await;
            o.sort();
            o == [Some("w1".to_owned()), Some("w2".to_owned())]
                && sandboxes.iter().all(|s| quantity(s) == Some(240))
        })
        .await,
        "owners {:?}, quantities {:?}",
        owners(&fleet).await,
        sandboxes.iter().map(quantity).collect::<Vec<_>>()
    );

    // A change in each shop: both workers get the webhook, one marks it, the owner writes.
    for sandbox in &sandboxes {
        set_level(sandbox, 1, 10).await;
    }
    assert!(
        eventually(Duration::from_secs(20), || async {
            sandboxes.iter().all(|s| quantity(s) == Some(168))
        })
        .await,
        "10 + 200 at 80%: {:?}",
        sandboxes.iter().map(quantity).collect::<Vec<_>>()
    );
    let (status, health) = w1.health().await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["worker"], "w1");
    assert_eq!(health["shops"], 1);
    let metrics = w1.metrics().await;
    assert!(
        metrics.contains("stockbridge_fleet_shops_held 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("stockbridge_fleet_webhooks_total{outcome=\"accepted\"}")
            || metrics.contains("stockbridge_fleet_webhooks_total{outcome=\"duplicate\"}"),
        "{metrics}"
    );

    // The first worker stops: it gives its lease back, and the second takes the shop over
    // under a new epoch, reconciles it, and writes the next change.
    let before = fleet.shops().await.unwrap();
    let (w1_shop, w1_epoch) = before
        .iter()
        .find(|s| s.owner.as_deref() == Some("w1"))
        .map(|s| (s.id, s.epoch))
        .unwrap();
    w1.stop().await;
    assert!(
        eventually(Duration::from_secs(20), || async {
            owners(&fleet).await == [Some("w2".to_owned()), Some("w2".to_owned())]
        })
        .await,
        "{:?}",
        owners(&fleet).await
    );
    for sandbox in &sandboxes {
        set_level(sandbox, 2, 50).await;
    }
    assert!(
        eventually(Duration::from_secs(20), || async {
            sandboxes.iter().all(|s| quantity(s) == Some(48))
        })
        .await,
        "10 + 50 at 80%: {:?}",
        sandboxes.iter().map(quantity).collect::<Vec<_>>()
    );
    let metrics = w2.metrics().await;
    let takeovers = metrics
        .lines()
        .find_map(|l| l.strip_prefix("stockbridge_fleet_takeovers_total "))
        .and_then(|n| n.parse::<u64>().ok());
    assert!(takeovers >= Some(1), "{metrics}");
    let shops = fleet.shops().await.unwrap();
    let taken = shops.iter().find(|s| s.id == w1_shop).unwrap();
    assert!(
        taken.epoch > w1_epoch,
        "taken over under a new epoch: {w1_epoch} then {}",
        taken.epoch
    );
    assert!(shops.iter().all(|s| s.last_reconcile_at.is_some()));
    w2.stop().await;
    assert_eq!(
        owners(&fleet).await,
        [None, None],
        "leases given back on stop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_workers_shop_is_taken_as_its_lease_expires_not_at_the_next_heartbeat() {
    let Some(db) = TestDatabase::new().await else {
        return;
    };
    let store = PostgresStore::connect(db.url()).await.unwrap();
    let fleet = Fleet::new(&store);
    let sandbox = sandbox(1, Vec::new()).await;
    let key = SecretKey::parse(KEY).unwrap();
    fleet.put_shop(&key, &new_shop(&sandbox)).await.unwrap();
    // A worker that dies holding the shop: it and its lease are alive for 13 s more.
    let dead = fleet
        .acquire("dead", Duration::from_secs(13))
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    let heartbeat = Duration::from_secs(10);
    let started = tokio::time::Instant::now();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let w1 = start_worker_beating(
        "w1",
        db.url(),
        &store,
        listener,
        Duration::from_secs(30),
        heartbeat,
    )
    .await;
    // Announced at once, its first heartbeat at 10 s finds the lease held; the next one is
    // at 20 s. Between them it takes the lease soon after it expires at 13 s.
    assert!(
        eventually(Duration::from_secs(40), || async {
            owners(&fleet).await == [Some("w1".to_owned())]
        })
        .await,
        "{:?}",
        owners(&fleet).await
    );
    let taken_after = started.elapsed();
    assert!(
        taken_after < 2 * heartbeat,
        "taken after {taken_after:?}, not before the second heartbeat"
    );
    let shops = fleet.shops().await.unwrap();
    assert_eq!(shops[0].epoch, dead[0].epoch + 1, "a new epoch");
    assert!(
        eventually(Duration::from_secs(20), || async {
            quantity(&sandbox) == Some(240)
        })
        .await,
        "reconciled by its new owner: {:?}",
        quantity(&sandbox)
    );
    w1.stop().await;
}
