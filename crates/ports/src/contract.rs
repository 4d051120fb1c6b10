//! The contract suite: behaviour every implementation of a port must show, fakes and real
//! adapters alike. Each suite seeds nothing itself: the caller builds its implementation
//! holding exactly the matching seed ([`source_seed`], [`sink_seed`], an empty store), then
//! calls the suite, which panics with a message naming the broken promise.

mod sink;
mod source;
mod store;

pub use sink::{sink_contract, sink_seed};
pub use source::{source_contract, source_seed};
pub use store::store_contract;
