//! Fleet workers in-process against a real PostgreSQL and in-process emulators (one per
//! shop, over real HTTP): two workers share the shops, a webhook answered by either reaches
//! the shop's owner (Shopify's changes and TikTok's orders), every request carries the
//! owner's lease, and a stopped worker's shops move on to the other.

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
    fixture.credentials.tiktok_shop_id = tiktok_shop_id(n);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let options = SandboxOptions {
        webhook_urls,
        ..SandboxOptions::default()
    };
    Sandbox::start(fixture, listener, options).await.unwrap()
}

/// Shop `n`'s TikTok shop id (the `shop_id` of its TikTok webhooks).
fn tiktok_shop_id(n: usize) -> String {
    format!("749404964264244{n:04}")
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

/// Waits up to `limit` for every sandbox's TikTok to hold `want`, else fails saying `what`
/// and what they hold.
async fn until_all_hold(sandboxes: &[RunningSandbox], want: i64, limit: Duration, what: &str) {
    let held = eventually(limit, || async {
        sandboxes.iter().all(|s| quantity(s) == Some(want))
    })
    .await;
    assert!(
        held,
        "{what}: {:?}",
        sandboxes.iter().map(quantity).collect::<Vec<_>>()
    );
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

/// Two shops (sandboxes 1 and 2, whose Shopify webhooks go to both workers) stored in the
/// fleet, and two workers `w1` and `w2` started on it.
async fn two_shops_on_two_workers(
    url: &str,
    store: &PostgresStore,
) -> ([RunningSandbox; 2], Vec<i64>, [RunningWorker; 2]) {
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
    let fleet = Fleet::new(store);
    let mut ids = Vec::new();
    for sandbox in &sandboxes {
        ids.push(fleet.put_shop(&key, &new_shop(sandbox)).await.unwrap());
    }
    let [first, second] = listeners;
    let workers = [
        start_worker("w1", url, store, first).await,
        start_worker("w2", url, store, second).await,
    ];
    (sandboxes, ids, workers)
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
    let (sandboxes, _, [w1, w2]) = two_shops_on_two_workers(db.url(), &store).await;

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
    until_all_hold(&sandboxes, 168, Duration::from_secs(20), "10 + 200 at 80%").await;
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
    until_all_hold(&sandboxes, 48, Duration::from_secs(20), "10 + 50 at 80%").await;
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

/// A TikTok `ORDER_STATUS_CHANGE` for `order_id` of the TikTok shop `shop_id`.
fn order_notification(id: &str, shop_id: &str, order_id: &str, update_time: i64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": 1,
        "tts_notification_id": id,
        "shop_id": shop_id,
        "timestamp": update_time,
        "data": {"order_id": order_id, "order_status": "AWAITING_SHIPMENT", "update_time": update_time},
    }))
    .unwrap()
}

