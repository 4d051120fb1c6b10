//! What the two stores hold, as the rules see it: Shopify locations and variant snapshots on
//! one side, TikTok warehouses and SKUs with their current per-warehouse quantities on the
//! other. Adapters translate each platform's wire format into these types.

use crate::bundle::Component;
use crate::ids::{InventoryItemId, LocationId, ProductId, Sku, SkuId, VariantId, WarehouseId};
use crate::quantity::Quantity;

/// A Shopify location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Numeric id.
    pub id: LocationId,
    /// Display name, as the merchant named it.
    pub name: String,
    /// Whether the location is active now; inactive locations count 0.
    pub active: bool,
}

/// Shopify's "Continue selling when out of stock" switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InventoryPolicy {
    /// Stop selling at zero (the default).
    Deny,
    /// Keep selling when out of stock: Shopify does not limit sales.
    Continue,
}

/// A Shopify product's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProductStatus {
    /// Sellable.
    Active,
    /// Not sellable yet.
    Draft,
    /// No longer sold.
    Archived,
    /// Active but reachable only by direct link.
    Unlisted,
}

impl ProductStatus {
    /// Whether variants of a product with this status are synced. Every status is, by
    /// sync-rules.md §3 (the TikTok listing is the merchant's to manage); this is the one
    /// place to change that decision.
    pub fn is_synced(self) -> bool {
        true
    }
}

/// The `available` quantity of one inventory item at one location. May be negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLevel {
    /// Where.
    pub location: LocationId,
    /// Units available to sell there; negative when oversold.
    pub available: i64,
    /// When Shopify last changed this level, when the read said (`InventoryLevel.updatedAt`).
    pub updated_at: Option<UpdatedAt>,
}

impl StockLevel {
    /// A level without a time (a read that did not say when it changed).
    pub fn new(location: LocationId, available: i64) -> StockLevel {
        StockLevel {
            location,
            available,
            updated_at: None,
        }
    }
}

/// When Shopify last changed a level, to the whole second: Shopify's resolution for both a
/// read's `InventoryLevel.updatedAt` and a webhook's `updated_at`. Two changes within one
/// second carry equal times, so only a strictly later time says which number is newer.
///
/// ```
/// use stockbridge_domain::UpdatedAt;
/// let read = UpdatedAt::from_unix_seconds(1_764_000_000).unwrap();
/// let payload = UpdatedAt::from_unix_seconds(1_764_000_001).unwrap();
/// assert!(payload > read);
/// assert_eq!(UpdatedAt::from_unix_seconds(-1), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UpdatedAt(u32);

impl UpdatedAt {
    /// The time `seconds` after the Unix epoch; `None` before 1970 or after 2106 (no
    /// Shopify time is either).
    pub fn from_unix_seconds(seconds: i64) -> Option<UpdatedAt> {
        u32::try_from(seconds).ok().map(UpdatedAt)
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        i64::from(self.0)
    }
}

/// One Shopify variant as read at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantSnapshot {
    /// The variant.
    pub variant_id: VariantId,
    /// Its inventory item (1:1 with the variant).
    pub inventory_item_id: InventoryItemId,
    /// The merchant SKU; `None` when empty, which matches nothing.
    pub sku: Option<Sku>,
    /// "Track quantity": when off, Shopify does not limit sales.
    pub tracked: bool,
    /// "Continue selling when out of stock".
    pub policy: InventoryPolicy,
    /// The product's status.
    pub product_status: ProductStatus,
    /// `available` per location where the item is stocked; a location not listed counts 0.
    pub levels: Vec<StockLevel>,
    /// `Some` when the variant is a bundle (Shopify's `requiresComponents`): what one bundle
    /// is made of. A bundle has no stock of its own; its `levels`, `tracked` and `policy`
    /// are ignored (sync-rules.md §8).
    pub components: Option<Vec<Component>>,
}

impl VariantSnapshot {
    /// Whether the variant is a bundle, whose stock is made of its components.
    pub fn is_bundle(&self) -> bool {
        self.components.is_some()
    }

    /// Whether Shopify lets this variant sell without limit (untracked, or continue selling).
    /// For a bundle this describes only its own switches, which the rules ignore.
    pub fn is_unlimited(&self) -> bool {
        !self.tracked || self.policy == InventoryPolicy::Continue
    }

    /// The `available` quantity at a location (0 where not stocked).
    pub fn available_at(&self, location: LocationId) -> i64 {
        self.levels
            .iter()
            .filter(|l| l.location == location)
            .map(|l| l.available)
            .sum()
    }
}

/// TikTok Shop warehouse types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WarehouseKind {
    /// Ships orders: the only kind that can be a target.
    Sales,
    /// Receives returns.
    Return,
}

/// TikTok Shop warehouse status (`effect_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WarehouseStatus {
    /// Stock there is sellable.
    Enabled,
    /// Not sellable.
    Disabled,
    /// Holiday or order-limit mode: not sellable.
    Restricted,
}

/// A TikTok Shop warehouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warehouse {
    /// Immutable id.
    pub id: WarehouseId,
    /// Display name (not unique on TikTok).
    pub name: String,
    /// Sales or return.
    pub kind: WarehouseKind,
    /// Enabled or not.
    pub status: WarehouseStatus,
    /// The shop's default warehouse.
    pub is_default: bool,
}

impl Warehouse {
    /// Only enabled sales warehouses can receive numbers (sync-rules.md §4).
    pub fn is_target(&self) -> bool {
        self.kind == WarehouseKind::Sales && self.status == WarehouseStatus::Enabled
    }
}

/// A quantity in one warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WarehouseStock {
    /// Which warehouse.
    pub warehouse: WarehouseId,
    /// How many units.
    pub quantity: Quantity,
}

/// One TikTok SKU with the quantity TikTok holds now in each warehouse it is stocked in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TikTokSku {
    /// The product it belongs to (writes are per product).
    pub product_id: ProductId,
    /// The SKU.
    pub sku_id: SkuId,
    /// The merchant's code, as TikTok stores it (untrimmed).
    pub seller_sku: String,
    /// Every warehouse the SKU is stocked in, with its current quantity.
    pub stock: Vec<WarehouseStock>,
}

impl TikTokSku {
    /// The current quantity in a warehouse, if the SKU is stocked there.
    pub fn quantity_in(&self, warehouse: &WarehouseId) -> Option<Quantity> {
        self.stock
            .iter()
            .find(|s| &s.warehouse == warehouse)
            .map(|s| s.quantity)
    }
}
