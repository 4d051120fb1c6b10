use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::SystemTime;

use async_trait::async_trait;
use stockbridge_domain::{HeldOrder, SkuId, WarehouseId};

use crate::error::StoreError;
use crate::store::{
    AuditEntry, AuditOutcome, ConfirmedQuantity, HeldWrite, PlatformTokens, RunCounts, RunEnd,
    RunId, RunKind, RunOutcome, RunRecord, StateStore,
};

/// State held in memory, lost when dropped.
#[derive(Default)]
pub struct InMemoryStore {
    inner: Mutex<State>,
}

#[derive(Default)]
struct State {
    confirmed: BTreeMap<(SkuId, WarehouseId), ConfirmedQuantity>,
    audit: Vec<AuditEntry>,
    runs: Vec<RunRecord>,
    webhooks: HashMap<String, SystemTime>,
    tokens: HashMap<String, PlatformTokens>,
    orders: Vec<HeldOrder>,
    held: BTreeMap<(SkuId, WarehouseId), HeldWrite>,
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl StateStore for InMemoryStore {
    async fn confirmed(&self, skus: &[SkuId]) -> Result<Vec<ConfirmedQuantity>, StoreError> {
        let state = self.inner.lock().unwrap();
        Ok(state
            .confirmed
            .values()
            .filter(|c| skus.contains(&c.sku_id))
            .cloned()
            .collect())
    }

    async fn record_writes(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        let mut state = self.inner.lock().unwrap();
        for entry in entries {
            if entry.outcome == AuditOutcome::Applied {
                state.confirmed.insert(
                    (entry.sku_id.clone(), entry.warehouse.clone()),
                    ConfirmedQuantity {
                        sku_id: entry.sku_id.clone(),
                        warehouse: entry.warehouse.clone(),
                        quantity: entry.new,
                        at: entry.at,
                    },
                );
            }
            state.audit.push(entry.clone());
        }
        Ok(())
    }

    async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let state = self.inner.lock().unwrap();
        Ok(state.audit.iter().rev().take(limit).cloned().collect())
    }

    async fn start_run(&self, kind: RunKind, at: SystemTime) -> Result<RunId, StoreError> {
        let mut state = self.inner.lock().unwrap();
        let id = RunId(state.runs.len() as i64 + 1);
        state.runs.push(RunRecord {
            id,
            kind,
            started_at: at,
            finished_at: None,
            counts: RunCounts::default(),
            outcome: RunOutcome::Running,
        });
        Ok(id)
    }

    async fn finish_run(&self, id: RunId, end: RunEnd) -> Result<(), StoreError> {
        let mut state = self.inner.lock().unwrap();
        let run =
            state
                .runs
                .iter_mut()
                .find(|r| r.id == id)
                .ok_or_else(|| StoreError::Corrupt {
                    message: format!("no run with id {}", id.0),
                })?;
        run.finished_at = Some(end.at);
        run.counts = end.counts;
        run.outcome = end.outcome;
        Ok(())
    }

    async fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        let state = self.inner.lock().unwrap();
        Ok(state.runs.iter().rev().take(limit).cloned().collect())
    }

    async fn remember_delivery(&self, ids: &[String], at: SystemTime) -> Result<bool, StoreError> {
        let mut state = self.inner.lock().unwrap();
        let mut new = true;
        for id in ids {
            new &= state.webhooks.insert(id.clone(), at).is_none();
        }
        Ok(new)
    }

    async fn forget_webhooks_before(&self, before: SystemTime) -> Result<u64, StoreError> {
        let mut state = self.inner.lock().unwrap();
        let len = state.webhooks.len();
        state.webhooks.retain(|_, at| *at >= before);
        Ok((len - state.webhooks.len()) as u64)
    }

    async fn save_tokens(&self, platform: &str, tokens: &PlatformTokens) -> Result<(), StoreError> {
        let mut state = self.inner.lock().unwrap();
        state.tokens.insert(platform.to_owned(), tokens.clone());
        Ok(())
    }

    async fn load_tokens(&self, platform: &str) -> Result<Option<PlatformTokens>, StoreError> {
        Ok(self.inner.lock().unwrap().tokens.get(platform).cloned())
    }

    async fn save_orders(&self, orders: &[HeldOrder]) -> Result<(), StoreError> {
        let mut state = self.inner.lock().unwrap();
        for order in orders {
            match state
                .orders
                .iter_mut()
                .find(|o| o.order.id == order.order.id)
            {
                Some(stored) => *stored = order.clone(),
                None => state.orders.push(order.clone()),
            }
        }
        state.orders.sort_by_key(|o| o.first_seen_ms);
        Ok(())
    }

    async fn orders(&self) -> Result<Vec<HeldOrder>, StoreError> {
        Ok(self.inner.lock().unwrap().orders.clone())
    }

    async fn forget_orders_before(&self, before_ms: i64) -> Result<u64, StoreError> {
        let mut state = self.inner.lock().unwrap();
        let len = state.orders.len();
        state.orders.retain(|o| o.first_seen_ms >= before_ms);
        Ok((len - state.orders.len()) as u64)
    }

    async fn hold_writes(&self, held: &[HeldWrite]) -> Result<(), StoreError> {
        let mut state = self.inner.lock().unwrap();
        state.held = held
            .iter()
            .map(|h| ((h.sku_id.clone(), h.warehouse.clone()), h.clone()))
            .collect();
        Ok(())
    }

    async fn held_writes(&self) -> Result<Vec<HeldWrite>, StoreError> {
        Ok(self.inner.lock().unwrap().held.values().cloned().collect())
    }
}
