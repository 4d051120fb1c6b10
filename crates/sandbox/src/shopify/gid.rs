//! Shopify global ids: `gid://shopify/{Type}/{number}` in GraphQL, plain numbers in webhooks.

/// `gid://shopify/{kind}/{id}`.
pub(crate) fn gid(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

/// `gid://shopify/InventoryLevel/{location}?inventory_item_id={item}`.
pub(crate) fn level_gid(item_id: u64, location_id: u64) -> String {
    format!("gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}")
}

/// Splits a gid into its type and number; a bare number is accepted for `expected`.
pub(crate) fn parse(text: &str) -> Option<(&str, u64)> {
    let rest = text.strip_prefix("gid://shopify/")?;
    let (kind, tail) = rest.split_once('/')?;
    let number = tail.split('?').next()?;
    Some((kind, number.parse().ok()?))
}

/// The number of a gid of type `expected`, or of a bare number.
pub(crate) fn number_of(text: &str, expected: &str) -> Option<u64> {
    if let Ok(n) = text.parse() {
        return Some(n);
    }
    match parse(text) {
        Some((kind, n)) if kind == expected => Some(n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_it_writes() {
        assert_eq!(parse(&gid("Location", 7)), Some(("Location", 7)));
        assert_eq!(parse(&level_gid(1001, 2)), Some(("InventoryLevel", 2)));
        assert_eq!(
            number_of("gid://shopify/ProductVariant/101", "ProductVariant"),
            Some(101)
        );
        assert_eq!(
            number_of("gid://shopify/Product/101", "ProductVariant"),
            None
        );
        assert_eq!(number_of("55", "Location"), Some(55));
    }
}
