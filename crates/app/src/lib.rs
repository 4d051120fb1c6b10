//! The `stockbridge` application: configuration, the commands of cli.md, the reconciliation
//! engine, the webhook server, and the wiring of adapters to ports. The only crate that knows
//! every other one; `main.rs` only calls [`cli::main`].

pub mod audit;
pub mod check;
pub mod cli;
pub mod console;
pub mod demo;
pub mod engine;
pub mod error;
pub mod fleet;
pub mod history;
pub mod report;
pub mod runs;
pub mod sandbox;
pub mod serve;
pub mod settings;
pub mod shops;
pub mod state;
pub mod sync;
pub mod telemetry;
pub mod wiring;

pub use settings::{ConfigError, Settings};
