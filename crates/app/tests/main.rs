//! The app's integration tests, in one binary (each test binary is linked on its own, and
//! linking dominates a build on two cores): through the `stockbridge` binary (`binary`), the
//! engine over in-memory ports (`engine`), fleet workers in-process against PostgreSQL
//! (`fleet`), and the real-time pipeline in-process (`pipeline`). Cargo's automatic discovery of test files is off for this crate: a new test
//! file is a module of one of these.

mod binary;
mod engine;
mod fleet;
mod pipeline;
