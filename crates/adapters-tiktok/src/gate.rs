//! [`SendGate`]: a check made at the last moment before a write's body leaves, so that a
//! caller can stop writes at once (a fleet worker whose lease on the shop is no longer
//! trusted), however long the write waited for the rate limiter or a retry.

use std::fmt;
use std::sync::Arc;

/// Asked before every request with a body (every write) is sent, and again when its body is
/// about to be written to the connection: `Err(reason)` stops the request, which is then
/// not retried. The adapter knows nothing of why a caller closes it.
#[derive(Clone)]
pub struct SendGate(Arc<dyn Fn() -> Result<(), String> + Send + Sync>);

impl SendGate {
    /// A gate asking `check`.
    pub fn new(check: impl Fn() -> Result<(), String> + Send + Sync + 'static) -> SendGate {
        SendGate(Arc::new(check))
    }

    /// Whether a write may be sent now.
    pub fn check(&self) -> Result<(), String> {
        (self.0)()
    }
}

impl fmt::Debug for SendGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendGate")
    }
}
