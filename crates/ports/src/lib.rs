//! The ports of Stockbridge: async traits through which the application reads stock from a
//! source (Shopify), writes it to a sink (TikTok Shop) and remembers state, over the
//! domain's types only.
//!
//! This crate knows no platform, wire format or database. Adapters implement the traits; the
//! `testing` feature adds in-memory fakes and the contract suite every implementation must
//! pass; the `mocks` feature adds mockall mocks.

#![deny(missing_docs)]

pub mod error;
pub mod orders;
pub mod retry;
pub mod rows;
pub mod secret;
pub mod sink;
pub mod source;
pub mod store;

#[cfg(feature = "testing")]
pub mod contract;
#[cfg(feature = "testing")]
pub mod fakes;

pub use error::{Retry, SinkError, SourceError, StoreError};
pub use orders::{ShopifyOrders, TikTokOrders};
pub use retry::{Attempts, RetryPolicy};
pub use rows::StoredRow;
pub use secret::Secret;
pub use sink::InventorySink;
pub use source::{read_all_pages, InventorySource, Page, UNLIMITED_SPARE_READS};
pub use store::{
    AuditEntry, AuditOutcome, ConfirmedQuantity, HeldWrite, PlatformTokens, RunCounts, RunEnd,
    RunId, RunKind, RunOutcome, RunRecord, StateStore, Trigger,
};

#[cfg(feature = "mocks")]
pub use sink::MockInventorySink;
#[cfg(feature = "mocks")]
pub use source::MockInventorySource;
#[cfg(feature = "mocks")]
pub use store::MockStateStore;
