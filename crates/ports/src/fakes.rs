//! In-memory fakes of the three ports, for tests of the application and as the reference
//! behaviour the contract suite checks. They keep everything behind a `std::sync::Mutex`.

mod sink;
mod source;
mod store;

pub use sink::InMemorySink;
pub use source::InMemorySource;
pub use store::InMemoryStore;
