//! The fleet benchmark's world: the bench schema, the two sandboxes, the stored shops, the
//! workers' files and processes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use stockbridge_adapters_postgres::testing::with_search_path;
use stockbridge_adapters_postgres::{Fleet, NewShop, PostgresStore, SecretKey};
use stockbridge_ports::Secret;
use tokio_postgres::NoTls;

use crate::procs::{self, Proc};
use crate::Sizes;

/// The bench's own database on the server (made again at every start), so that the
/// database's counters are the bench's alone.
const DATABASE: &str = "stockbridge_fleet_bench";
/// The bench's schema in its database.
pub const SCHEMA: &str = "fleet_bench";
/// A schema with no shops, for an idle worker's memory.
const EMPTY_SCHEMA: &str = "fleet_bench_empty";
pub const WHALE_DOMAIN: &str = "whale.myshopify.com";
const WHALE_CIPHER: &str = "WHALE";
pub const WORKER_PREFIX: &str = "bench-w";
/// 32 bytes, base64: the key the shops' secrets are sealed with in this bench.
const SECRET_KEY: &str = "YmVuY2gtZmxlZXQta2V5LW9mLTMyLWJ5dGVzLWxvbmc=";

pub struct World {
    pub dir: tempfile::TempDir,
    pub sandbox: Proc,
    pub sandbox_url: String,
    whale_sandbox: Proc,
    whale_url: String,
    pub fleet: Fleet,
    /// The bench's database.
    pub server_url: String,
    /// Reads the fleet's tables for the measures.
    pub probe: crate::measure::Probe,
    pub workers: Vec<Proc>,
    worker_ports: Vec<u16>,
    shops: usize,
    workers_wanted: usize,
    tiktok_rps: u32,
}

fn store_fixture(variants: u64, credentials: Option<Value>) -> Value {
    let products = variants.div_ceil(4);
    let shopify: Vec<Value> = (1..=variants)
        .map(|i| {
            json!({"id": 1000 + i, "product_id": 100 + i, "sku": format!("SKU-{i}"),
                   "inventory_item_id": 5000 + i,
                   "levels": [{"location_id": 1, "available": 10 + i % 7}]})
        })
        .collect();
    let tiktok: Vec<Value> = (0..products)
        .map(|p| {
            let skus: Vec<Value> = (p * 4 + 1..=(p * 4 + 4).min(variants))
                .map(|i| {
                    json!({"id": format!("{}", 900_000 + i), "seller_sku": format!("SKU-{i}"),
                                "inventory": [{"warehouse_id": "7001", "quantity": 0}]})
                })
                .collect();
            json!({"id": format!("{}", 90_000 + p), "skus": skus})
        })
        .collect();
    let mut fixture = json!({
        "shopify": {"locations": [{"id": 1, "name": "Main"}], "variants": shopify},
        "tiktok": {"warehouses": [{"id": "7001", "name": "Main", "is_default": true}], "products": tiktok},
    });
    if let Some(credentials) = credentials {
        fixture["credentials"] = credentials;
    }
    fixture
}

async fn execute(server: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(server, NoTls)
        .await
        .expect("the database answers");
    let driver = tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(client);
    let _ = driver.await;
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a bench file");
    path
}

/// `url` (`postgres://USER@HOST:PORT/DB[?...]`) naming database `name` instead.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let host = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{host}/{name}?{query}"),
        None => format!("{host}/{name}"),
    }
}

/// A stored shop: its settings without secrets, and its secrets.
fn new_shop(
    domain: &str,
    cipher: &str,
    shopify_base: &str,
    tiktok_base: &str,
    suffix: &str,
    reconcile_every: Duration,
    tiktok_rps: u32,
) -> NewShop {
    let settings = format!(
        "[shopify]\nshop_domain = \"{domain}\"\nbase_url = \"{shopify_base}\"\n\
         [tiktok]\napp_key = \"sandbox_app_key{suffix}\"\nbase_url = \"{tiktok_base}\"\n\
         auth_base_url = \"{tiktok_base}\"\nshop_cipher = \"{cipher}\"\n\
         requests_per_second = {tiktok_rps}\n\
         [server]\nreconcile_every = \"{}s\"\n",
        reconcile_every.as_secs()
    );
    let secrets: BTreeMap<String, Secret> = [
        ("shopify.access_token", "shpat_sandbox_demo_token"),
        ("shopify.webhook_secret", "sandbox_webhook_secret"),
        ("tiktok.app_secret", "sandbox_app_secret"),
        ("tiktok.access_token", "sandbox_access_token"),
        ("tiktok.refresh_token", "sandbox_refresh_token"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), Secret::new(format!("{value}{suffix}"))))
    .collect();
    NewShop {
        shop_domain: domain.to_owned(),
        tiktok_shop_cipher: cipher.to_owned(),
        settings,
        secrets,
    }
}

