//! Tests through the `stockbridge` binary, against the emulators over real HTTP: in-process
//! (`--sandbox`) or as a separate `stockbridge sandbox` process.

mod cli;
mod serve;
mod support;
