//! The state store of Stockbridge: [`SqliteStore`] implements the ports' `StateStore` over one
//! embedded SQLite file (the default, `sqlite://stockbridge.db`). It owns the schema, its
//! migrations, and the mapping between rows and the ports' records.
//!
//! It must not know any platform or the sync rules: it stores what the application hands it
//! and gives it back unchanged.
//!
//! # The state file holds secrets
//!
//! The file keeps each platform's OAuth tokens, so that a restart keeps refreshed ones. Protect
//! it like a credential: on unix a new file is created readable by its owner only (`0600`),
//! and SQLite gives its `-wal` and `-shm` companions the same permissions. A file, or
//! companion, that is a symbolic link or belongs to another user is refused
//! ([`SqliteError::UnsafeFile`]); one open to group or others is tightened to `0600`, with a
//! warning. Tokens never appear in `Debug` output or in errors.
//!
//! # Crash safety
//!
//! Every port call is one transaction. The file runs in WAL mode with `synchronous=FULL`:
//! each commit is on disk before the call returns, so a power cut cannot take back a
//! refreshed token (an old refresh token may already be invalid) nor a confirmed quantity
//! the application has acted on. Stockbridge commits a handful of times per run, so the
//! cost of the extra fsync is negligible. One exception: a webhook's delivery ids, committed
//! for every delivery, are not flushed on their own (`synchronous=NORMAL` for that
//! transaction only; the next flushed commit makes them durable). They survive the process
//! crashing; a power cut can lose the last ones, and a redelivered webhook is then processed
//! twice, which is harmless. Flushing each would hold a server to what the disk flushes per
//! second.
//!
//! A run in progress when its process is killed cannot finish. When the file is next opened
//! and no other process has it open, such a run is marked `aborted` with [`STOPPED_NOTE`]
//! (an advisory lock on `<file>-lock`, dropped by the kernel when its holder dies, tells
//! whether another process has the file open); the next run catches every quantity up.

mod address;
mod audit;
mod confirmed;
mod error;
mod held;
mod orders;
mod private;
mod recovery;
mod row;
mod runs;
mod schema;
mod store;
mod time;
mod tokens;
mod webhooks;

pub use address::StoreAddress;
pub use error::SqliteError;
pub use recovery::STOPPED_NOTE;
pub use schema::SCHEMA_VERSION;
pub use store::SqliteStore;
