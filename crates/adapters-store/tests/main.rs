//! The SQLite store's integration tests, in one binary: the ports' store contract
//! (`contract`), what the file keeps (`durability`), and runs cut short by a stopped process
//! (`recovery`). A new test file is a module of this one (automatic discovery is off).

mod contract;
mod durability;
mod recovery;
