//! Loading a large fixture: `Fixture::from_json` + `Sandbox::start` for 100,000 Shopify
//! variants and 50,000 TikTok products (two SKUs each), the size the sandbox promises to start
//! well under 2 s.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use stockbridge_sandbox::{Fixture, Sandbox, SandboxOptions};

const VARIANTS: u64 = 100_000;
const PRODUCTS: u64 = 50_000;

fn big_fixture_json() -> String {
    let variants: Vec<Value> = (1..=VARIANTS)
        .map(|i| {
            json!({"id": 1_000_000 + i, "product_id": 500_000 + i / 2, "sku": format!("SKU-{i}"),
                   "inventory_item_id": 2_000_000 + i,
                   "levels": [{"location_id": 1, "available": i % 500}, {"location_id": 2, "available": 3}]})
        })
        .collect();
    let products: Vec<Value> = (1..=PRODUCTS)
        .map(|i| {
            let sku = |n: u64| {
                json!({"id": format!("{}", 7_000_000_000u64 + n), "seller_sku": format!("SKU-{n}"),
                       "inventory": [{"warehouse_id": "7001", "quantity": 0}, {"warehouse_id": "7002", "quantity": 0}]})
            };
            json!({"id": format!("{}", 1_729_000_000u64 + i), "skus": [sku(2 * i - 1), sku(2 * i)]})
        })
        .collect();
    json!({
        "shopify": {"locations": [{"id": 1, "name": "A"}, {"id": 2, "name": "B"}], "variants": variants},
        "tiktok": {"warehouses": [{"id": "7001", "name": "α", "is_default": true}, {"id": "7002", "name": "β"}],
                   "products": products},
    })
    .to_string()
}

fn load(c: &mut Criterion) {
    let text = big_fixture_json();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("from_json_100k_variants_50k_products", |b| {
        b.iter(|| Fixture::from_json(&text).expect("fixture parses"))
    });
    group.bench_function("from_json_and_start_100k_variants_50k_products", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let fixture = Fixture::from_json(&text).expect("fixture parses");
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let sandbox = Sandbox::start(fixture, listener, SandboxOptions::default())
                    .await
                    .expect("sandbox starts");
                sandbox.shutdown().await;
            })
        })
    });
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
