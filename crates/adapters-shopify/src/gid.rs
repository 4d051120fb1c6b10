//! Shopify's global ids (`gid://shopify/Location/42`) and the numeric ids of the domain.

use stockbridge_domain::{InventoryItemId, LocationId, VariantId};

use crate::error::AnswerError;

/// Object kinds whose ids this adapter reads.
pub(crate) const LOCATION: &str = "Location";
pub(crate) const VARIANT: &str = "ProductVariant";
pub(crate) const INVENTORY_ITEM: &str = "InventoryItem";
pub(crate) const PRODUCT: &str = "Product";
pub(crate) const VARIANT_COMPONENT: &str = "ProductVariantComponent";

/// The numeric part of `gid://shopify/{kind}/N`, ignoring a `?query` suffix (inventory levels
/// carry one).
pub(crate) fn number(kind: &'static str, gid: &str) -> Result<u64, AnswerError> {
    let bad = || AnswerError::Gid {
        kind,
        value: gid.to_owned(),
    };
    let rest = gid
        .strip_prefix("gid://shopify/")
        .and_then(|r| r.strip_prefix(kind))
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(bad)?;
    let digits = rest.split('?').next().unwrap_or_default();
    match digits.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(bad()),
    }
}

/// `gid://shopify/{kind}/{n}`.
pub(crate) fn format(kind: &str, n: u64) -> String {
    format!("gid://shopify/{kind}/{n}")
}

pub(crate) fn location(gid: &str) -> Result<LocationId, AnswerError> {
    number(LOCATION, gid).map(|n| LocationId::new(n).expect("gid numbers are positive"))
}

pub(crate) fn variant(gid: &str) -> Result<VariantId, AnswerError> {
    number(VARIANT, gid).map(|n| VariantId::new(n).expect("gid numbers are positive"))
}

pub(crate) fn inventory_item(gid: &str) -> Result<InventoryItemId, AnswerError> {
    number(INVENTORY_ITEM, gid).map(|n| InventoryItemId::new(n).expect("gid numbers are positive"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_number_of_a_location_gid() {
        assert_eq!(
            location("gid://shopify/Location/53716844710")
                .unwrap()
                .get(),
            53716844710
        );
    }

    #[test]
    fn ignores_the_query_suffix_of_inventory_level_ids() {
        let gid = "gid://shopify/InventoryLevel/87892394150?inventory_item_id=271878346596884015";
        assert_eq!(number("InventoryLevel", gid).unwrap(), 87892394150);
    }

    #[test]
    fn refuses_another_kind_zero_and_garbage() {
        assert!(location("gid://shopify/ProductVariant/1").is_err());
        assert!(location("gid://shopify/Location/0").is_err());
        assert!(location("gid://shopify/Location/").is_err());
        assert!(location("42").is_err());
        assert!(number(LOCATION, "gid://shopify/LocationX/4").is_err());
    }

    #[test]
    fn formats_what_it_reads() {
        let gid = format(INVENTORY_ITEM, 1001);
        assert_eq!(inventory_item(&gid).unwrap().get(), 1001);
    }
}
