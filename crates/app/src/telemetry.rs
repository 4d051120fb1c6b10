//! Structured logs with tracing: human-readable on a terminal, JSON lines otherwise, on
//! standard error (standard output carries the command's result). `STOCKBRIDGE_LOG` sets the
//! filter; by default long-running commands log `info`, one-shot commands only `warn`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls do nothing.
pub fn init(default_level: &str) {
    let filter = EnvFilter::try_from_env("STOCKBRIDGE_LOG")
        .unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::io::stderr().is_terminal() {
        builder.compact().try_init()
    } else {
        builder.json().flatten_event(true).try_init()
    };
}
