//! Identifiers of things in both stores. Each is a newtype with a private field and a
//! fallible constructor, so an empty or zero id can never reach the rules.

use std::fmt;
use std::sync::Arc;

/// Why an identifier could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    kind: &'static str,
    value: String,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {}: {:?} (expected a non-empty value; numeric ids must be positive)",
            self.kind, self.value
        )
    }
}

impl std::error::Error for IdError {}

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u64);

        impl $name {
            /// Builds the id; zero is not a valid id.
            pub fn new(value: u64) -> Result<Self, IdError> {
                if value == 0 {
                    return Err(IdError { kind: $kind, value: value.to_string() });
                }
                Ok(Self(value))
            }

            /// The numeric value.
            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        ///
        /// Copies share one allocation: the id of a product, warehouse or SKU is held once
        /// however many lines, writes and records name it.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Builds the id from text, trimmed; empty text is not a valid id.
            pub fn new(value: impl AsRef<str>) -> Result<Self, IdError> {
                let trimmed = value.as_ref().trim();
                if trimmed.is_empty() {
                    return Err(IdError { kind: $kind, value: value.as_ref().to_owned() });
                }
                Ok(Self(Arc::from(trimmed)))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

numeric_id!(
    /// A Shopify location, by its numeric (legacy REST) id.
    LocationId,
    "location id"
);
numeric_id!(
    /// A Shopify product variant, by its numeric id.
    VariantId,
    "variant id"
);
numeric_id!(
    /// A Shopify inventory item (one per variant), by its numeric id.
    InventoryItemId,
    "inventory item id"
);
text_id!(
    /// A TikTok Shop warehouse id (a string of digits on TikTok).
    WarehouseId,
    "warehouse id"
);
text_id!(
    /// A TikTok Shop product id.
    ProductId,
    "TikTok product id"
);
text_id!(
    /// A TikTok Shop SKU id.
    SkuId,
    "TikTok SKU id"
);
text_id!(
    /// A TikTok Shop order id.
    OrderId,
    "TikTok order id"
);
text_id!(
    /// A merchant SKU code, trimmed of surrounding white space; case-sensitive.
    /// The join key between a Shopify variant's `sku` and a TikTok SKU's `seller_sku`.
    Sku,
    "SKU"
);

impl Sku {
    /// Reads an optional SKU as the stores send it: empty or blank means no SKU.
    pub fn parse_optional(raw: Option<&str>) -> Option<Sku> {
        raw.and_then(|s| Sku::new(s).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_is_trimmed_and_case_sensitive() {
        let sku = Sku::new("  TEE-RED-S \t").unwrap();
        assert_eq!(sku.as_str(), "TEE-RED-S");
        assert_ne!(sku, Sku::new("tee-red-s").unwrap());
    }

    #[test]
    fn blank_sku_is_no_sku() {
        assert!(Sku::new("   ").is_err());
        assert_eq!(Sku::parse_optional(Some("")), None);
        assert_eq!(Sku::parse_optional(None), None);
    }

    #[test]
    fn zero_numeric_id_is_rejected_with_its_kind() {
        let err = LocationId::new(0).unwrap_err();
        assert!(err.to_string().contains("location id"), "{err}");
        assert_eq!(LocationId::new(7).unwrap().get(), 7);
    }
}
