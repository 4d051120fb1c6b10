//! Tests through the `stockbridge` binary, against the emulators over real HTTP: in-process
//! (`--sandbox`) or as a separate `stockbridge sandbox` process.

mod bad_input;
mod breaker;
mod chaos;
mod cli;
mod config;
mod console;
mod crash;
#[cfg(unix)]
mod fleet;
mod history;
mod orders;
mod postgres_state;
mod sandbox_shops;
mod schedule;
mod serve;
mod shops;
#[cfg(unix)]
mod state_file;
mod support;
mod tokens;
mod warnings;
