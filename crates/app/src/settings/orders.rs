//! `[orders]`: the hold on units sold on TikTok that Shopify does not know yet
//! (sync-rules.md §7).

use std::time::Duration;

use serde::Deserialize;
use stockbridge_domain::MatchField;

use super::ranges::{parse_bounded_duration, DurationRange};
use super::ConfigError;

/// `[orders] max_hold`: from a minute to 30 days.
pub const MAX_HOLD: DurationRange = DurationRange {
    min: Duration::from_secs(60),
    max: Duration::from_secs(30 * 24 * 3600),
    allowed: "a duration from 1m to 30d, such as \"72h\"",
};

/// The default `[orders] max_hold`.
const DEFAULT_MAX_HOLD: Duration = Duration::from_secs(72 * 3600);

/// `[orders]`, as written.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OrdersSection {
    /// On by default.
    pub enabled: Option<bool>,
    /// Where the Shopify copy carries the TikTok order id; every field by default.
    pub match_fields: Option<Vec<String>>,
    /// `72h` by default.
    pub max_hold: Option<String>,
}

/// `[orders]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSettings {
    /// Whether TikTok orders in flight hold their units.
    pub enabled: bool,
    /// Where the Shopify copy of a TikTok order carries its id.
    pub match_fields: Vec<MatchField>,
    /// How long an order holds at most.
    pub max_hold: Duration,
}

impl Default for OrderSettings {
    fn default() -> Self {
        OrderSettings {
            enabled: true,
            match_fields: MatchField::ALL.to_vec(),
            max_hold: DEFAULT_MAX_HOLD,
        }
    }
}

/// Checks `[orders]`.
pub fn order_settings(section: &OrdersSection) -> Result<OrderSettings, ConfigError> {
    let defaults = OrderSettings::default();
    let match_fields = match &section.match_fields {
        None => defaults.match_fields,
        Some(names) => {
            let allowed = || {
                let names: Vec<&str> = MatchField::ALL.iter().map(|f| f.name()).collect();
                format!("a non-empty list of {}", names.join(", "))
            };
            if names.is_empty() {
                return Err(ConfigError::Value {
                    key: "orders.match_fields".into(),
                    value: "[]".into(),
                    allowed: allowed(),
                });
            }
            let mut fields = Vec::with_capacity(names.len());
            for name in names {
                let field = MatchField::parse(name.trim()).ok_or_else(|| ConfigError::Value {
                    key: "orders.match_fields".into(),
                    value: format!("{name:?}"),
                    allowed: allowed(),
                })?;
                if !fields.contains(&field) {
                    fields.push(field);
                }
            }
            fields
        }
    };
    let max_hold = match &section.max_hold {
        None => defaults.max_hold,
        Some(text) => parse_bounded_duration("orders.max_hold", text, MAX_HOLD)?,
    };
    Ok(OrderSettings {
        enabled: section.enabled.unwrap_or(true),
        match_fields,
        max_hold,
    })
}
