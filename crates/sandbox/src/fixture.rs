//! The fixture: the JSON description of both stores (spec/sandbox.md), used to start the
//! emulators and to dump their state. Defaults fill left-out keys; unknown keys are errors.

mod orders;
mod validate;

pub use orders::{
    Attribute, ShopifyOrder, ShopifyOrderLine, TikTokOrder, TikTokOrderLine, TikTokOrderStatus,
};

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::credentials::Credentials;

/// Both stores and the credentials the emulators accept.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// The Shopify store.
    #[serde(default)]
    pub shopify: ShopifyFixture,
    /// The TikTok shop.
    #[serde(default)]
    pub tiktok: TikTokFixture,
    /// Credentials; the demo values for keys left out.
    #[serde(default)]
    pub credentials: Credentials,
}

/// The Shopify store: locations and variants (each with its inventory item and levels).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopifyFixture {
    /// Locations, active or not.
    #[serde(default)]
    pub locations: Vec<Location>,
    /// Product variants.
    #[serde(default)]
    pub variants: Vec<Variant>,
    /// Orders (version 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<ShopifyOrder>,
}

/// A Shopify location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Numeric id (`gid://shopify/Location/{id}` in GraphQL).
    pub id: u64,
    /// Display name.
    pub name: String,
    /// `isActive`; default true.
    #[serde(default = "yes")]
    pub active: bool,
    /// `fulfillsOnlineOrders`; default true.
    #[serde(default = "yes")]
    pub fulfills_online_orders: bool,
}

/// A Shopify product variant with its (1:1) inventory item and its levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Numeric variant id.
    pub id: u64,
    /// Numeric id of the variant's product.
    pub product_id: u64,
    /// SKU; Shopify allows none.
    #[serde(default)]
    pub sku: Option<String>,
    /// Numeric id of the inventory item.
    pub inventory_item_id: u64,
    /// `InventoryItem.tracked`; default true.
    #[serde(default = "yes")]
    pub tracked: bool,
    /// `inventoryPolicy`; default DENY.
    #[serde(default)]
    pub inventory_policy: InventoryPolicy,
    /// `product.status`; default ACTIVE.
    #[serde(default)]
    pub product_status: ProductStatus,
    /// Inventory levels, one per stocked location.
    #[serde(default)]
    pub levels: Vec<Level>,
    /// A bundle's components (`requiresComponents` is true when any are listed): one bundle
    /// takes `quantity` units of each. A bundle has no levels of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component>,
}

/// One component of a bundle (`ProductVariantComponent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// The component variant's numeric id. An id that is no variant of the fixture is served
    /// by its id alone, as a component that cannot be read.
    pub variant_id: u64,
    /// Units of it in one bundle, at least 1.
    pub quantity: u32,
}

impl Variant {
    /// Sum of `available` over the levels, saturating: levels set through the control API may
    /// hold any `i64`, and a sum must not overflow.
    pub(crate) fn total_available(&self) -> i64 {
        self.levels
            .iter()
            .fold(0_i64, |sum, level| sum.saturating_add(level.available))
    }
}

/// An inventory level: the `available` quantity of one item at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// Numeric location id.
    pub location_id: u64,
    /// `available`; may be negative (oversold).
    pub available: i64,
}

/// `ProductVariantInventoryPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum InventoryPolicy {
    /// Stop selling when out of stock.
    #[default]
    #[serde(alias = "deny")]
    Deny,
    /// Continue selling when out of stock.
    #[serde(alias = "continue")]
    Continue,
}

/// Shopify `ProductStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ProductStatus {
    /// Sellable.
    #[default]
    Active,
    /// Not sellable.
    Draft,
    /// Not sold.
    Archived,
    /// Active but reachable only by a direct link (API 2025-10 and later).
    Unlisted,
}

/// The TikTok shop: warehouses and products with their SKUs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TikTokFixture {
    /// Warehouses of the shop.
    #[serde(default)]
    pub warehouses: Vec<Warehouse>,
    /// Products.
    #[serde(default)]
    pub products: Vec<TikTokProduct>,
    /// Orders (version 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<TikTokOrder>,
}

/// A TikTok warehouse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Warehouse {
    /// Warehouse id (a string of digits).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Default false.
    #[serde(default)]
    pub is_default: bool,
    /// Default `SALES_WAREHOUSE`.
    #[serde(default, rename = "type")]
    pub kind: WarehouseType,
    /// Default `ENABLED`.
    #[serde(default)]
    pub effect_status: WarehouseStatus,
}

/// TikTok warehouse `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WarehouseType {
    /// Ships orders; the only kind SKU inventory may name.
    #[default]
    SalesWarehouse,
    /// Receives returns.
    ReturnWarehouse,
}

