//! The PostgreSQL store's integration tests, in one binary, against a real server (see the
//! crate's `testing` harness for which): the ports' store contract (`contract`), and the fleet tables with their leases and fencing (`fleet`), and the webhook marks
//! handed to the lease holder (`dirty`). A new test
//! file is a module of this one (automatic discovery is off).

mod contract;
mod dirty;
mod fleet;
