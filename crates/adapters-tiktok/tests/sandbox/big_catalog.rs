//! A catalog bigger than one product search serves (TikTok's 12052180), read by `update_time`
//! windows. The emulator's cap is lowered so that a few hundred products are "too many".

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use stockbridge_adapters_tiktok::TikTokSink;
use stockbridge_ports::InventorySink;
use stockbridge_sandbox::{RunningSandbox, SandboxOptions};

use super::{config, start, stock, write};

const PRODUCTS: usize = 230;
const CAP: usize = 40;

fn product_id(i: usize) -> String {
    format!("{}", 500_000 + i)
}

/// `PRODUCTS` products of one SKU each; the emulator lists them one second apart.
fn fixture() -> Value {
    let products: Vec<Value> = (1..=PRODUCTS)
        .map(|i| {
            json!({"id": product_id(i), "skus": [{"id": format!("{}", 800_000 + i),
                   "seller_sku": format!("SKU-{i}"),
                   "inventory": [{"warehouse_id": "7001", "quantity": i % 7}]}]})
        })
        .collect();
    json!({"tiktok": {"warehouses": [{"id": "7001", "name": "Main", "is_default": true}],
                      "products": products}})
}

async fn capped_sandbox() -> (RunningSandbox, TikTokSink) {
    let options = SandboxOptions {
        tiktok_search_result_cap: CAP,
        tiktok_requests_per_second: None,
        ..SandboxOptions::default()
    };
    let sandbox = start(fixture(), options).await;
    let mut config = config(&sandbox);
    config.page_size = 10;
    config.requests_per_second = 1_000.0;
    let sink = config.build().unwrap();
    (sandbox, sink)
}

fn every_product() -> BTreeSet<String> {
    (1..=PRODUCTS).map(product_id).collect()
}

#[tokio::test]
async fn a_catalog_past_the_search_cap_is_read_whole_with_every_product_once() {
    let (sandbox, sink) = capped_sandbox().await;

    let all = sink.all_skus().await.unwrap();

    let mut times_read: BTreeMap<String, usize> = BTreeMap::new();
    for sku in &all {
        *times_read.entry(sku.product_id.to_string()).or_default() += 1;
    }
    assert_eq!(all.len(), PRODUCTS, "one SKU per product, each once");
    assert!(times_read.values().all(|&n| n == 1), "{times_read:?}");
    assert_eq!(
        times_read.keys().cloned().collect::<BTreeSet<_>>(),
        every_product()
    );
    let stats = sandbox.stats();
    assert!(
        stats.count("tiktok", "product_search", "rejected") > 0,
        "the cap was reached: {stats:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn products_updated_during_a_windowed_read_are_still_read_with_their_new_stock() {
    let (sandbox, sink) = capped_sandbox().await;
    let updated = [product_id(1), product_id(115), product_id(PRODUCTS)];

    let mut last_seen: BTreeMap<String, u32> = BTreeMap::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = sink.skus_page(cursor).await.unwrap();
        for sku in &page.items {
            let quantity = sku.stock.first().map_or(0, |s| s.quantity.get());
            last_seen.insert(sku.product_id.to_string(), quantity);
        }
        pages += 1;
        if pages == 6 {
            for product in &updated {
                let sku = format!("{}", 300_000 + product.parse::<usize>().unwrap());
                let outcomes = sink
                    .apply(&write(product, vec![(&sku, vec![stock("7001", 99)])]))
                    .await
                    .unwrap();
                assert!(outcomes.iter().all(|o| o.is_applied()), "{outcomes:?}");
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert!(pages > 6, "the read went on after the writes");
    assert_eq!(
        last_seen.keys().cloned().collect::<BTreeSet<_>>(),
        every_product(),
        "no product lost"
    );
    for product in &updated {
        assert_eq!(
            last_seen[product], 99,
            "{product}: its last reading is fresh"
        );
    }
    sandbox.shutdown().await;
}
