//! The state store: what Stockbridge remembers between runs.

use std::fmt;
use std::time::SystemTime;

use async_trait::async_trait;
use stockbridge_domain::{HeldOrder, LineOutcome, ProductId, Quantity, SkuId, WarehouseId};

use crate::error::StoreError;
use crate::secret::Secret;

/// The last quantity TikTok confirmed for one (SKU, warehouse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmedQuantity {
    /// The SKU.
    pub sku_id: SkuId,
    /// The warehouse.
    pub warehouse: WarehouseId,
    /// The quantity TikTok accepted.
    pub quantity: Quantity,
    /// When it was confirmed.
    pub at: SystemTime,
}

/// What caused a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A `stockbridge sync` run.
    Sync,
    /// A scheduled or start-up reconciliation in `serve`.
    Reconcile,
    /// A Shopify webhook (its topic).
    Webhook(String),
    /// A retry of an earlier failed write.
    Retry,
    /// A background check of numbers applied from webhooks without a Shopify read, which
    /// found one wrong (or a change whose webhook had not arrived yet).
    Verify,
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::Sync => f.write_str("sync"),
            Trigger::Reconcile => f.write_str("reconcile"),
            Trigger::Webhook(topic) => write!(f, "webhook:{topic}"),
            Trigger::Retry => f.write_str("retry"),
            Trigger::Verify => f.write_str("verify"),
        }
    }
}

impl Trigger {
    /// Reads the form [`Display`](fmt::Display) writes.
    pub fn parse(text: &str) -> Option<Trigger> {
        match text {
            "sync" => Some(Trigger::Sync),
            "reconcile" => Some(Trigger::Reconcile),
            "retry" => Some(Trigger::Retry),
            "verify" => Some(Trigger::Verify),
            _ => text
                .strip_prefix("webhook:")
                .map(|topic| Trigger::Webhook(topic.to_owned())),
        }
    }
}

/// How one attempted write of one (SKU, warehouse) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditOutcome {
    /// TikTok holds the new number.
    Applied,
    /// TikTok refused the number; retrying will not help.
    Rejected {
        /// TikTok's code.
        code: String,
        /// TikTok's message.
        message: String,
    },
    /// The call failed (after retries); the number will be tried again.
    Failed {
        /// Why.
        message: String,
    },
}

impl From<LineOutcome> for AuditOutcome {
    fn from(outcome: LineOutcome) -> AuditOutcome {
        match outcome {
            LineOutcome::Applied => AuditOutcome::Applied,
            LineOutcome::Rejected { code, message } => AuditOutcome::Rejected { code, message },
            LineOutcome::Failed(message) => AuditOutcome::Failed { message },
        }
    }
}

/// One line of the audit log: one attempted (SKU, warehouse) write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When the outcome was known.
    pub at: SystemTime,
    /// The run it belongs to, if any.
    pub run_id: Option<RunId>,
    /// The TikTok product.
    pub product_id: ProductId,
    /// The TikTok SKU.
    pub sku_id: SkuId,
    /// The merchant SKU.
    pub seller_sku: String,
    /// The warehouse.
    pub warehouse: WarehouseId,
    /// What TikTok held before, when known.
    pub old: Option<Quantity>,
    /// The number pushed.
    pub new: Quantity,
    /// How the number was computed.
    pub explanation: String,
    /// What caused the write.
    pub trigger: Trigger,
    /// How it ended.
    pub outcome: AuditOutcome,
}

/// A run's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub i64);

/// What kind of run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// `stockbridge sync`.
    Sync,
    /// A reconciliation inside `serve`.
    Reconcile,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// Still running, or stopped without finishing (a crash) and not yet noticed: a store that
    /// can tell a stopped process's run from a live one reports it `Aborted` instead.
    Running,
    /// Every write succeeded.
    Succeeded,
    /// Finished, but some writes failed.
    PartlyFailed,
    /// Could not finish (the reason).
    Aborted(String),
}

/// Counts of a run's plan lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunCounts {
    /// Lines computed.
    pub lines: u64,
    /// Lines written and applied.
    pub updated: u64,
    /// Lines already right.
    pub unchanged: u64,
    /// Lines whose write failed or was rejected.
    pub failed: u64,
}

impl From<stockbridge_domain::LineCounts> for RunCounts {
    /// A run's counts from its lines' (lines held by the breaker count in `lines` only).
    fn from(c: stockbridge_domain::LineCounts) -> RunCounts {
        RunCounts {
            lines: c.lines,
            updated: c.updated,
            unchanged: c.unchanged,
            failed: c.failed,
        }
    }
}

