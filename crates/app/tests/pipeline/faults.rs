//! What happens in the stores behind the pipeline's back: hand edits in TikTok. (Ports that
//! misbehave on purpose are the fakes' `FaultySource`, `FaultySink` and `FaultyStore`.)

use stockbridge_ports::InventorySink;

use super::*;

/// What a seller does in Seller Center: one SKU's number changed by hand.
pub async fn hand_edit(sink: &InMemorySink, product: &str, sku: &str, quantity: u32) {
    let write = ProductWrite {
        product_id: ProductId::new(product).unwrap(),
        skus: vec![SkuWrite {
            sku_id: SkuId::new(sku).unwrap(),
            stock: vec![WarehouseStock {
                warehouse: WarehouseId::new("7001").unwrap(),
                quantity: Quantity::new(quantity.into()).unwrap(),
            }],
        }],
    };
    sink.apply(&write).await.unwrap();
}
