//! The shape of a TikTok Shop inventory write, the plan lines it carries and the order writes
//! go out in, and its per-warehouse outcome.

use crate::catalog::WarehouseStock;
use crate::ids::{ProductId, SkuId, WarehouseId};
use crate::plan::PlanLine;

/// The new stock of one SKU: every warehouse it is stocked in, untargeted ones at their
/// current quantity (TikTok refuses a write that leaves one out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuWrite {
    /// The SKU.
    pub sku_id: SkuId,
    /// All of its warehouses with the quantity each must hold after the write.
    pub stock: Vec<WarehouseStock>,
}

/// One call to TikTok: the changed SKUs of one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductWrite {
    /// The product named in the call's path.
    pub product_id: ProductId,
    /// Its SKUs whose numbers change.
    pub skus: Vec<SkuWrite>,
}

impl ProductWrite {
    /// How many (SKU, warehouse) quantities the write states.
    pub fn stock_count(&self) -> usize {
        self.skus.iter().map(|s| s.stock.len()).sum()
    }
}

/// One product's write with the changed plan lines it carries (the warehouses it restates
/// unchanged are not lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteJob {
    /// The call.
    pub write: ProductWrite,
    /// The changed lines it carries.
    pub lines: Vec<PlanLine>,
}

impl WriteJob {
    /// Whether any of its numbers may go down: one goes below what TikTok holds, or what
    /// TikTok holds is not known. Such writes are sent first (see `Plan::write_jobs`).
    pub fn lowers_stock(&self) -> bool {
        self.lines
            .iter()
            .any(|l| l.current.is_none_or(|c| l.quantity < c))
    }
}

/// What happened to one (SKU, warehouse) quantity of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarehouseOutcome {
    /// TikTok holds the new number.
    Applied,
    /// TikTok refused it, with its code and message; retrying the same write will not help.
    Rejected {
        /// The platform's error code.
        code: String,
        /// The platform's message.
        message: String,
    },
}

/// The outcome of one (SKU, warehouse) quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The SKU.
    pub sku_id: SkuId,
    /// The warehouse.
    pub warehouse: WarehouseId,
    /// Applied or rejected.
    pub outcome: WarehouseOutcome,
}

impl WriteOutcome {
    /// Whether TikTok now holds the number.
    pub fn is_applied(&self) -> bool {
        self.outcome == WarehouseOutcome::Applied
    }
}