/// A recorded run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    /// Its id.
    pub id: RunId,
    /// Sync or reconcile.
    pub kind: RunKind,
    /// Start.
    pub started_at: SystemTime,
    /// End, when it ended.
    pub finished_at: Option<SystemTime>,
    /// Counts (zero while running).
    pub counts: RunCounts,
    /// Outcome.
    pub outcome: RunOutcome,
}

/// How a run ended, as [`StateStore::finish_run`] records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEnd {
    /// When it ended.
    pub at: SystemTime,
    /// Its counts.
    pub counts: RunCounts,
    /// Its outcome.
    pub outcome: RunOutcome,
}

/// A write the mass-drop breaker held (sync-rules.md §9): a number a full reconciliation
/// would have set to 0 from above 0, kept until an operator lets it through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldWrite {
    /// When it was held.
    pub at: SystemTime,
    /// The run that held it, if any.
    pub run_id: Option<RunId>,
    /// The TikTok product.
    pub product_id: ProductId,
    /// The TikTok SKU.
    pub sku_id: SkuId,
    /// The merchant SKU.
    pub seller_sku: String,
    /// The warehouse.
    pub warehouse: WarehouseId,
    /// What TikTok holds (above 0).
    pub old: Quantity,
    /// Why the rules give 0.
    pub explanation: String,
}

/// OAuth tokens of a platform, kept so that a restart keeps refreshed tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformTokens {
    /// The access token.
    pub access_token: Secret,
    /// The refresh token.
    pub refresh_token: Secret,
    /// When the access token expires, when known.
    pub access_expires_at: Option<SystemTime>,
    /// When the refresh token expires, when known.
    pub refresh_expires_at: Option<SystemTime>,
}

/// Durable state. Every method is atomic: after a crash, each call either happened whole or
/// not at all.
///
/// Errors follow [`StoreError`]'s contract.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait StateStore: Send + Sync {
    /// The last confirmed quantities of these SKUs, in every warehouse known.
    async fn confirmed(&self, skus: &[SkuId]) -> Result<Vec<ConfirmedQuantity>, StoreError>;

    /// Appends these audit entries and, in the same transaction, makes each `Applied` entry's
    /// number the confirmed quantity of its (SKU, warehouse).
    async fn record_writes(&self, entries: &[AuditEntry]) -> Result<(), StoreError>;

    /// The newest audit entries first, at most `limit`.
    async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;

    /// Records the start of a run.
    async fn start_run(&self, kind: RunKind, at: SystemTime) -> Result<RunId, StoreError>;

    /// Records the end of a run.
    async fn finish_run(&self, id: RunId, end: RunEnd) -> Result<(), StoreError>;

    /// The newest runs first, at most `limit`.
    async fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, StoreError>;

    /// Remembers every id of one delivery (a webhook id, an event id) in one transaction;
    /// `true` when none of them was seen, `false` when any was. Every id is remembered
    /// either way.
    async fn remember_delivery(&self, ids: &[String], at: SystemTime) -> Result<bool, StoreError>;

    /// Forgets webhook ids remembered before `before`; returns how many.
    async fn forget_webhooks_before(&self, before: SystemTime) -> Result<u64, StoreError>;

    /// Saves a platform's tokens, both at once.
    async fn save_tokens(&self, platform: &str, tokens: &PlatformTokens) -> Result<(), StoreError>;

    /// The platform's saved tokens, if any.
    async fn load_tokens(&self, platform: &str) -> Result<Option<PlatformTokens>, StoreError>;

    /// Saves TikTok orders into the ledger of orders in flight (sync-rules.md §7), in one
    /// transaction; each replaces the order with its id, lines included.
    async fn save_orders(&self, orders: &[HeldOrder]) -> Result<(), StoreError>;

    /// The ledger, in the order the orders were first seen.
    async fn orders(&self) -> Result<Vec<HeldOrder>, StoreError>;

    /// Forgets the orders first seen before `before_ms` (Unix milliseconds); returns how many.
    async fn forget_orders_before(&self, before_ms: i64) -> Result<u64, StoreError>;
    /// Replaces the writes the mass-drop breaker holds with `held`, in one transaction; an
    /// empty slice means none is held. Every full reconciliation calls it.
    async fn hold_writes(&self, held: &[HeldWrite]) -> Result<(), StoreError>;

    /// The writes the mass-drop breaker holds, by SKU id then warehouse.
    async fn held_writes(&self) -> Result<Vec<HeldWrite>, StoreError>;
}
