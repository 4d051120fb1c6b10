//! Ports that misbehave on purpose, wrapping the in-memory fakes: slow or hanging reads,
//! writes that fail or are applied and then reported failed, and hand edits in TikTok.

use std::sync::atomic::Ordering;

use stockbridge_ports::InventorySink;
use tokio::sync::Notify;

use super::*;

/// Shopify whose incremental reads take `latency`, or never answer once `hang` is set;
/// records how many items each incremental read asked for.
pub struct SlowReads {
    inner: Arc<InMemorySource>,
    latency: Duration,
    pub hang: std::sync::atomic::AtomicBool,
    pub reading: Notify,
    pub sizes: std::sync::Mutex<Vec<usize>>,
}

impl SlowReads {
    pub fn new(inner: Arc<InMemorySource>, latency: Duration) -> Arc<SlowReads> {
        Arc::new(SlowReads {
            inner,
            latency,
            hang: false.into(),
            reading: Notify::new(),
            sizes: Default::default(),
        })
    }
}

#[async_trait::async_trait]
impl InventorySource for SlowReads {
    async fn locations(&self) -> Result<Vec<Location>, SourceError> {
        self.inner.locations().await
    }
    async fn variants_page(
        &self,
        cursor: Option<String>,
    ) -> Result<Page<VariantSnapshot>, SourceError> {
        self.inner.variants_page(cursor).await
    }
    async fn variants_for_items(
        &self,
        items: &[InventoryItemId],
    ) -> Result<Vec<VariantSnapshot>, SourceError> {
        self.sizes.lock().unwrap().push(items.len());
        self.reading.notify_one();
        if self.hang.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(self.latency).await;
        self.inner.variants_for_items(items).await
    }
}

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
