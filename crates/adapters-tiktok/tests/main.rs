//! The TikTok adapter's integration tests, in one binary: the exact requests and rare answers
//! against wiremock (`requests`), and the sink against the emulator over real HTTP
//! (`sandbox`). A new test file is a module of this one (automatic discovery is off).

mod requests;
mod sandbox;
