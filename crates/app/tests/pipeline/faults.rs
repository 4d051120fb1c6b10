//! Ports that misbehave on purpose, wrapping the in-memory fakes: slow or hanging reads,
//! writes that fail or are applied and then reported failed, and hand edits in TikTok.

use std::sync::atomic::{AtomicUsize, Ordering};

use stockbridge_ports::{InventorySink, SinkError};
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

/// TikTok whose next writes fail (`fail`), or are applied and then reported failed, as when
/// the answer is lost (`apply_then_fail`); counts the write calls.
pub struct FaultyWrites {
    inner: Arc<InMemorySink>,
    pub fail: AtomicUsize,
    pub apply_then_fail: AtomicUsize,
    calls: AtomicUsize,
}

impl FaultyWrites {
    pub fn new(inner: Arc<InMemorySink>) -> Arc<FaultyWrites> {
        Arc::new(FaultyWrites {
            inner,
            fail: 0.into(),
            apply_then_fail: 0.into(),
            calls: 0.into(),
        })
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn take_one(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

#[async_trait::async_trait]
impl InventorySink for FaultyWrites {
    async fn warehouses(&self) -> Result<Vec<Warehouse>, SinkError> {
        self.inner.warehouses().await
    }
    async fn skus_page(&self, cursor: Option<String>) -> Result<Page<TikTokSku>, SinkError> {
        self.inner.skus_page(cursor).await
    }
    async fn apply(&self, write: &ProductWrite) -> Result<Vec<WriteOutcome>, SinkError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if take_one(&self.fail) {
            return Err(SinkError::Transient {
                message: "injected failure".into(),
            });
        }
        let outcome = self.inner.apply(write).await;
        if take_one(&self.apply_then_fail) {
            return Err(SinkError::Transient {
                message: "the answer was lost after TikTok applied it".into(),
            });
        }
        outcome
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
