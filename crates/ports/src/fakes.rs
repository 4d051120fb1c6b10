//! In-memory fakes of the three ports, for tests of the application and as the reference
//! behaviour the contract suite checks. They keep everything behind a `std::sync::Mutex`.
//! [`FaultySource`], [`FaultySink`] and [`FaultyStore`] put injected faults in front of any
//! implementation; [`shop`] writes locations, warehouses, variants and TikTok SKUs in a line
//! each.

mod faulty;
pub mod shop;
mod sink;
mod source;
mod store;

pub use faulty::{FaultySink, FaultySource, FaultyStore};
pub use sink::InMemorySink;
pub use source::InMemorySource;
pub use store::InMemoryStore;
