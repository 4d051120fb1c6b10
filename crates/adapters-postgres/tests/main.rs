//! The PostgreSQL store's integration tests, in one binary, against a real server (see the
//! crate's `testing` harness for which): the ports' store contract (`contract`). A new test
//! file is a module of this one (automatic discovery is off).

mod contract;