impl World {
    pub async fn start(sizes: &Sizes) -> World {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let admin_url = std::env::var("STOCKBRIDGE_BENCH_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        execute(
            &admin_url,
            &format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"),
        )
        .await;
        execute(&admin_url, &format!("CREATE DATABASE {DATABASE}")).await;
        let server_url = with_database(&admin_url, DATABASE);
        for schema in [SCHEMA, EMPTY_SCHEMA] {
            execute(
                &server_url,
                &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"),
            )
            .await;
        }
        let worker_ports: Vec<u16> = (0..sizes.workers).map(|_| procs::free_port()).collect();
        let ingress = format!("http://127.0.0.1:{}/webhooks/shopify", worker_ports[0]);
        let small = write(
            dir.path(),
            "small.json",
            &store_fixture(sizes.variants, None).to_string(),
        );
        let shops = sizes.shops.to_string();
        let rps = sizes.tiktok_rps.to_string();
        let (sandbox, sandbox_url) = procs::sandbox(
            &small,
            &[
                "--shops",
                &shops,
                "--webhook-url",
                &ingress,
                "--tiktok-rps",
                &rps,
            ],
            &dir.path().join("sandbox.log"),
        );
        let whale_credentials =
            json!({"shop_domain": WHALE_DOMAIN, "tiktok_shop_cipher": WHALE_CIPHER});
        let whale = write(
            dir.path(),
            "whale.json",
            &store_fixture(sizes.whale_variants, Some(whale_credentials)).to_string(),
        );
        let (whale_sandbox, whale_url) = procs::sandbox(
            &whale,
            &["--webhook-url", &ingress, "--tiktok-rps", &rps],
            &dir.path().join("whale-sandbox.log"),
        );
        let store = PostgresStore::connect(&with_search_path(&server_url, SCHEMA))
            .await
            .expect("the bench schema opens");
        let fleet = Fleet::new(&store);
        let key = SecretKey::parse(SECRET_KEY).expect("the bench key");
        let started = std::time::Instant::now();
        for k in 1..=sizes.shops {
            let domain = format!("shop-{k}.myshopify.com");
            let shop = new_shop(
                &domain,
                &format!("SHOP_{k}"),
                &format!("{sandbox_url}/shops/{domain}"),
                &sandbox_url,
                &format!("-{k}"),
                sizes.reconcile_every,
                sizes.tiktok_rps,
            );
            fleet.put_shop(&key, &shop).await.expect("a shop is stored");
        }
        println!(
            "  {} shops stored in {:.1?}",
            sizes.shops,
            started.elapsed()
        );
        let probe = crate::measure::Probe::connect(&with_search_path(&server_url, SCHEMA)).await;
        World {
            probe,
            dir,
            sandbox,
            sandbox_url,
            whale_sandbox,
            whale_url,
            fleet,
            server_url,
            workers: Vec::new(),
            worker_ports,
            shops: sizes.shops,
            workers_wanted: sizes.workers,
            tiktok_rps: sizes.tiktok_rps,
        }
    }

    fn worker_config(&self, id: &str, schema: &str, port: u16) -> PathBuf {
        let toml = format!(
            "[fleet]\ndatabase_url = \"{}\"\nworker_id = \"{id}\"\n[server]\nlisten = \"127.0.0.1:{port}\"\n",
            with_search_path(&self.server_url, schema)
        );
        write(self.dir.path(), &format!("{id}.toml"), &toml)
    }

    /// The resident memory of a worker of a fleet with no shops, after 5 s.
    pub async fn idle_worker_rss(&self) -> u64 {
        let port = procs::free_port();
        let config = self.worker_config("bench-idle", EMPTY_SCHEMA, port);
        let proc = procs::worker(&config, SECRET_KEY, &self.dir.path().join("idle.log"));
        let healthy = procs::wait_healthy(
            &format!("http://127.0.0.1:{port}/healthz"),
            Duration::from_secs(60),
        )
        .await;
        assert!(
            healthy,
            "the idle worker did not answer /healthz; see idle.log"
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
        procs::rss_kib(proc.pid())
    }

    pub fn start_workers(&mut self) {
        for i in 1..=self.workers_wanted {
            let id = format!("{WORKER_PREFIX}{i}");
            let config = self.worker_config(&id, SCHEMA, self.worker_ports[i - 1]);
            let log = self.dir.path().join(format!("{id}.log"));
            self.workers.push(procs::worker(&config, SECRET_KEY, &log));
        }
    }

    pub fn domains(&self) -> Vec<String> {
        (1..=self.shops)
            .map(|k| format!("shop-{k}.myshopify.com"))
            .collect()
    }

    /// How many shops each worker holds now, in worker order.
    pub async fn held_per_worker(&self) -> Vec<usize> {
        let rows = self.probe.shops(None).await;
        (1..=self.workers_wanted)
            .map(|i| {
                let id = format!("{WORKER_PREFIX}{i}");
                rows.values()
                    .filter(|r| r.owner.as_deref() == Some(id.as_str()))
                    .count()
            })
            .collect()
    }

    /// Stores the whale shop: a worker takes it and starts its first full sync.
    pub async fn add_whale(&self) {
        let key = SecretKey::parse(SECRET_KEY).expect("the bench key");
        let shop = new_shop(
            WHALE_DOMAIN,
            WHALE_CIPHER,
            &self.whale_url,
            &self.whale_url,
            "",
            // The product's default: its full sync is what the bench watches.
            Duration::from_secs(900),
            self.tiktok_rps,
        );
        self.fleet
            .put_shop(&key, &shop)
            .await
            .expect("the whale is stored");
        let _ = &self.whale_sandbox;
    }
}
