//! The TikTok inventory writes a shop received, in arrival order, each with the
//! `X-Stockbridge-Lease` header it carried: so a test can see which worker, under which
//! fencing epoch, made each write (spec/fleet.md).

use serde::{Deserialize, Serialize};

use crate::fixture::WarehouseQuantity;

/// The header a fleet worker sends with every request for a shop: `<worker id>;<epoch>`.
pub const LEASE_HEADER: &str = "x-stockbridge-lease";

/// One update-inventory call that changed the shop's stock
/// (`GET /_sandbox/writes?shop_cipher=...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TikTokWrite {
    /// When it arrived, RFC 3339 with milliseconds.
    pub at: String,
    /// The `X-Stockbridge-Lease` header as sent (`<worker id>;<epoch>`), `null` without one.
    pub lease: Option<String>,
    /// The product of the call.
    pub product_id: String,
    /// The SKUs applied (refused ones left out), with the quantities written.
    pub skus: Vec<WrittenSku>,
}

/// A SKU's new quantities, as one write set them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenSku {
    /// TikTok SKU id.
    pub id: String,
    /// The quantity written per warehouse.
    pub inventory: Vec<WarehouseQuantity>,
}
