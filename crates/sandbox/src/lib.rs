//! stockbridge-sandbox: in-process emulators of the Shopify Admin GraphQL API and the TikTok
//! Shop 202309 API, served over real HTTP on one listener, plus a control API under
//! `/_sandbox/` (spec/sandbox.md). It owns the fixture format, the emulated stores' state, their
//! wire formats, error codes, throttling and webhooks. It must not know the adapters or the
//! sync rules: clients talk to it exactly as to the real services.
//!
//! Where things are: `fixture` (format, defaults, checks), `store` (state and indexes),
//! `server` (start, options, router), `shops` (many shops, routing), `shopify` (GraphQL endpoint; `schema`, `cost`, `search`,
//! `bulk`), `tiktok` (gate and envelope; `signing`, `auth`, `catalog`, `inventory`, `limiter`),
//! `webhooks` (delivery; `payloads`), `control` (`/_sandbox/`), `faults`, `stats`, `clock`.
//!
//! Control API (no auth; JSON bodies and answers; README.md has examples):
//! `POST /_sandbox/shopify/inventory_levels`, `POST /_sandbox/shopify/inventory_items/{id}`,
//! `POST /_sandbox/shopify/variants/{id}`, `POST /_sandbox/shopify/products/{id}`,
//! `POST /_sandbox/shopify/locations/{id}` (each with its signed Shopify webhook),
//! `POST /_sandbox/tiktok/skus/{sku_id}` (hand edit, no webhook),
//! `POST /_sandbox/tiktok/token/expire`, `GET /_sandbox/state`, `GET /_sandbox/stats`,
//! `POST /_sandbox/stats/reset`, `GET /_sandbox/faults`, `POST /_sandbox/faults`,
//! `GET /_sandbox/writes`, `GET /_sandbox/shops`, and the bulk results at
//! `GET /_sandbox/bulk/{id}.jsonl`.
//!
//! Many shops: `Sandbox::start_shops` with [`Shops`] (N copies of a fixture, or a list) serves
//! each shop with its own store, credentials, cost bucket and rate limit, built on its first
//! request (`shops` says how a request finds its shop; `?shop=DOMAIN` on control calls).

mod clock;
mod control;
pub mod credentials;
mod faults;
mod fixture;
mod server;
mod shopify;
mod shops;
mod stats;
mod store;
pub mod tiktok;
pub mod webhooks;

pub use credentials::Credentials;
pub use faults::{ApiFaults, Faults, WebhookFaults, MAX_FAULT_DELAY_MS};
pub use fixture::{
    Attribute, Fixture, FixtureError, InventoryPolicy, Level, Location, ProductStatus,
    ShopifyFixture, ShopifyOrder, ShopifyOrderLine, TikTokFixture, TikTokOrder, TikTokOrderLine,
    TikTokOrderStatus, TikTokProduct, TikTokProductStatus, TikTokSku, Variant, Warehouse,
    WarehouseQuantity, WarehouseStatus, WarehouseType,
};
pub use server::{RunningSandbox, Sandbox, SandboxError, SandboxOptions};
pub use shops::{copy_credentials, Shops, MAX_SHOPS};
pub use stats::{InventoryUpdateStats, Stats, WebhookStats};
pub use store::writes::{TikTokWrite, WrittenSku, LEASE_HEADER};
