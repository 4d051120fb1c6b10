//! Behaviour of the emulators over real HTTP: every test starts a sandbox on 127.0.0.1:0. One
//! test binary for the crate: a new test file is a module of this one (automatic discovery is
//! off).

#[path = "sandbox/bad_input.rs"]
mod bad_input;
#[path = "sandbox/bucket.rs"]
mod bucket;
#[path = "sandbox/bulk.rs"]
mod bulk;
#[path = "sandbox/bulk_limits.rs"]
mod bulk_limits;
#[path = "sandbox/bundles.rs"]
mod bundles;
#[path = "sandbox/faults.rs"]
mod faults;
#[path = "sandbox/fixture.rs"]
mod fixture;
#[path = "sandbox/orders.rs"]
mod orders;
#[path = "sandbox/shopify.rs"]
mod shopify;
#[path = "sandbox/shopify_catalog.rs"]
mod shopify_catalog;
#[path = "sandbox/shopify_errors.rs"]
mod shopify_errors;
#[path = "sandbox/shops.rs"]
mod shops;
#[path = "sandbox/support.rs"]
mod support;
#[path = "sandbox/tiktok_auth.rs"]
mod tiktok_auth;
#[path = "sandbox/tiktok_catalog.rs"]
mod tiktok_catalog;
#[path = "sandbox/tiktok_errors.rs"]
mod tiktok_errors;
#[path = "sandbox/tiktok_inventory.rs"]
mod tiktok_inventory;
mod tiktok_search_cap;
#[path = "sandbox/webhooks.rs"]
mod webhooks;
