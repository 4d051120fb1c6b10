//! The rules engine's throughput: variant evaluations per second, explanations off.
//!
//! `cargo bench -p stockbridge-domain --bench rules`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use stockbridge_domain::*;

const VARIANTS: usize = 1_000_000;

fn setup() -> (ResolvedRules, Vec<VariantSnapshot>) {
    let locations: Vec<Location> = (1..=3)
        .map(|i| Location {
            id: LocationId::new(i).unwrap(),
            name: format!("L{i}"),
            active: true,
        })
        .collect();
    let warehouses = vec![Warehouse {
        id: WarehouseId::new("7001").unwrap(),
        name: "Main".into(),
        kind: WarehouseKind::Sales,
        status: WarehouseStatus::Enabled,
        is_default: true,
    }];
    let rules = RuleSet {
        quantity_percent: Percent::from_hundredths(8_000).unwrap(),
        reserve_units: 2,
        zero_below: 3,
        max_quantity: Quantity::new(500).unwrap(),
        ..RuleSet::default()
    };
    let resolved = resolve(&rules, &locations, &warehouses).unwrap();
    let variants = (0..VARIANTS)
        .map(|i| VariantSnapshot {
            variant_id: VariantId::new(i as u64 + 1).unwrap(),
            inventory_item_id: InventoryItemId::new(i as u64 + 1).unwrap(),
            sku: Some(Sku::new(format!("SKU-{i}")).unwrap()),
            tracked: i % 50 != 0,
            policy: if i % 97 == 0 {
                InventoryPolicy::Continue
            } else {
                InventoryPolicy::Deny
            },
            product_status: ProductStatus::Active,
            components: None,
            levels: (1..=3)
                .map(|l| StockLevel {
                    location: LocationId::new(l).unwrap(),
                    available: ((i as i64 * 7 + l as i64 * 13) % 400) - 20,
                    updated_at: None,
                })
                .collect(),
        })
        .collect();
    (resolved, variants)
}

fn bench(c: &mut Criterion) {
    let (rules, variants) = setup();
    let mut group = c.benchmark_group("rules");
    group.throughput(Throughput::Elements(VARIANTS as u64));
    group.sample_size(10);
    group.bench_function("evaluate_1m_variants_x3_locations", |b| {
        b.iter(|| {
            let mut total = 0u64;
            for v in &variants {
                if let Some(q) = rules.evaluate(black_box(v), 0).unwrap().quantity() {
                    total += u64::from(q.get());
                }
            }
            black_box(total)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