async fn post_tiktok(worker: &RunningWorker, body: &[u8], signature: &str) -> (u16, String) {
    let answer = reqwest::Client::new()
        .post(format!("{}/webhooks/tiktok", worker.url))
        .header("Authorization", signature)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

/// The epoch the shop's held order `order_id` was last written under, if it is held.
async fn held_under(url: &str, shop_id: i64, order_id: &str) -> Option<i64> {
    held_row(url, shop_id, order_id)
        .await
        .and_then(|(epoch, _)| epoch)
}

/// The epoch the shop's held order `order_id` was written under once its Shopify copy was
/// recorded (`None` while no copy is recorded).
async fn copied(url: &str, shop_id: i64, order_id: &str) -> Option<i64> {
    held_row(url, shop_id, order_id)
        .await
        .filter(|(_, copied_at)| copied_at.is_some())
        .and_then(|(epoch, _)| epoch)
}

/// The epoch and `copied_at_ms` of the shop's held order `order_id`, if it is held.
async fn held_row(url: &str, shop_id: i64, order_id: &str) -> Option<(Option<i64>, Option<i64>)> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .query_opt(
            "SELECT epoch, copied_at_ms FROM held_orders WHERE shop_id = $1 AND order_id = $2",
            &[&shop_id, &order_id],
        )
        .await
        .unwrap()
        .map(|row| (row.get(0), row.get(1)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tiktok_order_and_its_shopify_copy_answered_by_any_worker_start_and_end_the_owners_hold()
{
    let Some(db) = TestDatabase::new().await else {
        return;
    };
    let store = PostgresStore::connect(db.url()).await.unwrap();
    let fleet = Fleet::new(&store);
    // Shopify's webhooks go to both workers; TikTok's are delivered by the test.
    let (sandboxes, ids, [w1, w2]) = two_shops_on_two_workers(db.url(), &store).await;
    let key = SecretKey::parse(KEY).unwrap();
    // Each worker owns one shop, has reconciled it, and has read its TikTok shop id.
    assert!(
        eventually(Duration::from_secs(30), || async {
            let mut o = owners(&fleet).await;
            o.sort();
            let mut known = true;
            for n in [1, 2] {
                known &= !fleet
                    .tiktok_targets(&key, &tiktok_shop_id(n))
                    .await
                    .unwrap()
                    .is_empty();
            }
            o == [Some("w1".to_owned()), Some("w2".to_owned())]
                && sandboxes.iter().all(|s| quantity(s) == Some(240))
                && known
        })
        .await,
        "owners {:?}, quantities {:?}",
        owners(&fleet).await,
        sandboxes.iter().map(quantity).collect::<Vec<_>>()
    );
    let shops = fleet.shops().await.unwrap();
    let first = shops.iter().find(|s| s.id == ids[0]).unwrap();
    let (owner, other) = match first.owner.as_deref() {
        Some("w1") => (&w1, &w2),
        _ => (&w2, &w1),
    };

    // A buyer orders 5 on TikTok (no webhook is sent by the sandbox: the test delivers it).
    let placed: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "{}/_sandbox/tiktok/orders",
            sandboxes[0].base_url()
        ))
        .json(
            &serde_json::json!({"lines": [{"sku_id": SKU, "quantity": 5, "warehouse_id": ALPHA}]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order_id = placed["order"]["id"].as_str().unwrap().to_owned();
    let update_time = placed["order"]["update_time"]
        .as_i64()
        .or_else(|| placed["order"]["create_time"].as_i64())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64
        });
    let c = sandboxes[0].credentials();
    let body = order_notification("8001", &tiktok_shop_id(1), &order_id, update_time);
    let signature = stockbridge_sandbox::webhooks::tiktok_signature(
        &c.tiktok_app_key,
        &c.tiktok_app_secret,
        &body,
    );

    // Refused: a bad signature, and a shop id no shop of the fleet has.
    let forged =
        stockbridge_sandbox::webhooks::tiktok_signature(&c.tiktok_app_key, "not the secret", &body);
    assert_eq!(post_tiktok(other, &body, &forged).await.0, 401);
    let stranger = order_notification("8002", "1", &order_id, update_time);
    let stranger_signature = stockbridge_sandbox::webhooks::tiktok_signature(
        &c.tiktok_app_key,
        &c.tiktok_app_secret,
        &stranger,
    );
    let (status, text) = post_tiktok(other, &stranger, &stranger_signature).await;
    assert_eq!(status, 403, "{text}");
    assert!(
        text.contains("no shop of the fleet has this TikTok shop_id"),
        "{text}"
    );

    // The worker that does not own the shop answers it; a redelivery is recorded once.
    assert_eq!(
        post_tiktok(other, &body, &signature).await,
        (200, "ok\n".to_owned())
    );
    assert_eq!(
        post_tiktok(owner, &body, &signature).await,
        (200, "duplicate\n".to_owned())
    );

    // The owner reads the order into its hold book, under its own lease's epoch.
    assert!(
        eventually(Duration::from_secs(20), || async {
            held_under(db.url(), ids[0], &order_id).await == Some(first.epoch)
        })
        .await,
        "the owner (epoch {}) holds order {order_id}: {:?}",
        first.epoch,
        held_under(db.url(), ids[0], &order_id).await
    );
    assert_eq!(
        held_under(db.url(), ids[1], &order_id).await,
        None,
        "the other shop holds nothing"
    );

    // The held 5 are in the owner's next plan: (110 + 200 - 5) at 80% = 244, not 248.
    set_level(&sandboxes[0], 1, 110).await;
    assert!(
        eventually(Duration::from_secs(20), || async {
            quantity(&sandboxes[0]) == Some(244)
        })
        .await,
        "{:?}",
        quantity(&sandboxes[0])
    );
    let metrics = other.metrics().await;
    for sample in [
        "stockbridge_fleet_tiktok_webhooks_total{outcome=\"accepted\"} 1",
        "stockbridge_fleet_tiktok_webhooks_total{outcome=\"signature\"} 1",
        "stockbridge_fleet_tiktok_webhooks_total{outcome=\"unknown_shop\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == sample), "{sample}:\n{metrics}");
    }

    // The order's Shopify copy arrives: its `orders/create` goes to the worker that does not
    // own the shop (a bad signature is refused; a redelivery to the owner is recorded once).
    let copy = serde_json::to_vec(&serde_json::json!({
        "id": 820_001,
        "admin_graphql_api_id": "gid://shopify/Order/820001",
        "source_identifier": order_id,
        "tags": "",
        "note": null,
        "note_attributes": [],
        "line_items": [],
    }))
    .unwrap();
    let hmac = stockbridge_sandbox::webhooks::shopify_hmac(&c.shopify_webhook_secret, &copy);
    let forged = stockbridge_sandbox::webhooks::shopify_hmac("not the secret", &copy);
    let (status, text) = post_order_created(other, &c.shop_domain, &copy, &forged).await;
    assert_eq!((status, text.as_str()), (401, "invalid signature\n"));
    assert_eq!(
        post_order_created(other, &c.shop_domain, &copy, &hmac).await,
        (200, "ok\n".to_owned())
    );
    assert_eq!(
        post_order_created(owner, &c.shop_domain, &copy, &hmac).await,
        (200, "duplicate\n".to_owned())
    );
    // The owner ends the hold in its book, under its own epoch; the held order stays known.
    assert!(
        eventually(Duration::from_secs(20), || async {
            copied(db.url(), ids[0], &order_id).await == Some(first.epoch)
        })
        .await,
        "the owner (epoch {}) recorded the copy of {order_id}: {:?}",
        first.epoch,
        copied(db.url(), ids[0], &order_id).await
    );
    // Its next plan no longer subtracts the 5: (120 + 200) at 80% = 256, not 252.
    set_level(&sandboxes[0], 1, 120).await;
    assert!(
        eventually(Duration::from_secs(20), || async {
            quantity(&sandboxes[0]) == Some(256)
        })
        .await,
        "{:?}",
        quantity(&sandboxes[0])
    );
    w1.stop().await;
    w2.stop().await;
}

/// Posts a Shopify `orders/create` of `shop_domain` signed with `hmac` (one delivery id).
async fn post_order_created(
    worker: &RunningWorker,
    shop_domain: &str,
    body: &[u8],
    hmac: &str,
) -> (u16, String) {
    let answer = reqwest::Client::new()
        .post(format!("{}/webhooks/shopify", worker.url))
        .header("X-Shopify-Topic", "orders/create")
        .header("X-Shopify-Shop-Domain", shop_domain)
        .header("X-Shopify-Webhook-Id", "order-created-820001")
        .header("X-Shopify-Hmac-Sha256", hmac)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

/// Sets the faults of a sandbox's Shopify GraphQL endpoint.
async fn shopify_error_rate(sandbox: &RunningSandbox, rate: f64) {
    let answer = reqwest::Client::new()
        .post(format!("{}/_sandbox/faults", sandbox.base_url()))
        .json(&serde_json::json!({"shopify": {"error_rate": rate, "endpoints": ["graphql"]}}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_owner_applies_a_newer_level_payload_answered_by_any_worker_without_reading_shopify() {
    let Some(db) = TestDatabase::new().await else {
        return;
    };
    let store = PostgresStore::connect(db.url()).await.unwrap();
    let (sandboxes, _, [w1, w2]) = two_shops_on_two_workers(db.url(), &store).await;
    until_all_hold(&sandboxes, 240, Duration::from_secs(30), "reconciled").await;

    // Every Shopify read now fails: only the trust rule can carry a change to TikTok. The
    // webhook goes to both workers; whichever marks it, the owner applies the payload.
    for sandbox in &sandboxes {
        shopify_error_rate(sandbox, 1.0).await;
        set_level(sandbox, 1, 10).await;
    }
    until_all_hold(
        &sandboxes,
        168,
        Duration::from_secs(20),
        "(10 + 200) at 80% from the payload, no read",
    )
    .await;

    // Another topic for the same item must be read: with reads failing it cannot reach
    // TikTok (the payload marked with it does not stand for it)...
    for sandbox in &sandboxes {
        let answer = reqwest::Client::new()
            .post(format!(
                "{}/_sandbox/shopify/inventory_items/1001",
                sandbox.base_url()
            ))
            .json(&serde_json::json!({"tracked": false}))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success());
        set_level(sandbox, 2, 50).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        sandboxes.iter().map(quantity).collect::<Vec<_>>(),
        [Some(168), Some(168)],
        "an item another topic named waits for its read"
    );
    // ...and once Shopify answers again, the read carries it: untracked pushes 999,999.
    for sandbox in &sandboxes {
        shopify_error_rate(sandbox, 0.0).await;
    }
    until_all_hold(
        &sandboxes,
        999_999,
        Duration::from_secs(30),
        "read once Shopify answers",
    )
    .await;
    w1.stop().await;
    w2.stop().await;
}

/// Posts a signed `inventory_levels/update` of shop 1's item 1001 at Location A, saying
/// `available` as of `updated_at`, delivered as `webhook_id` and triggered at `triggered`.
async fn post_level(
    worker: &RunningWorker,
    sandbox: &RunningSandbox,
    webhook_id: &str,
    available: i64,
    triggered: std::time::SystemTime,
) -> (u16, String) {
    let c = sandbox.credentials();
    let stamp = |t| humantime::format_rfc3339_seconds(t).to_string();
    let body = serde_json::json!({
        "inventory_item_id": 1001, "location_id": 1, "available": available,
        "updated_at": stamp(std::time::SystemTime::now()),
        "admin_graphql_api_id": "gid://shopify/InventoryLevel/1?inventory_item_id=1001",
    })
    .to_string();
    let hmac =
        stockbridge_sandbox::webhooks::shopify_hmac(&c.shopify_webhook_secret, body.as_bytes());
    let answer = reqwest::Client::new()
        .post(format!("{}/webhooks/shopify", worker.url))
        .header("X-Shopify-Topic", "inventory_levels/update")
        .header("X-Shopify-Shop-Domain", &c.shop_domain)
        .header("X-Shopify-Webhook-Id", webhook_id)
        .header("X-Shopify-Triggered-At", stamp(triggered))
        .header("X-Shopify-Hmac-Sha256", hmac)
        .body(body)
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delivery_triggered_longer_ago_than_shopify_retries_is_answered_and_ignored() {
    let Some(db) = TestDatabase::new().await else {
        return;
    };
    let store = PostgresStore::connect(db.url()).await.unwrap();
    let (sandboxes, _, [w1, w2]) = two_shops_on_two_workers(db.url(), &store).await;
    until_all_hold(&sandboxes, 240, Duration::from_secs(30), "reconciled").await;
    let six_hours_ago = std::time::SystemTime::now() - Duration::from_secs(6 * 3600);
    assert_eq!(
        post_level(&w1, &sandboxes[0], "replayed-1", 10, six_hours_ago).await,
        (200, "too old\n".to_owned()),
        "answered, so that nothing retries it"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(quantity(&sandboxes[0]), Some(240), "and not acted on");
    assert!(
        w1.metrics()
            .await
            .contains("stockbridge_fleet_webhooks_total{outcome=\"duplicate\"} 1"),
        "counted with the duplicates"
    );
    // The same change triggered an hour ago is within Shopify's retries: acted on.
    let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    assert_eq!(
        post_level(&w1, &sandboxes[0], "retried-1", 10, an_hour_ago).await,
        (200, "ok\n".to_owned())
    );
    assert!(
        eventually(Duration::from_secs(20), || async {
            quantity(&sandboxes[0]) == Some(168)
        })
        .await,
        "(10 + 200) at 80%: {:?}",
        quantity(&sandboxes[0])
    );
    w1.stop().await;
    w2.stop().await;
}
