//! Wrappers that put faults in front of a real implementation of a port: reads that are
//! slow, never answer or panic; a write that fails, or is applied and then reported failed
//! (the answer lost); a recording of writes that fails. Every other call goes to the wrapped
//! implementation as it is.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use stockbridge_domain::{
    HeldOrder, InventoryItemId, Location, ProductWrite, SkuId, TikTokSku, VariantSnapshot,
    Warehouse, WriteOutcome,
};
use tokio::sync::Notify;

use crate::sink::InventorySink;
use crate::source::{InventorySource, Page};
use crate::store::{
    AuditEntry, ConfirmedQuantity, HeldWrite, PlatformTokens, RunEnd, RunId, RunKind, RunRecord,
    StateStore,
};
use crate::{SinkError, SourceError, StoreError};

/// Takes one from `counter` when it is above 0; whether it did.
fn take_one(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// A source whose reads misbehave on purpose. While `silent` is set, every read waits
/// forever (a Shopify that never answers, as a huge catalog read looks from outside). Item
/// reads (the real-time path) are recorded (how many items each asked for) and announced on
/// `item_read_started`; then, while `panic_item_reads` is set they panic (a bug on the
/// real-time path), while `hang_item_reads` is set they wait forever, and otherwise they
/// answer after the latency given to [`FaultySource::slow`], on Tokio's clock.
pub struct FaultySource {
    inner: Arc<dyn InventorySource>,
    item_read_latency: Duration,
    /// While set, every read waits forever.
    pub silent: AtomicBool,
    /// While set, item reads wait forever.
    pub hang_item_reads: AtomicBool,
    /// While set, item reads panic.
    pub panic_item_reads: AtomicBool,
    /// Notified as each item read starts (a permit is kept when nobody waits).
    pub item_read_started: Notify,
    item_read_sizes: Mutex<Vec<usize>>,
}

impl FaultySource {
    /// Wraps `inner`, with no fault yet.
    pub fn new(inner: Arc<dyn InventorySource>) -> Arc<FaultySource> {
        FaultySource::slow(inner, Duration::ZERO)
    }

    /// Wraps `inner`, every item read taking `latency` more.
    pub fn slow(inner: Arc<dyn InventorySource>, latency: Duration) -> Arc<FaultySource> {
        Arc::new(FaultySource {
            inner,
            item_read_latency: latency,
            silent: false.into(),
            hang_item_reads: false.into(),
            panic_item_reads: false.into(),
            item_read_started: Notify::new(),
            item_read_sizes: Mutex::default(),
        })
    }

    /// How many items each item read asked for, in order.
    pub fn item_read_sizes(&self) -> Vec<usize> {
        self.item_read_sizes.lock().expect("sizes lock").clone()
    }

    async fn unless_silent(&self) {
        if self.silent.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
    }
}

#[async_trait]
impl InventorySource for FaultySource {
    async fn locations(&self) -> Result<Vec<Location>, SourceError> {
        self.unless_silent().await;
        self.inner.locations().await
    }

    async fn variants_page(
        &self,
        cursor: Option<String>,
    ) -> Result<Page<VariantSnapshot>, SourceError> {
        self.unless_silent().await;
        self.inner.variants_page(cursor).await
    }

    async fn variants_for_items(
        &self,
        items: &[InventoryItemId],
    ) -> Result<Vec<VariantSnapshot>, SourceError> {
        self.unless_silent().await;
        self.item_read_sizes
            .lock()
            .expect("sizes lock")
            .push(items.len());
        self.item_read_started.notify_one();
        if self.panic_item_reads.load(Ordering::SeqCst) {
            panic!("injected bug on the real-time path");
        }
        if self.hang_item_reads.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(self.item_read_latency).await;
        self.inner.variants_for_items(items).await
    }
}

/// A sink whose next `fail` writes fail (transient, not sent), and whose next
/// `apply_then_fail` writes are applied and then reported failed, as when TikTok's answer is
/// lost; it counts the write calls.
pub struct FaultySink {
    inner: Arc<dyn InventorySink>,
    /// Writes still to fail before reaching the wrapped sink.
    pub fail: AtomicUsize,
    /// Writes still to apply and then report failed.
    pub apply_then_fail: AtomicUsize,
    calls: AtomicUsize,
}

impl FaultySink {
    /// Wraps `inner`, with no fault yet.
    pub fn new(inner: Arc<dyn InventorySink>) -> Arc<FaultySink> {
        Arc::new(FaultySink {
            inner,
            fail: 0.into(),
            apply_then_fail: 0.into(),
            calls: 0.into(),
        })
    }

    /// Write calls made so far, failed ones included.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl InventorySink for FaultySink {
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
                message: "HTTP 503 (injected)".into(),
            });
        }
        let outcome = self.inner.apply(write).await;
        if take_one(&self.apply_then_fail) {
            return Err(SinkError::Transient {
                message: "the answer was lost after TikTok applied it (injected)".into(),
            });
        }
        outcome
    }
}

