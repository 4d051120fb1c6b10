//! Warnings: things a merchant should know that do not stop a sync.

use std::fmt;

use crate::bundle::UnreadableBundle;
use crate::ids::{SkuId, VariantId, WarehouseId};

/// How many examples a warning about many items lists before "and N more".
pub const WARNING_EXAMPLES: usize = 20;

/// Something the plan carries for the merchant to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A location listed in a mapping exists but is inactive: it counts 0.
    InactiveLocation {
        /// The location's name.
        location: String,
        /// The mapping's position in `rules.location_mapping` (0-based).
        mapping: usize,
    },
    /// Several Shopify variants share a SKU: their TikTok SKUs are not touched.
    AmbiguousSku {
        /// The SKU.
        sku: String,
        /// The variants that share it.
        variants: Vec<VariantId>,
        /// The TikTok SKUs left untouched.
        tiktok_skus: Vec<SkuId>,
    },
    /// One variant matches several TikTok SKUs: each gets the number.
    OfferedMoreThanOnce {
        /// The SKU.
        sku: String,
        /// The TikTok SKUs that all receive the variant's stock.
        tiktok_skus: Vec<SkuId>,
    },
    /// A matched TikTok SKU is not stocked in a mapping's target warehouse.
    NotStockedInWarehouse {
        /// The SKU.
        sku: String,
        /// The TikTok SKU.
        sku_id: SkuId,
        /// The warehouse's id.
        warehouse: WarehouseId,
        /// The warehouse's name.
        warehouse_name: String,
    },
    /// Shopify variants with a SKU that no TikTok SKU carries, whether or not another
    /// variant shares it.
    UnmatchedVariants {
        /// How many.
        count: usize,
        /// Up to [`WARNING_EXAMPLES`] of their SKUs; a SKU that several variants share is
        /// written `SKU (variant ID, shared SKU)`.
        examples: Vec<String>,
    },
    /// Shopify variants without a SKU, which match nothing.
    VariantsWithoutSku {
        /// How many.
        count: usize,
        /// Up to [`WARNING_EXAMPLES`] of their ids.
        examples: Vec<VariantId>,
    },
    /// A bundle whose components cannot be read: its TikTok SKUs get no number (§8).
    BundleUnreadable {
        /// The bundle's SKU.
        sku: String,
        /// The bundle variant.
        variant: VariantId,
        /// Why.
        reason: UnreadableBundle,
    },
    /// A component listed on TikTok on its own and inside bundles: each listing offers its
    /// full stock (§8). One warning per shared component.
    SharedComponent {
        /// The component's SKU.
        sku: String,
        /// The SKUs of the listed bundles that contain it.
        bundles: Vec<String>,
    },
    /// TikTok SKUs whose seller SKU no Shopify variant carries.
    UnmatchedTikTokSkus {
        /// How many.
        count: usize,
        /// Up to [`WARNING_EXAMPLES`] of them, as `seller_sku (sku id)`.
        examples: Vec<String>,
    },
}

fn list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T], total: usize) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    if total > items.len() {
        write!(f, " and {} more", total - items.len())?;
    }
    Ok(())
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::InactiveLocation { location, mapping } => write!(
                f,
                "location {location:?} in rules.location_mapping[{mapping}] is inactive: it counts 0 until it is activated"
            ),
            Warning::AmbiguousSku { sku, variants, tiktok_skus } => {
                write!(f, "SKU {sku:?} is used by several Shopify variants (")?;
                list(f, variants, variants.len())?;
                f.write_str("): TikTok SKU ")?;
                list(f, tiktok_skus, tiktok_skus.len())?;
                f.write_str(" left untouched; give each variant its own SKU")
            }
            Warning::OfferedMoreThanOnce { sku, tiktok_skus } => {
                write!(f, "SKU {sku:?} matches several TikTok SKUs (")?;
                list(f, tiktok_skus, tiktok_skus.len())?;
                f.write_str("): each gets the full number, so the stock is offered more than once")
            }
            Warning::NotStockedInWarehouse { sku, sku_id, warehouse, warehouse_name } => write!(
                f,
                "TikTok SKU {sku_id} ({sku}) is not stocked in warehouse {warehouse_name:?} ({warehouse}): it gets no number there; add the warehouse to the SKU in Seller Center"
            ),
            Warning::UnmatchedVariants { count, examples } => {
                write!(f, "{count} Shopify variant(s) match no TikTok SKU: ")?;
                list(f, examples, *count)
            }
            Warning::VariantsWithoutSku { count, examples } => {
                write!(f, "{count} Shopify variant(s) have no SKU and match nothing: ")?;
                list(f, examples, *count)
            }
            Warning::BundleUnreadable { sku, variant, reason } => write!(
                f,
                "bundle {sku:?} (variant {variant}) gets no number: {reason}; its TikTok stock is left as it is"
            ),
            Warning::SharedComponent { sku, bundles } => {
                write!(f, "SKU {sku:?} is listed on its own and inside bundle(s) ")?;
                list(f, bundles, bundles.len())?;
                f.write_str(": each listing offers its full stock, so it is offered more than once")
            }
            Warning::UnmatchedTikTokSkus { count, examples } => {
                write!(f, "{count} TikTok SKU(s) match no Shopify variant: ")?;
                list(f, examples, *count)
            }
        }
    }
}
