//! The sink against the TikTok Shop emulator over real HTTP.

mod big_catalog;
mod refusals;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use stockbridge_adapters_tiktok::TikTokConfig;
use stockbridge_domain::{
    ProductId, ProductWrite, Quantity, SkuId, SkuWrite, WarehouseId, WarehouseKind,
    WarehouseStatus, WarehouseStock,
};
use stockbridge_ports::contract::{sink_contract, sink_seed};
use stockbridge_ports::fakes::InMemoryStore;
use stockbridge_ports::{InventorySink, Secret, SinkError, StateStore};
use stockbridge_sandbox::{Fixture, RunningSandbox, Sandbox, SandboxOptions};

async fn start(fixture: Value, options: SandboxOptions) -> RunningSandbox {
    let fixture = Fixture::from_json(&fixture.to_string()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Sandbox::start(fixture, listener, options).await.unwrap()
}

fn config(sandbox: &RunningSandbox) -> TikTokConfig {
    let creds = sandbox.credentials();
    let mut config = TikTokConfig::new(
        creds.tiktok_app_key.clone(),
        Secret::new(creds.tiktok_app_secret.clone()),
        Secret::new(creds.tiktok_access_token.clone()),
    );
    config.refresh_token = Some(Secret::new(creds.tiktok_refresh_token.clone()));
    config.base_url = sandbox.base_url();
    config.auth_base_url = sandbox.base_url();
    config.retry.base_delay = Duration::from_millis(20);
    config.retry.max_delay = Duration::from_secs(2);
    config.retry.max_attempts = 11;
    config.retry.max_throttled = 10;
    config
}

/// The fixture of `sink_seed()`, the shop every sink under contract must hold.
fn seed_fixture() -> Value {
    let (warehouses, skus) = sink_seed();
    let warehouses: Vec<Value> = warehouses
        .iter()
        .map(|w| {
            json!({
                "id": w.id.as_str(), "name": w.name, "is_default": w.is_default,
                "type": match w.kind { WarehouseKind::Sales => "SALES_WAREHOUSE", WarehouseKind::Return => "RETURN_WAREHOUSE" },
                "effect_status": match w.status {
                    WarehouseStatus::Enabled => "ENABLED",
                    WarehouseStatus::Disabled => "DISABLED",
                    WarehouseStatus::Restricted => "RESTRICTED",
                },
            })
        })
        .collect();
    let product_ids: BTreeSet<&str> = skus.iter().map(|s| s.product_id.as_str()).collect();
    let products: Vec<Value> = product_ids
        .into_iter()
        .map(|p| {
            let skus: Vec<Value> = skus
                .iter()
                .filter(|s| s.product_id.as_str() == p)
                .map(|s| {
                    let inventory: Vec<Value> = s
                        .stock
                        .iter()
                        .map(|w| json!({"warehouse_id": w.warehouse.as_str(), "quantity": w.quantity.get()}))
                        .collect();
                    json!({"id": s.sku_id.as_str(), "seller_sku": s.seller_sku, "inventory": inventory})
                })
                .collect();
            json!({"id": p, "skus": skus})
        })
        .collect();
    json!({"tiktok": {"warehouses": warehouses, "products": products}})
}

/// Five products of two SKUs each, stocked in two warehouses.
fn catalog_fixture() -> Value {
    let products: Vec<Value> = (1..=5)
        .map(|p| {
            json!({"id": format!("{p}00"), "skus": [
                {"id": format!("{p}01"), "seller_sku": format!("SKU-{p}-A"),
                 "inventory": [{"warehouse_id": "7001", "quantity": p}, {"warehouse_id": "7002", "quantity": 0}]},
                {"id": format!("{p}02"), "seller_sku": format!("SKU-{p}-B"),
                 "inventory": [{"warehouse_id": "7001", "quantity": 0}]}]})
        })
        .collect();
    json!({"tiktok": {
        "warehouses": [{"id": "7001", "name": "Main", "is_default": true}, {"id": "7002", "name": "Second"}],
        "products": products}})
}

fn stock(w: &str, q: i64) -> WarehouseStock {
    WarehouseStock {
        warehouse: WarehouseId::new(w).unwrap(),
        quantity: Quantity::new(q).unwrap(),
    }
}

fn write(product: &str, skus: Vec<(&str, Vec<WarehouseStock>)>) -> ProductWrite {
    ProductWrite {
        product_id: ProductId::new(product).unwrap(),
        skus: skus
            .into_iter()
            .map(|(id, stock)| SkuWrite {
                sku_id: SkuId::new(id).unwrap(),
                stock,
            })
            .collect(),
    }
}

/// The quantity the emulator holds now.
fn held(sandbox: &RunningSandbox, sku: &str, warehouse: &str) -> Option<i64> {
    let state = sandbox.state();
    state
        .tiktok
        .products
        .iter()
        .flat_map(|p| &p.skus)
        .find(|s| s.id == sku)?
        .inventory
        .iter()
        .find(|i| i.warehouse_id == warehouse)
        .map(|i| i.quantity)
}

#[tokio::test]
async fn passes_the_sink_contract_against_the_sandbox() {
    let sandbox = start(seed_fixture(), SandboxOptions::default()).await;
    let sink = config(&sandbox).build().unwrap();
    sink_contract(&sink).await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn health_check_reports_the_shop_and_its_warehouses() {
    let sandbox = start(seed_fixture(), SandboxOptions::default()).await;
    let health = config(&sandbox)
        .build()
        .unwrap()
        .health_check()
        .await
        .unwrap();
    assert_eq!(health.shop_cipher, sandbox.credentials().tiktok_shop_cipher);
    assert_eq!((health.warehouses, health.target_warehouses), (4, 2));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn pages_through_the_catalog_without_splitting_a_product() {
    let sandbox = start(catalog_fixture(), SandboxOptions::default()).await;
    let mut config = config(&sandbox);
    config.page_size = 2;
    let sink = config.build().unwrap();

    let mut pages = Vec::new();
    let mut cursor = None;
    loop {
        let page = sink.skus_page(cursor).await.unwrap();
        pages.push(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages.len(), 3, "5 products, 2 per page");
    let mut seen_products = BTreeSet::new();
    for page in &pages {
        let products: BTreeSet<&str> = page.iter().map(|s| s.product_id.as_str()).collect();
        for p in &products {
            assert!(
                seen_products.insert(p.to_string()),
                "product {p} split across pages"
            );
            assert_eq!(
                page.iter().filter(|s| s.product_id.as_str() == *p).count(),
                2
            );
        }
    }
    let all = sink.all_skus().await.unwrap();
    assert_eq!(all.len(), 10);
    let first = all.iter().find(|s| s.sku_id.as_str() == "301").unwrap();
    assert_eq!(first.seller_sku, "SKU-3-A");
    assert_eq!(
        first
            .quantity_in(&WarehouseId::new("7001").unwrap())
            .map(Quantity::get),
        Some(3)
    );
    assert_eq!(first.stock.len(), 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn writes_every_warehouse_of_a_multi_warehouse_sku() {
    let sandbox = start(catalog_fixture(), SandboxOptions::default()).await;
    let sink = config(&sandbox).build().unwrap();
    let outcomes = sink
        .apply(&write(
            "100",
            vec![
                ("101", vec![stock("7001", 40), stock("7002", 25)]),
                ("102", vec![stock("7001", 7)]),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 3);
    assert!(outcomes.iter().all(|o| o.is_applied()), "{outcomes:?}");
    assert_eq!(held(&sandbox, "101", "7001"), Some(40));
    assert_eq!(held(&sandbox, "101", "7002"), Some(25));
    assert_eq!(held(&sandbox, "102", "7001"), Some(7));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_sku_leaving_out_a_warehouse_is_rejected_inside_a_success_answer() {
    let sandbox = start(catalog_fixture(), SandboxOptions::default()).await;
    let sink = config(&sandbox).build().unwrap();
    let outcomes = sink
        .apply(&write(
            "200",
            vec![
                ("201", vec![stock("7001", 9)]),
                ("202", vec![stock("7001", 8)]),
            ],
        ))
        .await
        .unwrap();
    let refused: Vec<_> = outcomes.iter().filter(|o| !o.is_applied()).collect();
    assert_eq!(refused.len(), 1, "{outcomes:?}");
    assert_eq!(refused[0].sku_id.as_str(), "201");
    assert_eq!(
        held(&sandbox, "201", "7001"),
        Some(2),
        "the refused SKU keeps its number"
    );
    assert_eq!(
        held(&sandbox, "202", "7001"),
        Some(8),
        "the other SKU is applied"
    );
    assert_eq!(
        sandbox
            .stats()
            .count("tiktok", "inventory_update", "partial_failure"),
        1
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn concurrent_writes_complete_under_a_low_request_limit() {
    let options = SandboxOptions {
        tiktok_requests_per_second: Some(4),
        ..SandboxOptions::default()
    };
    let sandbox = start(catalog_fixture(), options).await;
    let mut config = config(&sandbox);
    config.requests_per_second = 20.0;
    let sink = Arc::new(config.build().unwrap());

    let writes: Vec<_> = (1..=5)
        .map(|p| {
            let sink = Arc::clone(&sink);
            tokio::spawn(async move {
                let product = format!("{p}00");
                let (a, b) = (format!("{p}01"), format!("{p}02"));
                let w = write(
                    &product,
                    vec![
                        (&a, vec![stock("7001", 50 + p), stock("7002", 1)]),
                        (&b, vec![stock("7001", 5)]),
                    ],
                );
                sink.apply(&w).await
            })
        })
        .collect();
    for task in writes {
        let outcomes = task.await.unwrap().unwrap();
        assert!(outcomes.iter().all(|o| o.is_applied()), "{outcomes:?}");
    }
    for p in 1..=5 {
        assert_eq!(held(&sandbox, &format!("{p}01"), "7001"), Some(50 + p));
    }
    let stats = sandbox.stats();
    assert!(
        stats.count("tiktok", "inventory_update", "rate_limited")
            + stats.count("tiktok", "shops", "rate_limited")
            > 0,
        "the limit was hit: {stats:?}"
    );
    assert!(
        sink.request_rate() < 20.0 * stockbridge_adapters_tiktok::PACING_SHARE,
        "the pace adapted: {}",
        sink.request_rate()
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_the_new_tokens_saved() {
    let sandbox = start(catalog_fixture(), SandboxOptions::default()).await;
    let store = Arc::new(InMemoryStore::new());
    let configured = config(&sandbox);
    let key = stockbridge_adapters_tiktok::token_key(
        &configured.access_token,
        configured.refresh_token.as_ref(),
    );
    let sink = configured.build().unwrap().with_token_store(store.clone());
    assert_eq!(sink.warehouses().await.unwrap().len(), 2);

    let expired = reqwest::Client::new()
        .post(format!(
            "{}/_sandbox/tiktok/token/expire",
            sandbox.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert!(expired.status().is_success());

    let outcomes = sink
        .apply(&write("300", vec![("302", vec![stock("7001", 11)])]))
        .await
        .unwrap();
    assert!(outcomes.iter().all(|o| o.is_applied()));
    assert_eq!(held(&sandbox, "302", "7001"), Some(11));

    let saved = store
        .load_tokens(&key)
        .await
        .unwrap()
        .expect("tokens saved after the refresh");
    assert_ne!(
        saved.access_token.expose(),
        sandbox.credentials().tiktok_access_token
    );
    assert!(saved.access_expires_at.is_some());
    let stats = sandbox.stats();
    assert_eq!(stats.count("tiktok", "token_refresh", "ok"), 1);
    assert_eq!(stats.count("tiktok", "inventory_update", "unauthorized"), 1);

    let restarted = config(&sandbox).build().unwrap().with_token_store(store);
    assert_eq!(
        restarted.warehouses().await.unwrap().len(),
        2,
        "a new sink starts from the saved tokens"
    );
    assert_eq!(
        sandbox.stats().count("tiktok", "token_refresh", "ok"),
        1,
        "without refreshing again"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn tokens_that_expire_at_once_are_refreshed_once_then_unauthorized() {
    let options = SandboxOptions {
        tiktok_token_lifetime: Duration::ZERO,
        ..SandboxOptions::default()
    };
    let sandbox = start(catalog_fixture(), options).await;
    let err = config(&sandbox)
        .build()
        .unwrap()
        .warehouses()
        .await
        .unwrap_err();
    assert!(matches!(err, SinkError::Unauthorized { .. }), "{err:?}");
    assert_eq!(sandbox.stats().count("tiktok", "token_refresh", "ok"), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_wrong_app_secret_is_unauthorized_without_leaking_it() {
    let sandbox = start(catalog_fixture(), SandboxOptions::default()).await;
    let mut config = config(&sandbox);
    config.app_secret = Secret::new("definitely-not-the-secret");
    let err = config.build().unwrap().health_check().await.unwrap_err();
    assert!(matches!(err, SinkError::Unauthorized { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("app_secret"), "says what to fix: {shown}");
    assert!(!shown.contains("definitely-not-the-secret"), "{shown}");
    assert_eq!(
        sandbox.stats().count("tiktok", "shops", "invalid_sign"),
        1,
        "not retried"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn order_search_reads_every_page_and_adds_up_one_unit_line_items() {
    let orders: Vec<Value> = (1..=130)
        .map(|i| {
            json!({"id": format!("{}", 576_000 + i), "create_time": 1_700_000_000 + i,
                   "update_time": 1_700_000_000 + i,
                   "status": if i % 2 == 0 { "CANCELLED" } else { "AWAITING_SHIPMENT" },
                   "lines": [{"sku_id": "90011", "seller_sku": "TEE", "quantity": 2, "warehouse_id": "7001"},
                             {"sku_id": "90011", "seller_sku": "TEE", "quantity": 1, "warehouse_id": "7002"}]})
        })
        .collect();
    let fixture = json!({"tiktok": {
        "warehouses": [{"id": "7001", "name": "α", "is_default": true}, {"id": "7002", "name": "β"}],
        "products": [{"id": "9001", "skus": [{"id": "90011", "seller_sku": "TEE",
            "inventory": [{"warehouse_id": "7001", "quantity": 1}, {"warehouse_id": "7002", "quantity": 1}]}]}],
        "orders": orders}});
    let sandbox = start(fixture, SandboxOptions::default()).await;
    let sink = config(&sandbox).build().unwrap();
    use stockbridge_ports::TikTokOrders;
    let all = sink.orders_updated(1_700_000_001, None).await.unwrap();
    assert_eq!(all.len(), 130, "two pages of 100");
    let first = all.iter().find(|o| o.id.as_str() == "576001").unwrap();
    assert_eq!(
        first.status,
        stockbridge_domain::OrderStatus::AwaitingShipment
    );
    let lines: Vec<(&str, u64)> = first
        .lines
        .iter()
        .map(|l| (l.warehouse.as_ref().unwrap().as_str(), l.quantity))
        .collect();
    assert_eq!(lines, [("7001", 2), ("7002", 1)]);
    assert_eq!(first.lines[0].seller_sku.as_ref().unwrap().as_str(), "TEE");
    let window = sink
        .orders_updated(1_700_000_101, Some(1_700_000_111))
        .await
        .unwrap();
    assert_eq!(window.len(), 10, "update_time in [from, until)");
}

#[tokio::test]
async fn writes_to_shop_2_of_a_multi_shop_sandbox_found_by_its_keys() {
    let fixture = Fixture::from_json(&seed_fixture().to_string()).unwrap();
    let shops = stockbridge_sandbox::Shops::copies(fixture.clone(), 3).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = Sandbox::start_shops(shops, listener, SandboxOptions::default())
        .await
        .unwrap();
    let domain = "shop-2.myshopify.com";
    let creds = sandbox.shop_credentials(domain).unwrap();
    let mut config = config(&sandbox);
    config.app_key = creds.tiktok_app_key.clone();
    config.app_secret = Secret::new(creds.tiktok_app_secret.clone());
    config.access_token = Secret::new(creds.tiktok_access_token.clone());
    config.refresh_token = Some(Secret::new(creds.tiktok_refresh_token.clone()));
    // No cipher configured: the adapter asks for its authorized shop, found by its app key.
    config.shop_cipher = None;
    let sink = config.build().unwrap();
    assert_eq!(sink.health_check().await.unwrap().shop_cipher, "SHOP_2");
    assert_eq!(
        sink.shop_id().await.unwrap(),
        "7494049642642441622",
        "shop 2's id, which its TikTok webhooks name it by: the fixture's counted up"
    );
    sink_contract(&sink).await;
    let writes = sandbox.shop_writes(domain).unwrap();
    assert!(!writes.is_empty(), "the contract wrote to shop 2");
    for other in ["shop-1.myshopify.com", "shop-3.myshopify.com"] {
        assert_eq!(sandbox.shop_writes(other).unwrap(), vec![]);
        assert_eq!(sandbox.shop_state(other).unwrap().tiktok, fixture.tiktok);
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn sinks_sharing_one_http_client_each_send_their_own_lease_header() {
    let fixture = Fixture::from_json(&catalog_fixture().to_string()).unwrap();
    let shops = stockbridge_sandbox::Shops::copies(fixture, 2).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = Sandbox::start_shops(shops, listener, SandboxOptions::default())
        .await
        .unwrap();
    // One connection pool for both shops, as a fleet worker has.
    let http = stockbridge_adapters_tiktok::http_client(Duration::from_secs(5)).unwrap();
    let shops = [
        ("shop-1.myshopify.com", "w1;3"),
        ("shop-2.myshopify.com", "w2;7"),
    ];
    for round in 0..2 {
        for (domain, lease) in shops {
            let creds = sandbox.shop_credentials(domain).unwrap();
            let mut config = config(&sandbox);
            config.app_key = creds.tiktok_app_key.clone();
            config.app_secret = Secret::new(creds.tiktok_app_secret.clone());
            config.access_token = Secret::new(creds.tiktok_access_token.clone());
            config.shop_cipher = Some(creds.tiktok_shop_cipher.clone());
            config.headers = vec![(
                stockbridge_sandbox::LEASE_HEADER.to_owned(),
                lease.to_owned(),
            )];
            let sink = config.build_with(http.clone()).unwrap();
            let outcomes = sink
                .apply(&write(
                    "100",
                    vec![("102", vec![stock("7001", 40 + round)])],
                ))
                .await
                .unwrap();
            assert!(outcomes.iter().all(|o| o.is_applied()), "{outcomes:?}");
        }
    }
    for (domain, lease) in shops {
        let leases: Vec<Option<String>> = sandbox
            .shop_writes(domain)
            .unwrap()
            .into_iter()
            .map(|w| w.lease)
            .collect();
        assert_eq!(
            leases,
            vec![Some(lease.to_owned()); 2],
            "every write to {domain} carries its own sink's header"
        );
    }
    sandbox.shutdown().await;
}
