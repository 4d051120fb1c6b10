//! The Shopify adapter's integration tests, in one binary: against the sandbox over real HTTP
//! (`sandbox`, `health`, `bulk_recovery`, `sandbox_webhook`) and against wiremock for exact
//! requests and rare answers (`wire`, `bulk_wire`), and webhook verification and parsing
//! (`webhook`). A new test file is a module of this one (automatic discovery is off).

mod bulk_recovery;
mod bulk_wire;
mod health;
mod sandbox;
mod sandbox_webhook;
mod webhook;
mod wire;