/// A state store whose next `fail_record_writes` recordings of writes fail (the disk full).
/// Recordings of writes are counted (how many entries each held) and take the latency
/// given to [`FaultyStore::slow`], on Tokio's clock (a commit flushed to disk).
pub struct FaultyStore {
    inner: Arc<dyn StateStore>,
    record_latency: Duration,
    /// Recordings still to fail.
    pub fail_record_writes: AtomicUsize,
    record_sizes: Mutex<Vec<usize>>,
}

impl FaultyStore {
    /// Wraps `inner`, with no fault yet.
    pub fn new(inner: Arc<dyn StateStore>) -> Arc<FaultyStore> {
        FaultyStore::slow(inner, Duration::ZERO)
    }

    /// Wraps `inner`, every recording of writes taking `latency` more.
    pub fn slow(inner: Arc<dyn StateStore>, latency: Duration) -> Arc<FaultyStore> {
        Arc::new(FaultyStore {
            inner,
            record_latency: latency,
            fail_record_writes: 0.into(),
            record_sizes: Mutex::default(),
        })
    }

    /// How many audit entries each recording of writes held, in order.
    pub fn record_sizes(&self) -> Vec<usize> {
        self.record_sizes.lock().expect("sizes lock").clone()
    }
}

#[async_trait]
impl StateStore for FaultyStore {
    async fn confirmed(&self, skus: &[SkuId]) -> Result<Vec<ConfirmedQuantity>, StoreError> {
        self.inner.confirmed(skus).await
    }

    async fn record_writes(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        self.record_sizes
            .lock()
            .expect("sizes lock")
            .push(entries.len());
        tokio::time::sleep(self.record_latency).await;
        if take_one(&self.fail_record_writes) {
            return Err(StoreError::Unavailable {
                message: "disk full (injected)".into(),
            });
        }
        self.inner.record_writes(entries).await
    }

    async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.audit_log(limit).await
    }

    async fn start_run(&self, kind: RunKind, at: SystemTime) -> Result<RunId, StoreError> {
        self.inner.start_run(kind, at).await
    }

    async fn finish_run(&self, id: RunId, end: RunEnd) -> Result<(), StoreError> {
        self.inner.finish_run(id, end).await
    }

    async fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        self.inner.runs(limit).await
    }

    async fn remember_delivery(&self, ids: &[String], at: SystemTime) -> Result<bool, StoreError> {
        self.inner.remember_delivery(ids, at).await
    }

    async fn forget_webhooks_before(&self, before: SystemTime) -> Result<u64, StoreError> {
        self.inner.forget_webhooks_before(before).await
    }

    async fn save_tokens(&self, platform: &str, tokens: &PlatformTokens) -> Result<(), StoreError> {
        self.inner.save_tokens(platform, tokens).await
    }

    async fn load_tokens(&self, platform: &str) -> Result<Option<PlatformTokens>, StoreError> {
        self.inner.load_tokens(platform).await
    }

    async fn hold_writes(&self, held: &[HeldWrite]) -> Result<(), StoreError> {
        self.inner.hold_writes(held).await
    }

    async fn held_writes(&self) -> Result<Vec<HeldWrite>, StoreError> {
        self.inner.held_writes().await
    }

    async fn save_orders(&self, orders: &[HeldOrder]) -> Result<(), StoreError> {
        self.inner.save_orders(orders).await
    }

    async fn orders(&self) -> Result<Vec<HeldOrder>, StoreError> {
        self.inner.orders().await
    }

    async fn forget_orders_before(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.inner.forget_orders_before(before_ms).await
    }
}
