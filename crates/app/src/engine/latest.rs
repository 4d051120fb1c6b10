//! The last full reconciliation's plan, kept for the console: what it shows as the current
//! plan and each SKU's line, without reading the stores again.

use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use stockbridge_domain::Plan;
use stockbridge_ports::RunId;

/// The plan of a finished full reconciliation.
#[derive(Debug)]
pub struct LatestPlan {
    /// The plan.
    pub plan: Plan,
    /// When the reconciliation finished.
    pub at: SystemTime,
    /// Its run.
    pub run_id: RunId,
}

/// The latest plan, shared between the pipeline (which replaces it) and the console.
#[derive(Debug, Default)]
pub struct Latest(RwLock<Option<Arc<LatestPlan>>>);

impl Latest {
    /// Replaces the latest plan.
    pub fn set(&self, plan: LatestPlan) {
        *self.0.write().unwrap() = Some(Arc::new(plan));
    }

    /// The latest plan, once a full reconciliation has finished.
    pub fn get(&self) -> Option<Arc<LatestPlan>> {
        self.0.read().unwrap().clone()
    }
}
