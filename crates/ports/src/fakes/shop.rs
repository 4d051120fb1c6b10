//! Short ways for tests to write what the stores hold: locations, warehouses, variants and
//! TikTok SKUs, the domain's own builders (`stockbridge_domain::testing`). Each panics on a
//! value the domain refuses (a test's own mistake).

pub use stockbridge_domain::testing::{bundle, level, location, tiktok_sku, variant, warehouse};
