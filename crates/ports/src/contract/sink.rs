use stockbridge_domain::{
    ProductId, ProductWrite, Quantity, SkuId, SkuWrite, TikTokSku, Warehouse, WarehouseId,
    WarehouseKind, WarehouseStatus, WarehouseStock,
};

use crate::error::SinkError;
use crate::fakes::shop::{tiktok_sku as sku, warehouse};
use crate::sink::InventorySink;

fn wh(
    id: &str,
    name: &str,
    kind: WarehouseKind,
    status: WarehouseStatus,
    default: bool,
) -> Warehouse {
    Warehouse {
        kind,
        status,
        ..warehouse(id, name, default)
    }
}

fn stock(pairs: &[(&str, i64)]) -> Vec<WarehouseStock> {
    pairs
        .iter()
        .map(|(w, q)| WarehouseStock {
            warehouse: WarehouseId::new(w).unwrap(),
            quantity: Quantity::new(*q).unwrap(),
        })
        .collect()
}

/// The shop a sink under contract must hold: four warehouses (a default and a second sales
/// warehouse, a return warehouse, a disabled one) and four products, one of them with a SKU
/// stocked in the disabled warehouse.
pub fn sink_seed() -> (Vec<Warehouse>, Vec<TikTokSku>) {
    use WarehouseKind::*;
    use WarehouseStatus::*;
    let warehouses = vec![
        wh("7001", "Main", Sales, Enabled, true),
        wh("7002", "Overflow", Sales, Enabled, false),
        wh("7003", "Returns", Return, Enabled, false),
        wh("7004", "Paused", Sales, Disabled, false),
    ];
    let skus = vec![
        sku("9001", "90011", "CT-TEE-S", &[("7001", 0), ("7002", 4)]),
        sku("9001", "90012", "CT-TEE-M", &[("7001", 2)]),
        sku("9002", "90021", "CT-MUG", &[("7001", 0)]),
        sku("9003", "90031", "CT-CAP", &[("7002", 9)]),
        sku("9004", "90041", "CT-SOCK", &[("7001", 1), ("7004", 6)]),
    ];
    (warehouses, skus)
}

fn normalised(mut skus: Vec<TikTokSku>) -> Vec<TikTokSku> {
    for s in &mut skus {
        s.stock.sort_by(|a, b| a.warehouse.cmp(&b.warehouse));
    }
    skus.sort_by(|a, b| a.sku_id.cmp(&b.sku_id));
    skus
}

fn write(product: &str, skus: &[(&str, &[(&str, i64)])]) -> ProductWrite {
    ProductWrite {
        product_id: ProductId::new(product).unwrap(),
        skus: skus
            .iter()
            .map(|(id, pairs)| SkuWrite {
                sku_id: SkuId::new(id).unwrap(),
                stock: stock(pairs),
            })
            .collect(),
    }
}

async fn quantity<S: InventorySink + ?Sized>(
    sink: &S,
    product: &str,
    sku_id: &str,
    wh: &str,
) -> Option<u32> {
    let skus = sink.all_skus().await.expect("all_skus() must succeed");
    skus.iter()
        .find(|s| s.product_id.as_str() == product && s.sku_id.as_str() == sku_id)
        .and_then(|s| s.quantity_in(&WarehouseId::new(wh).unwrap()))
        .map(Quantity::get)
}

/// Checks a sink that holds exactly [`sink_seed`]. It writes, so use a fresh sink.
pub async fn sink_contract<S: InventorySink + ?Sized>(sink: &S) {
    let (warehouses, skus) = sink_seed();

    let mut got = sink.warehouses().await.expect("warehouses() must succeed");
    got.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        got, warehouses,
        "warehouses() must return every warehouse with type and status"
    );

    let all = sink.all_skus().await.expect("all_skus() must succeed");
    assert_eq!(
        normalised(all),
        normalised(skus.clone()),
        "all_skus() must return the whole catalog"
    );

    let ok = write(
        "9001",
        &[
            ("90011", &[("7001", 12), ("7002", 4)]),
            ("90012", &[("7001", 3)]),
        ],
    );
    let outcomes = sink.apply(&ok).await.expect("a valid write must succeed");
    assert_eq!(outcomes.len(), 3, "one outcome per (SKU, warehouse) stated");
    assert!(
        outcomes.iter().all(|o| o.is_applied()),
        "a valid write is applied: {outcomes:?}"
    );
    assert_eq!(
        quantity(sink, "9001", "90011", "7001").await,
        Some(12),
        "the new number must hold"
    );
    assert_eq!(
        quantity(sink, "9001", "90011", "7002").await,
        Some(4),
        "restated numbers must hold"
    );
    assert_eq!(quantity(sink, "9001", "90012", "7001").await, Some(3));

    let again = sink
        .apply(&ok)
        .await
        .expect("repeating a write must succeed");
    assert!(
        again.iter().all(|o| o.is_applied()),
        "writes are absolute, so repeating is safe"
    );

    let partial = write(
        "9001",
        &[("90011", &[("7001", 1)]), ("90012", &[("7001", 5)])],
    );
    let outcomes = sink
        .apply(&partial)
        .await
        .expect("a partly refused write is Ok with outcomes");
    let refused: Vec<_> = outcomes.iter().filter(|o| !o.is_applied()).collect();
    assert!(
        !refused.is_empty() && refused.iter().all(|o| o.sku_id.as_str() == "90011"),
        "a SKU that leaves out a warehouse is rejected, and only that SKU: {outcomes:?}"
    );
    assert_eq!(
        quantity(sink, "9001", "90011", "7001").await,
        Some(12),
        "a rejected SKU keeps its number"
    );
    assert_eq!(
        quantity(sink, "9001", "90012", "7001").await,
        Some(5),
        "the valid SKU is applied"
    );

    let restated = write("9004", &[("90041", &[("7001", 3), ("7004", 6)])]);
    let outcomes = sink
        .apply(&restated)
        .await
        .expect("restating a disabled warehouse at its number must succeed");
    assert!(
        outcomes.iter().all(|o| o.is_applied()),
        "a disabled warehouse restated at the number it holds does not stop the SKU: {outcomes:?}"
    );
    assert_eq!(quantity(sink, "9004", "90041", "7001").await, Some(3));
    assert_eq!(quantity(sink, "9004", "90041", "7004").await, Some(6));

    let changed = write("9004", &[("90041", &[("7001", 4), ("7004", 7)])]);
    let outcomes = sink
        .apply(&changed)
        .await
        .expect("a refused SKU is Ok with outcomes");
    assert!(
        !outcomes.is_empty() && outcomes.iter().all(|o| !o.is_applied()),
        "changing a disabled warehouse refuses the whole SKU: {outcomes:?}"
    );
    assert_eq!(
        quantity(sink, "9004", "90041", "7001").await,
        Some(3),
        "nothing of a refused SKU is applied"
    );
    assert_eq!(quantity(sink, "9004", "90041", "7004").await, Some(6));

    let unknown = write("4242424242", &[("1", &[("7001", 1)])]);
    match sink.apply(&unknown).await {
        Err(SinkError::NotFound { .. }) | Err(SinkError::Rejected { .. }) => {}
        other => {
            panic!("a write to an unknown product must be NotFound or Rejected, got {other:?}")
        }
    }
}
