//! The PostgreSQL state store of Stockbridge: [`PostgresStore`] implements the ports'
//! `StateStore` over a PostgreSQL database (`[state] url = "postgres://..."`), for a shop whose
//! state should live in a database server rather than in an SQLite file, and as the ground the
//! fleet mode (many shops, many workers, one database) is built on. It owns the schema, its
//! migrations, and the mapping between rows and the ports' records.
//!
//! It must not know any platform or the sync rules: it stores what the application hands it
//! and gives it back unchanged.
//!
//! # Shops and scopes
//!
//! Every row of state belongs to one shop (`shop_id`). A single-shop process uses the scope
//! [`ShopScope::SINGLE`] (shop 0, which no fleet shop ever is). Tables live in the schema the
//! connection's `search_path` names first, so one database can hold several independent
//! installations (`?options=-csearch_path%3Dname` in the URL).
//!
//! # The fleet
//!
//! [`Fleet`] keeps the shops of a fleet (their secrets sealed with the fleet's [`SecretKey`],
//! so a dump reveals no token) and one lease per shop: owner, an epoch raised at every grant,
//! and an expiry by the database's clock. Workers take free or expired leases up to a fair
//! share, renew them, and give them back. A worker writes a shop's state through
//! [`PostgresStore::scoped`] with [`Lease::scope`]: a trigger on every state table refuses the
//! write (SQLSTATE `SB001`, [`PostgresError::StaleEpoch`]) unless its epoch is the shop's
//! current one and the lease is unexpired, and holds the lease row until the write commits, so
//! no write under an old epoch lands after a newer grant. Processed webhook ids are not
//! fenced: any worker answers any shop's webhooks.
//!
//! # Secrets
//!
//! The state holds each platform's OAuth tokens: protect the database like a credential. Tokens
//! are bound as parameters, never part of SQL text, so no error carries one, and they never
//! appear in `Debug` output.
//!
//! # Transport
//!
//! Connections are made without TLS: use a local socket, the loopback interface or a trusted
//! network. A URL asking for TLS (`sslmode=require`) is refused when connecting.

mod audit;
mod error;
pub mod fleet;
mod held;
mod orders;
mod row;
mod runs;
mod schema;
mod store;
mod tokens;
mod webhooks;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::PostgresError;
pub use fleet::{
    Delivery, DirtyItem, DirtyLevel, DirtyOrder, Fleet, Lease, LevelMark, Marked, NewShop,
    OrderMark, SecretKey, ShopRow, ShopifyCopy, StoredShop, WebhookTarget, RECONCILE_ITEM,
};
pub use schema::SCHEMA_VERSION;
pub use store::{PostgresStore, ShopScope};
