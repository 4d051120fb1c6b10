//! The source against the sandbox's Shopify emulator over real HTTP: the port's contract,
//! paging, levels beyond one page, throttling, bulk export, credentials, health.

use std::time::Duration;

use serde_json::{json, Value};
use stockbridge_adapters_shopify::{ReadMode, RetryPolicy, Scopes, ShopifyConfig, ShopifySource};
use stockbridge_domain::{
    Component, InventoryItemId, InventoryPolicy, Location, LocationId, ProductStatus, Sku,
    StockLevel, VariantId, VariantSnapshot,
};
use stockbridge_ports::contract::{source_contract, source_seed};
use stockbridge_ports::{InventorySource, Secret, SourceError};
use stockbridge_sandbox::{Fixture, RunningSandbox, Sandbox, SandboxOptions};

/// The fixture JSON (spec/sandbox.md) of a shop holding exactly these domain values.
fn fixture(locations: &[Location], variants: &[VariantSnapshot]) -> Fixture {
    let locations: Vec<Value> = locations
        .iter()
        .map(|l| json!({"id": l.id.get(), "name": l.name, "active": l.active}))
        .collect();
    let variants: Vec<Value> = variants
        .iter()
        .map(|v| {
            json!({
                "id": v.variant_id.get(),
                "product_id": v.variant_id.get() / 3 + 1,
                "sku": v.sku.as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                "inventory_item_id": v.inventory_item_id.get(),
                "tracked": v.tracked,
                "inventory_policy": match v.policy { InventoryPolicy::Deny => "DENY", InventoryPolicy::Continue => "CONTINUE" },
                "product_status": match v.product_status {
                    ProductStatus::Active => "ACTIVE",
                    ProductStatus::Draft => "DRAFT",
                    ProductStatus::Archived => "ARCHIVED",
                    ProductStatus::Unlisted => "UNLISTED",
                },
                "levels": v.levels.iter().map(|l| json!({"location_id": l.location.get(), "available": l.available})).collect::<Vec<_>>(),
                "components": v.components.iter().flatten().map(|c| json!({"variant_id": c.variant_id.get(), "quantity": c.quantity.get()})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let text = json!({"shopify": {"locations": locations, "variants": variants}}).to_string();
    Fixture::from_json(&text).expect("the fixture is valid")
}

/// A catalog of `n` variants over `locations` locations, with every kind of variant.
fn catalog(n: u64, locations: u64) -> (Vec<Location>, Vec<VariantSnapshot>) {
    let locs = (1..=locations)
        .map(|id| Location {
            id: LocationId::new(id).unwrap(),
            name: format!("Loc {id}"),
            active: id % 4 != 0,
        })
        .collect();
    let variants = (1..=n)
        .map(|i| VariantSnapshot {
            variant_id: VariantId::new(500 + i).unwrap(),
            inventory_item_id: InventoryItemId::new(9000 + i).unwrap(),
            sku: (i % 7 != 0).then(|| Sku::new(format!("SKU-{}", i % 11)).unwrap()),
            tracked: i % 5 != 0,
            policy: if i % 6 == 0 {
                InventoryPolicy::Continue
            } else {
                InventoryPolicy::Deny
            },
            product_status: [
                ProductStatus::Active,
                ProductStatus::Draft,
                ProductStatus::Archived,
            ][(i % 3) as usize],
            components: None,
            levels: (1..=locations)
                .filter(|l| (i + l) % 3 != 0)
                .map(|l| StockLevel {
                    location: LocationId::new(l).unwrap(),
                    available: (i * 7 + l) as i64 % 23 - 4,
                    updated_at: None,
                })
                .collect(),
        })
        .collect();
    (locs, variants)
}

async fn start(fixture: Fixture, options: SandboxOptions) -> RunningSandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Sandbox::start(fixture, listener, options).await.unwrap()
}

pub(crate) fn config(sandbox: &RunningSandbox) -> ShopifyConfig {
    let credentials = sandbox.credentials();
    let mut config = ShopifyConfig::new(
        credentials.shop_domain.clone(),
        Secret::new(credentials.shopify_access_token.clone()),
    );
    config.base_url = Some(sandbox.base_url());
    config.bulk_poll_interval = Duration::from_millis(20);
    config.bulk_timeout = Duration::from_secs(20);
    config.retry = RetryPolicy {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    };
    config
}

/// Variants by id, levels by location, with the times Shopify gave the levels.
fn by_id(mut variants: Vec<VariantSnapshot>) -> Vec<VariantSnapshot> {
    for v in &mut variants {
        v.levels.sort_by_key(|l| l.location);
    }
    variants.sort_by_key(|v| v.variant_id);
    variants
}

/// [`by_id`] without the levels' times (a fixture has none; the sandbox stamps each level).
fn sorted(variants: Vec<VariantSnapshot>) -> Vec<VariantSnapshot> {
    let mut variants = by_id(variants);
    for level in variants.iter_mut().flat_map(|v| v.levels.iter_mut()) {
        level.updated_at = None;
    }
    variants
}

#[tokio::test]
async fn passes_the_source_contract_reading_by_pages() {
    let (locations, variants) = source_seed();
    let sandbox = start(fixture(&locations, &variants), SandboxOptions::default()).await;
    let mut config = config(&sandbox);
    config.read_mode = ReadMode::Paged;
    config.page_size = 2;
    source_contract(&config.build().unwrap()).await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn passes_the_source_contract_reading_by_bulk_export() {
    let (locations, variants) = source_seed();
    let sandbox = start(fixture(&locations, &variants), SandboxOptions::default()).await;
    let mut config = config(&sandbox);
    config.read_mode = ReadMode::Bulk;
    source_contract(&config.build().unwrap()).await;
    assert!(
        sandbox
            .stats()
            .count("shopify", "bulk_operation", "created")
            >= 1
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn pages_hold_every_variant_once_with_small_page_sizes() {
    let (locations, variants) = catalog(23, 5);
    let sandbox = start(fixture(&locations, &variants), SandboxOptions::default()).await;
    let mut config = config(&sandbox);
    config.page_size = 4;
    config.levels_page_size = 2;
    let source = config.build().unwrap();
    let mut pages = 0;
    let mut read = Vec::new();
    let mut cursor = None;
    loop {
        let page = source.variants_page(cursor).await.unwrap();
        assert!(page.items.len() <= 4);
        pages += 1;
        read.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(pages, 6);
    assert_eq!(sorted(read), sorted(variants));
    let mut got = source.locations().await.unwrap();
    got.sort_by_key(|l| l.id);
    assert_eq!(got, locations);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_item_stocked_beyond_one_levels_page_keeps_every_level() {
    let (locations, _) = catalog(0, 12);
    let (_, mut variants) = catalog(3, 12);
    variants[1].levels = (1..=12)
        .map(|l| StockLevel {
            location: LocationId::new(l).unwrap(),
            available: l as i64,
            updated_at: None,
        })
        .collect();
    let sandbox = start(fixture(&locations, &variants), SandboxOptions::default()).await;
    let mut config = config(&sandbox);
    config.page_size = 2;
    config.levels_page_size = 1;
    let source = config.build().unwrap();
    let read = source.all_variants_paged().await.unwrap();
    assert_eq!(read[1].levels.len(), 12, "every level of the item");
    assert_eq!(sorted(read), sorted(variants.clone()));
    let incremental = source
        .variants_for_items(&[variants[1].inventory_item_id])
        .await
        .unwrap();
    assert_eq!(sorted(incremental), vec![sorted(variants).remove(1)]);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_bucket_smaller_than_a_page_shrinks_the_pages_and_completes_the_read() {
    // A page of 10 × 4 requests 172 points; the bucket holds 60. The first page is sent
    // before the bucket's size is known and refused; every later one is built to fit.
    let (locations, variants) = catalog(30, 4);
    let options = SandboxOptions {
        shopify_bucket_size: 60.0,
        shopify_restore_rate: 600.0,
        ..SandboxOptions::default()
    };
    let sandbox = start(fixture(&locations, &variants), options).await;
    let mut config = config(&sandbox);
    config.read_mode = ReadMode::Paged;
    config.page_size = 10;
    config.levels_page_size = 4;
    let source = config.build().unwrap();
    let read = source.all_variants().await.unwrap();
    assert_eq!(sorted(read), sorted(variants));
    let stats = sandbox.stats();
    assert_eq!(
        stats.count("shopify", "graphql", "max_cost_exceeded"),
        1,
        "only the blind first page is too dear"
    );
    assert_eq!(stats.count("shopify", "graphql", "throttled"), 0);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn pacing_reads_many_dear_pages_through_a_small_bucket_without_being_throttled() {
    // 400 points restoring 200 a second; each page requests 172 (43% of the bucket), so the
    // read spends about three buckets and must wait for refills between pages.
    let (locations, variants) = catalog(60, 4);
    let options = SandboxOptions {
        shopify_bucket_size: 400.0,
        shopify_restore_rate: 200.0,
        ..SandboxOptions::default()
    };
    let sandbox = start(fixture(&locations, &variants), options).await;
    let mut config = config(&sandbox);
    config.read_mode = ReadMode::Paged;
    config.page_size = 10;
    config.levels_page_size = 4;
    let source = config.build().unwrap();
    let read = source.all_variants().await.unwrap();
    assert_eq!(sorted(read), sorted(variants));
    let stats = sandbox.stats();
    assert!(
        stats.count("shopify", "graphql", "ok") >= 6,
        "every page was read"
    );
    assert_eq!(
        stats.count("shopify", "graphql", "throttled"),
        0,
        "pacing must wait for the bucket instead of being throttled"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn injected_throttling_never_ends_a_full_read() {
    let (locations, variants) = catalog(20, 3);
    let sandbox = start(fixture(&locations, &variants), SandboxOptions::default()).await;
    sandbox.set_faults(
        serde_json::from_value(json!({"seed": 7, "shopify": {"throttle_rate": 0.5}})).unwrap(),
    );
    let mut config = config(&sandbox);
    config.page_size = 3;
    let read = config.build().unwrap().all_variants_paged().await.unwrap();
    assert_eq!(sorted(read), sorted(variants));
    assert!(sandbox.stats().count("shopify", "graphql", "throttled") >= 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn bulk_and_paged_reads_give_identical_snapshots() {
    let (locations, variants) = catalog(60, 6);
    let sandbox = start(fixture(&locations, &variants), SandboxOptions::default()).await;
    let mut config = config(&sandbox);
    config.page_size = 7;
    config.levels_page_size = 2;
    let source = config.build().unwrap();
    let paged = source.all_variants_paged().await.unwrap();
    let bulk = source.all_variants_bulk().await.unwrap();
    assert_eq!(bulk.len(), 60);
    assert_eq!(bulk, paged);
    assert_eq!(sorted(bulk), sorted(variants));
    sandbox.shutdown().await;
}

/// `catalog(10, 2)` plus 20 bundles (more than one components query holds) of its first
/// variants, and one bundle whose component the shop does not have.
fn with_bundles() -> (Vec<Location>, Vec<VariantSnapshot>) {
    let (locations, mut variants) = catalog(10, 2);
    let component = |id: u64, quantity: u32| Component {
        variant_id: VariantId::new(id).unwrap(),
        quantity: std::num::NonZeroU32::new(quantity).unwrap(),
    };
    let first = variants[0].variant_id.get();
    for i in 0..21u64 {
        let id = 19_000 + i;
        let components = if i == 20 {
            vec![component(77_777, 1)]
        } else {
            vec![
                component(first + i % 10, 2),
                component(first + (i + 1) % 10, 1),
            ]
        };
        variants.push(VariantSnapshot {
            variant_id: VariantId::new(id).unwrap(),
            inventory_item_id: InventoryItemId::new(id).unwrap(),
            sku: Some(Sku::new(format!("BUNDLE-{i}")).unwrap()),
            tracked: true,
            policy: InventoryPolicy::Deny,
            product_status: ProductStatus::Active,
            levels: Vec::new(),
            components: Some(components),
        });
    }
    (locations, variants)
}

#[tokio::test]
async fn bundles_are_read_with_their_components_by_pages_by_bulk_and_by_items() {
    let (locations, variants) = with_bundles();
    let sandbox = start(fixture(&locations, &variants), SandboxOptions::default()).await;
    let mut config = config(&sandbox);
    config.page_size = 7;
    let source = config.build().unwrap();
    let paged = source.all_variants_paged().await.unwrap();
    assert_eq!(sorted(paged.clone()), sorted(variants.clone()));
    let bulk = source.all_variants_bulk().await.unwrap();
    assert!(
        bulk.iter()
            .flat_map(|v| &v.levels)
            .all(|l| l.updated_at.is_some()),
        "every level read with its time"
    );
    assert_eq!(bulk, by_id(paged), "the same numbers and the same times");
    let bundles: Vec<InventoryItemId> =
        variants[10..].iter().map(|v| v.inventory_item_id).collect();
    let items = source.variants_for_items(&bundles).await.unwrap();
    assert_eq!(sorted(items), sorted(variants[10..].to_vec()));
    let missing = variants.last().unwrap().components.as_ref().unwrap();
    assert_eq!(
        missing[0].variant_id.get(),
        77_777,
        "an unknown component is read by its id"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_small_bucket_reads_the_components_in_smaller_pages_and_misses_none() {
    // 200 points hold 3 bundles of 65 points per components query: the 21 bundles take
    // several pages of each search, followed by cursor.
    let (locations, variants) = with_bundles();
    let options = SandboxOptions {
        shopify_bucket_size: 200.0,
        shopify_restore_rate: 2000.0,
        ..SandboxOptions::default()
    };
    let sandbox = start(fixture(&locations, &variants), options).await;
    let mut config = config(&sandbox);
    config.read_mode = ReadMode::Paged;
    config.page_size = 4;
    config.levels_page_size = 2;
    let source = config.build().unwrap();
    let read = source.all_variants().await.unwrap();
    assert_eq!(sorted(read), sorted(variants));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn incremental_reads_span_several_batches_and_skip_unknown_items() {
    let (locations, variants) = catalog(20, 3);
    let sandbox = start(fixture(&locations, &variants), SandboxOptions::default()).await;
    let mut config = config(&sandbox);
    config.items_batch_size = 3;
    config.page_size = 2;
    let source = config.build().unwrap();
    let mut wanted: Vec<InventoryItemId> = variants
        .iter()
        .step_by(2)
        .map(|v| v.inventory_item_id)
        .collect();
    wanted.push(InventoryItemId::new(424_242).unwrap());
    let read = source.variants_for_items(&wanted).await.unwrap();
    let expected: Vec<VariantSnapshot> = variants.iter().step_by(2).cloned().collect();
    assert_eq!(sorted(read), sorted(expected));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized() {
    let (locations, variants) = source_seed();
    let sandbox = start(fixture(&locations, &variants), SandboxOptions::default()).await;
    let mut config = config(&sandbox);
    config.access_token = Secret::new("shpat_wrong");
    let source: ShopifySource = config.build().unwrap();
    let err = source.locations().await.unwrap_err();
    assert!(matches!(err, SourceError::Unauthorized { .. }), "{err:?}");
    assert!(matches!(
        source.health_check().await,
        Err(SourceError::Unauthorized { .. })
    ));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn health_check_reaches_the_shop_and_reports_the_granted_scopes() {
    let (locations, variants) = source_seed();
    let sandbox = start(fixture(&locations, &variants), SandboxOptions::default()).await;
    let health = config(&sandbox)
        .build()
        .unwrap()
        .health_check()
        .await
        .unwrap();
    assert_eq!(health.myshopify_domain, sandbox.credentials().shop_domain);
    assert!(!health.shop_name.is_empty());
    assert_eq!(
        health.scopes,
        Scopes::Granted(vec![
            "read_products".to_owned(),
            "read_inventory".to_owned(),
            "read_locations".to_owned(),
            "read_orders".to_owned()
        ])
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn auto_mode_exports_in_bulk_above_the_threshold_and_pages_below_it() {
    let (locations, variants) = catalog(5, 2);
    let sandbox = start(fixture(&locations, &variants), SandboxOptions::default()).await;
    let bulk_created = |sandbox: &stockbridge_sandbox::RunningSandbox| {
        sandbox
            .stats()
            .count("shopify", "bulk_operation", "created")
    };
    let mut config = config(&sandbox);
    config.read_mode = ReadMode::Auto;
    config.bulk_threshold = 5;
    let paged = config.build().unwrap().all_variants().await.unwrap();
    assert_eq!(sorted(paged), sorted(variants.clone()));
    assert_eq!(
        bulk_created(&sandbox),
        0,
        "5 variants is not above a threshold of 5"
    );
    config.bulk_threshold = 4;
    let bulk = config.build().unwrap().all_variants().await.unwrap();
    assert_eq!(sorted(bulk), sorted(variants));
    assert_eq!(
        bulk_created(&sandbox),
        1,
        "5 variants is above a threshold of 4"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn recent_orders_are_read_over_every_page_and_a_token_without_read_orders_is_unauthorized() {
    use stockbridge_ports::ShopifyOrders;
    let orders: Vec<serde_json::Value> = (1..=120)
        .map(|i| {
            serde_json::json!({"id": i, "created_at": format!("2026-12-01T10:{:02}:{:02}Z", i / 60, i % 60),
                "tags": ["TikTok", format!("576{i:03}")], "lines": []})
        })
        .collect();
    let text = serde_json::json!({"shopify": {"orders": orders}}).to_string();
    let sandbox = start(
        Fixture::from_json(&text).unwrap(),
        SandboxOptions::default(),
    )
    .await;
    let source = config(&sandbox).build().unwrap();
    // 2026-12-01T10:00:30Z
    let marks = source.orders_created_since(1_796_119_230).await.unwrap();
    assert_eq!(marks.len(), 91, "orders 30 to 120, over two pages");
    assert_eq!(marks[0].tags, ["TikTok", "576030"]);

    let mut fixture = Fixture::from_json(&text).unwrap();
    fixture.credentials.scopes = Some(vec!["read_products".into(), "read_inventory".into()]);
    let sandbox = start(fixture, SandboxOptions::default()).await;
    let source = config(&sandbox).build().unwrap();
    let err = source.orders_created_since(0).await.unwrap_err();
    assert!(matches!(err, SourceError::Unauthorized { .. }), "{err:?}");
    assert!(err.to_string().contains("read_orders"), "{err}");
}

/// A sandbox serving three copies of the seed shop, and shop 2's config: its domain, its token,
/// its `base_url` (`http://ADDR/shops/shop-2.myshopify.com`).
async fn third_of_three() -> (RunningSandbox, ShopifyConfig) {
    let (locations, variants) = source_seed();
    let shops = stockbridge_sandbox::Shops::copies(fixture(&locations, &variants), 3).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = Sandbox::start_shops(shops, listener, SandboxOptions::default())
        .await
        .unwrap();
    let domain = "shop-2.myshopify.com";
    let credentials = sandbox.shop_credentials(domain).unwrap();
    let mut config = config(&sandbox);
    config.shop_domain = domain.to_owned();
    config.access_token = Secret::new(credentials.shopify_access_token);
    config.base_url = Some(sandbox.shopify_base_url(domain));
    (sandbox, config)
}

#[tokio::test]
async fn reads_shop_2_of_a_multi_shop_sandbox_by_pages_and_by_bulk_export() {
    for mode in [ReadMode::Paged, ReadMode::Bulk] {
        let (sandbox, mut config) = third_of_three().await;
        config.read_mode = mode;
        source_contract(&config.build().unwrap()).await;
        let of = |domain: &str| {
            sandbox
                .shop_stats(domain)
                .unwrap()
                .total("shopify", "graphql")
        };
        assert!(of("shop-2.myshopify.com") > 0);
        assert_eq!(of("shop-1.myshopify.com"), 0, "shop 1 saw none of it");
        assert_eq!(of("shop-3.myshopify.com"), 0, "shop 3 saw none of it");
        if mode == ReadMode::Bulk {
            let stats = sandbox.shop_stats("shop-2.myshopify.com").unwrap();
            assert!(stats.count("shopify", "bulk_download", "ok") >= 1);
        }
        sandbox.shutdown().await;
    }
}
