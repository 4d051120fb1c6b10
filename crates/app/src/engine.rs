//! The sync engine: a full reconciliation (`reconcile`), the writer every push goes through
//! (`writer`), and the real-time pipeline with its queue of changed items (`pipeline`), with
//! the numbers they record (`metrics`). The commands and the webhook server drive it; it
//! knows nothing of the command line or of HTTP.
//!
//! Inside, dependencies go one way: the pipeline uses reconcile and the writer, reconcile
//! uses the writer, and all of them use the [`Stores`] defined here.

mod holds;
mod latest;
pub(crate) mod metrics;
mod pipeline;
mod reconcile;
mod writer;

use std::sync::Arc;

use stockbridge_ports::{InventorySink, InventorySource, StateStore};

pub use holds::{millis, HoldBook, HoldError, HoldFigures, Refreshed, WEBHOOK_BATCH_WINDOW};
pub use latest::{Latest, LatestPlan};
pub use metrics::{Metrics, CONTENT_TYPE as METRICS_CONTENT_TYPE};
pub use pipeline::{
    first_schedule, Change, FleetShare, Hint, Pipeline, PipelineOptions, WEBHOOK_ID_RETENTION,
};
pub use reconcile::{
    read_and_plan, reconcile, reconcile_guarded, EngineError, Snapshot, SyncReport,
};
pub use stockbridge_domain::{LineCounts, LineStatus, WriteJob};
pub use writer::{execute, BatchOutcome, Progress, WriterOptions};

/// The three ports the engine works through.
#[derive(Clone)]
pub struct Stores {
    /// Shopify.
    pub source: Arc<dyn InventorySource>,
    /// TikTok Shop.
    pub sink: Arc<dyn InventorySink>,
    /// State.
    pub store: Arc<dyn StateStore>,
    /// The TikTok orders in flight, when `[orders]` is on (sync-rules.md §7).
    pub holds: Option<Arc<HoldBook>>,
}
