//! `[rules]` as written → the domain's `RuleSet`, every value checked with its key named.

use stockbridge_domain::{
    check_structure, LocationMapping, LocationRef, LocationSelector, NegativeAvailable, Override,
    Percent, Quantity, RuleSet, SkuPattern,
};

use serde::Deserialize;

use super::{
    describe_config_error, ConfigError, LocationValue, LocationsValue, OverrideSection,
    RulesSection,
};

fn value_error(key: &str, value: impl ToString, allowed: &str) -> ConfigError {
    ConfigError::Value {
        key: key.into(),
        value: value.to_string(),
        allowed: allowed.into(),
    }
}

fn percent(key: &str, value: f64) -> Result<Percent, ConfigError> {
    Percent::from_f64(value)
        .map_err(|_| value_error(key, value, "a number from 0 to 100 with at most 2 decimals"))
}

fn quantity(key: &str, value: i64) -> Result<Quantity, ConfigError> {
    Quantity::new(value).map_err(|_| value_error(key, value, "an integer from 0 to 999999"))
}

fn non_negative(key: &str, value: i64) -> Result<u64, ConfigError> {
    u64::try_from(value).map_err(|_| value_error(key, value, "an integer of 0 or more"))
}

fn location_ref(key: &str, value: &LocationValue) -> Result<LocationRef, ConfigError> {
    match value {
        LocationValue::Id(id) => u64::try_from(*id)
            .ok()
            .filter(|id| *id > 0)
            .map(LocationRef::Id)
            .ok_or_else(|| value_error(key, id, "a location name or a positive numeric id")),
        LocationValue::Name(name) if name.trim().is_empty() => Err(value_error(
            key,
            format!("{name:?}"),
            "a location name or a positive numeric id",
        )),
        LocationValue::Name(name) => Ok(LocationRef::Name(name.trim().to_owned())),
    }
}

fn override_from(index: usize, o: &OverrideSection) -> Result<Override, ConfigError> {
    let key = |k: &str| format!("rules.override[{index}].{k}");
    let mut skus = Vec::new();
    for (i, pattern) in o.skus.iter().flatten().enumerate() {
        let pattern = SkuPattern::new(pattern).map_err(|e| {
            value_error(
                &format!("rules.override[{index}].skus[{i}]"),
                super::values::shown(pattern),
                &e.to_string(),
            )
        })?;
        skus.push(pattern);
    }
    Ok(Override {
        skus,
        quantity_percent: o
            .quantity_percent
            .map(|p| percent(&key("quantity_percent"), p))
            .transpose()?,
        reserve_units: o
            .reserve_units
            .map(|v| non_negative(&key("reserve_units"), v))
            .transpose()?,
        zero_below: o
            .zero_below
            .map(|v| non_negative(&key("zero_below"), v))
            .transpose()?,
        max_quantity: o
            .max_quantity
            .map(|v| quantity(&key("max_quantity"), v))
            .transpose()?,
        fixed_quantity: o
            .fixed_quantity
            .map(|v| quantity(&key("fixed_quantity"), v))
            .transpose()?,
        exclude: o.exclude.unwrap_or(false),
    })
}

/// Builds the rule set, refusing out-of-range values and the structural errors of
/// sync-rules.md §5 that need no store.
pub fn rules_from_section(section: &RulesSection) -> Result<RuleSet, ConfigError> {
    let defaults = RuleSet::default();
    let negative_available = match section.negative_available.as_deref() {
        None | Some("subtract") => NegativeAvailable::Subtract,
        Some("ignore") => NegativeAvailable::Ignore,
        Some(other) => {
            return Err(value_error(
                "rules.negative_available",
                super::values::shown(other),
                "\"subtract\" or \"ignore\"",
            ))
        }
    };
    let location_mappings = match &section.location_mapping {
        None => defaults.location_mappings.clone(),
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let key = format!("rules.location_mapping[{i}].shopify_locations");
                let locations = match &m.shopify_locations {
                    LocationsValue::Word(w) if w == "all" => LocationSelector::All,
                    LocationsValue::Word(w) => {
                        return Err(value_error(
                            &key,
                            super::values::shown(w),
                            "\"all\" or a list of location names or ids",
                        ))
                    }
                    LocationsValue::List(items) if items.is_empty() => {
                        return Err(value_error(
                            &key,
                            "[]",
                            "\"all\" or a non-empty list of location names or ids",
                        ))
                    }
                    LocationsValue::List(items) => LocationSelector::Listed(
                        items
                            .iter()
                            .map(|v| location_ref(&key, v))
                            .collect::<Result<_, _>>()?,
                    ),
                };
                let warehouse = m.tiktok_warehouse.as_ref().map(|w| match w {
                    LocationValue::Id(id) => id.to_string(),
                    LocationValue::Name(name) => name.trim().to_owned(),
                });
                Ok(LocationMapping {
                    locations,
                    warehouse,
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let overrides = section
        .overrides
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, o)| override_from(i, o))
        .collect::<Result<_, _>>()?;
    let rules = RuleSet {
        quantity_percent: section
            .quantity_percent
            .map(|p| percent("rules.quantity_percent", p))
            .transpose()?
            .unwrap_or(defaults.quantity_percent),
        unlimited_quantity: section
            .unlimited_quantity
            .map(|v| quantity("rules.unlimited_quantity", v))
            .transpose()?
            .unwrap_or(defaults.unlimited_quantity),
        max_quantity: section
            .max_quantity
            .map(|v| quantity("rules.max_quantity", v))
            .transpose()?
            .unwrap_or(defaults.max_quantity),
        reserve_units: section
            .reserve_units
            .map(|v| non_negative("rules.reserve_units", v))
            .transpose()?
            .unwrap_or(0),
        zero_below: section
            .zero_below
            .map(|v| non_negative("rules.zero_below", v))
            .transpose()?
            .unwrap_or(0),
        negative_available,
        location_mappings,
        overrides,
    };
    let errors = check_structure(&rules);
    if !errors.is_empty() {
        return Err(ConfigError::Rules(errors));
    }
    Ok(rules)
}

/// A `[rules]` section alone, as the console's what-if editor holds it.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RulesOnly {
    #[serde(default)]
    rules: RulesSection,
}

/// Reads rules from TOML text holding only a `[rules]` section, with the errors the file
/// would give (naming the key); `label` names the text in them.
pub fn rules_from_toml(text: &str, label: &str) -> Result<RuleSet, ConfigError> {
    let parsed = config::Config::builder()
        .add_source(config::File::from_str(text, config::FileFormat::Toml))
        .build()
        .and_then(|c| c.try_deserialize::<RulesOnly>())
        .map_err(|e| ConfigError::Invalid {
            file: label.to_owned(),
            message: describe_config_error(&e),
        })?;
    rules_from_section(&parsed.rules)
}

#[cfg(test)]
mod tests;
