//! The SQLite store's integration tests, in one binary: the ports' store contract
//! (`contract`), what the file keeps (`durability`), runs cut short by a stopped process
//! (`recovery`), and files written by older versions (`upgrade`). A new test file is a module
//! of this one (automatic discovery is off).

mod contract;
mod durability;
mod recovery;
mod upgrade;