/// TikTok warehouse `effect_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WarehouseStatus {
    /// Stock sellable.
    #[default]
    Enabled,
    /// Not sellable.
    Disabled,
    /// Holiday or order-limit mode; not sellable.
    Restricted,
}

/// A TikTok product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TikTokProduct {
    /// Product id.
    pub id: String,
    /// Title; `Product {id}` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Default `ACTIVATE`.
    #[serde(default)]
    pub status: TikTokProductStatus,
    /// SKUs of the product.
    #[serde(default)]
    pub skus: Vec<TikTokSku>,
}

/// TikTok product `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum TikTokProductStatus {
    Draft,
    Pending,
    Failed,
    #[default]
    Activate,
    SellerDeactivated,
    PlatformDeactivated,
    Freeze,
    Deleted,
}

impl TikTokProductStatus {
    /// The wire name, e.g. `ACTIVATE`.
    pub fn as_str(self) -> &'static str {
        match self {
            TikTokProductStatus::Draft => "DRAFT",
            TikTokProductStatus::Pending => "PENDING",
            TikTokProductStatus::Failed => "FAILED",
            TikTokProductStatus::Activate => "ACTIVATE",
            TikTokProductStatus::SellerDeactivated => "SELLER_DEACTIVATED",
            TikTokProductStatus::PlatformDeactivated => "PLATFORM_DEACTIVATED",
            TikTokProductStatus::Freeze => "FREEZE",
            TikTokProductStatus::Deleted => "DELETED",
        }
    }
}

/// A TikTok SKU and its per-warehouse quantities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TikTokSku {
    /// SKU id.
    pub id: String,
    /// The merchant's code (joins to the Shopify SKU).
    #[serde(default)]
    pub seller_sku: String,
    /// One entry per warehouse assigned to the SKU.
    #[serde(default)]
    pub inventory: Vec<WarehouseQuantity>,
}

/// A SKU's quantity in one warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseQuantity {
    /// Warehouse id.
    pub warehouse_id: String,
    /// Available quantity.
    pub quantity: i64,
}

fn yes() -> bool {
    true
}

/// Why a fixture was refused.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The file could not be read.
    #[error("cannot read fixture {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not JSON of the fixture format (bad syntax, unknown key, wrong type or value).
    #[error("fixture key `{path}`: {message}")]
    Format {
        /// Where, e.g. `shopify.variants[2].tracked`.
        path: String,
        /// What is wrong, naming the key or value.
        message: String,
    },
    /// Well-formed, but inconsistent (duplicate ids, unknown references).
    #[error("fixture key `{path}`: {message}")]
    Invalid {
        /// Where, e.g. `tiktok.products[0].skus[1].inventory[0].warehouse_id`.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl Fixture {
    /// Parses and checks a fixture; the error names the bad key or value and its path.
    pub fn from_json(text: &str) -> Result<Fixture, FixtureError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let fixture: Fixture =
            serde_path_to_error::deserialize(&mut de).map_err(|err| FixtureError::Format {
                path: display_path(&err.path().to_string()),
                message: err.inner().to_string(),
            })?;
        de.end().map_err(|err| FixtureError::Format {
            path: "(end)".to_owned(),
            message: err.to_string(),
        })?;
        fixture.checked()
    }

    /// The fixture once it passes the consistency checks (ids unique, references known).
    pub(crate) fn checked(self) -> Result<Fixture, FixtureError> {
        validate::check(&self)?;
        orders::check(&self)?;
        Ok(self)
    }

    /// Reads and parses a fixture file.
    pub fn load(path: &Path) -> Result<Fixture, FixtureError> {
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Fixture::from_json(&text)
    }

    /// The fixture in its own format, every default written out. Secrets are left out of
    /// `credentials` (cli.md: a secret never appears in `--sandbox-state-out`), so reading it back
    /// gives the same stores, and the same credentials where the secrets were the demo values.
    pub fn to_json_pretty(&self) -> String {
        let mut root = serde_json::Map::new();
        root.insert("shopify".to_owned(), to_value(&self.shopify));
        root.insert("tiktok".to_owned(), to_value(&self.tiktok));
        let credentials = self.credentials.public_part();
        if !credentials.is_empty() {
            root.insert(
                "credentials".to_owned(),
                serde_json::Value::Object(credentials),
            );
        }
        serde_json::to_string_pretty(&serde_json::Value::Object(root))
            .expect("a JSON value always serializes")
    }
}

fn to_value<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("fixture types always serialize")
}

fn display_path(path: &str) -> String {
    if path == "." || path.is_empty() {
        "(root)".to_owned()
    } else {
        path.to_owned()
    }
}
