//! Checks a rule set against the shop's locations and TikTok's warehouses
//! (sync-rules.md §5) and resolves names into ids. Every error names the key, the value and
//! what is allowed.

use std::fmt;

use crate::catalog::{Location, Warehouse};
use crate::ids::LocationId;
use crate::resolved::ResolvedMapping;
use crate::rules::{LocationRef, LocationSelector, RuleSet};
use crate::warning::Warning;
use crate::ResolvedRules;

/// A rule set that cannot be used. Nothing is pushed while any is present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    /// `rules.location_mapping` is an empty list.
    NoMappings,
    /// A location feeds two mappings: its stock would be offered twice.
    LocationInTwoMappings {
        /// The location, as named.
        location: String,
        /// The first mapping using it.
        first: usize,
        /// The second.
        second: usize,
    },
    /// A location listed twice in the same mapping.
    LocationRepeated {
        /// The location, as named.
        location: String,
        /// The mapping listing it twice.
        mapping: usize,
    },
    /// `"all"` stands beside another mapping.
    AllWithOtherMappings {
        /// The mapping that says `"all"`.
        mapping: usize,
    },
    /// Two mappings feed the same warehouse.
    TwoMappingsIntoOneWarehouse {
        /// The warehouse, as named.
        warehouse: String,
        /// The first mapping.
        first: usize,
        /// The second.
        second: usize,
    },
    /// A location the shop does not have.
    UnknownLocation {
        /// The mapping.
        mapping: usize,
        /// The value as written.
        value: String,
        /// The shop's locations, as `name (id)`.
        valid: Vec<String>,
    },
    /// A warehouse TikTok does not have.
    UnknownWarehouse {
        /// The mapping.
        mapping: usize,
        /// The value as written.
        value: String,
        /// The enabled sales warehouses, as `name (id)`.
        valid: Vec<String>,
    },
    /// A warehouse named by a name that several TikTok warehouses share (TikTok does not
    /// keep warehouse names unique), and that is no warehouse's id.
    AmbiguousWarehouse {
        /// The mapping.
        mapping: usize,
        /// The value as written.
        value: String,
        /// The ids of the warehouses with that name, in TikTok's order.
        candidates: Vec<String>,
    },
    /// A warehouse that exists but is not an enabled sales warehouse.
    WarehouseNotTarget {
        /// The mapping.
        mapping: usize,
        /// The value as written.
        value: String,
        /// Why it is not a target.
        reason: String,
        /// The enabled sales warehouses, as `name (id)`.
        valid: Vec<String>,
    },
    /// A mapping names no warehouse, and TikTok has no default enabled sales warehouse.
    NoDefaultWarehouse {
        /// The mapping.
        mapping: usize,
        /// The enabled sales warehouses, as `name (id)`.
        valid: Vec<String>,
    },
    /// An override with both `fixed_quantity` and `exclude`.
    FixedAndExclude {
        /// The override's position in `rules.override`.
        index: usize,
    },
    /// An override with an empty `skus` list.
    EmptySkus {
        /// The override's position in `rules.override`.
        index: usize,
    },
}

fn valid_list(valid: &[String]) -> String {
    if valid.is_empty() {
        "none".to_owned()
    } else {
        valid.join(", ")
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleError::NoMappings => f.write_str(
                "rules.location_mapping is an empty list (allowed: at least one mapping; leave the key out for all active locations into the default warehouse)",
            ),
            RuleError::LocationInTwoMappings { location, first, second } => write!(
                f,
                "rules.location_mapping[{second}].shopify_locations: location {location:?} already feeds rules.location_mapping[{first}] (allowed: each location in at most one mapping, or its stock is offered twice)"
            ),
            RuleError::LocationRepeated { location, mapping } => write!(
                f,
                "rules.location_mapping[{mapping}].shopify_locations: location {location:?} is listed more than once (allowed: each location once; remove the repeat)"
            ),
            RuleError::AllWithOtherMappings { mapping } => write!(
                f,
                "rules.location_mapping[{mapping}].shopify_locations = \"all\" stands beside other mappings (allowed: \"all\" as the only mapping, or lists of locations)"
            ),
            RuleError::TwoMappingsIntoOneWarehouse { warehouse, first, second } => write!(
                f,
                "rules.location_mapping[{second}].tiktok_warehouse: warehouse {warehouse:?} is already the target of rules.location_mapping[{first}] (allowed: one mapping per warehouse; merge them into one mapping with several locations)"
            ),
            RuleError::UnknownLocation { mapping, value, valid } => write!(
                f,
                "rules.location_mapping[{mapping}].shopify_locations: the shop has no location {value:?} (allowed: \"all\" or names or ids of: {})",
                valid_list(valid)
            ),
            RuleError::UnknownWarehouse { mapping, value, valid } => write!(
                f,
                "rules.location_mapping[{mapping}].tiktok_warehouse: TikTok Shop has no warehouse {value:?} (allowed: enabled sales warehouses: {})",
                valid_list(valid)
            ),
            RuleError::AmbiguousWarehouse { mapping, value, candidates } => write!(
                f,
                "rules.location_mapping[{mapping}].tiktok_warehouse: TikTok Shop has {} warehouses named {value:?} (allowed: the id of one of them instead of the name: {})",
                candidates.len(),
                valid_list(candidates)
            ),
            RuleError::WarehouseNotTarget { mapping, value, reason, valid } => write!(
                f,
                "rules.location_mapping[{mapping}].tiktok_warehouse: warehouse {value:?} {reason} (allowed: enabled sales warehouses: {})",
                valid_list(valid)
            ),
            RuleError::NoDefaultWarehouse { mapping, valid } => write!(
                f,
                "rules.location_mapping[{mapping}].tiktok_warehouse is not set and TikTok Shop has no default enabled sales warehouse (allowed: name a warehouse: {})",
                valid_list(valid)
            ),
            RuleError::FixedAndExclude { index } => write!(
                f,
                "rules.override[{index}] has both fixed_quantity and exclude = true (allowed: one of them)"
            ),
            RuleError::EmptySkus { index } => write!(
                f,
                "rules.override[{index}].skus is empty (allowed: a list of SKU patterns, * and ? as wildcards)"
            ),
        }
    }
}

impl std::error::Error for RuleError {}

fn describe<T: fmt::Display>(name: &str, id: T) -> String {
    format!("{name} ({id})")
}

/// Checks the parts of a rule set that need no store: overrides and the shape of mappings.
pub fn check_structure(rules: &RuleSet) -> Vec<RuleError> {
    let mut errors = Vec::new();
    if rules.location_mappings.is_empty() {
        errors.push(RuleError::NoMappings);
    }
    if rules.location_mappings.len() > 1 {
        for (i, m) in rules.location_mappings.iter().enumerate() {
            if m.locations == LocationSelector::All {
                errors.push(RuleError::AllWithOtherMappings { mapping: i });
            }
        }
    }
    for (index, o) in rules.overrides.iter().enumerate() {
        if o.skus.is_empty() {
            errors.push(RuleError::EmptySkus { index });
        }
        if o.exclude && o.fixed_quantity.is_some() {
            errors.push(RuleError::FixedAndExclude { index });
        }
    }
    errors
}

fn find_location<'a>(locations: &'a [Location], r: &LocationRef) -> Option<&'a Location> {
    match r {
        LocationRef::Id(id) => locations.iter().find(|l| l.id.get() == *id),
        LocationRef::Name(name) => locations.iter().find(|l| &l.name == name).or_else(|| {
            name.parse::<u64>()
                .ok()
                .and_then(|id| locations.iter().find(|l| l.id.get() == id))
        }),
    }
}

/// What a mapping's `tiktok_warehouse` value names.
enum WarehouseLookup<'a> {
    /// The warehouse with that id, or the only one with that name.
    Found(&'a Warehouse),
    /// No warehouse has that id or name.
    Missing,
    /// No id matches and several warehouses share the name: their ids.
    Ambiguous(Vec<String>),
}

/// An id wins over a name; a name shared by several warehouses is never guessed.
fn find_warehouse<'a>(warehouses: &'a [Warehouse], value: &str) -> WarehouseLookup<'a> {
    if let Some(w) = warehouses.iter().find(|w| w.id.as_str() == value) {
        return WarehouseLookup::Found(w);
    }
    let named: Vec<&Warehouse> = warehouses.iter().filter(|w| w.name == value).collect();
    match named.as_slice() {
        [] => WarehouseLookup::Missing,
        [w] => WarehouseLookup::Found(w),
        several => {
            WarehouseLookup::Ambiguous(several.iter().map(|w| w.id.as_str().to_owned()).collect())
        }
    }
}

fn location_label(r: &LocationRef) -> String {
    match r {
        LocationRef::Id(id) => id.to_string(),
        LocationRef::Name(name) => name.clone(),
    }
}

/// Checks a rule set against the live stores and resolves it. All errors are returned at
/// once, so the merchant can fix them in one go.
pub fn resolve(
    rules: &RuleSet,
    locations: &[Location],
    warehouses: &[Warehouse],
) -> Result<ResolvedRules, Vec<RuleError>> {
    let mut errors = check_structure(rules);
    let mut warnings = Vec::new();
    let valid_locations: Vec<String> = locations.iter().map(|l| describe(&l.name, l.id)).collect();
    let targets: Vec<&Warehouse> = warehouses.iter().filter(|w| w.is_target()).collect();
    let valid_warehouses: Vec<String> = targets.iter().map(|w| describe(&w.name, &w.id)).collect();

    let mut mappings = Vec::new();
    let mut used_locations: Vec<(LocationId, usize)> = Vec::new();
    let mut used_warehouses: Vec<(&Warehouse, usize)> = Vec::new();
    for (i, mapping) in rules.location_mappings.iter().enumerate() {
        let warehouse = match &mapping.warehouse {
            None => match targets.iter().find(|w| w.is_default) {
                Some(w) => Some(*w),
                None => {
                    errors.push(RuleError::NoDefaultWarehouse {
                        mapping: i,
                        valid: valid_warehouses.clone(),
                    });
                    None
                }
            },
            Some(value) => match find_warehouse(warehouses, value) {
                WarehouseLookup::Ambiguous(candidates) => {
                    errors.push(RuleError::AmbiguousWarehouse {
                        mapping: i,
                        value: value.clone(),
                        candidates,
                    });
                    None
                }
                WarehouseLookup::Missing => {
                    errors.push(RuleError::UnknownWarehouse {
                        mapping: i,
                        value: value.clone(),
                        valid: valid_warehouses.clone(),
                    });
                    None
                }
                WarehouseLookup::Found(w) if !w.is_target() => {
                    let reason = if w.kind != crate::WarehouseKind::Sales {
                        "is a return warehouse, not a sales warehouse".to_owned()
                    } else {
                        format!("is not enabled (status {:?})", w.status)
                    };
                    errors.push(RuleError::WarehouseNotTarget {
                        mapping: i,
                        value: value.clone(),
                        reason,
                        valid: valid_warehouses.clone(),
                    });
                    None
                }
                WarehouseLookup::Found(w) => Some(w),
            },
        };
        if let Some(w) = warehouse {
            if let Some((_, first)) = used_warehouses.iter().find(|(u, _)| u.id == w.id) {
                errors.push(RuleError::TwoMappingsIntoOneWarehouse {
                    warehouse: w.name.clone(),
                    first: *first,
                    second: i,
                });
            }
            used_warehouses.push((w, i));
        }

        let members = match &mapping.locations {
            LocationSelector::All => None,
            LocationSelector::Listed(refs) => {
                let mut ids = Vec::new();
                for r in refs {
                    let Some(location) = find_location(locations, r) else {
                        errors.push(RuleError::UnknownLocation {
                            mapping: i,
                            value: location_label(r),
                            valid: valid_locations.clone(),
                        });
                        continue;
                    };
                    if let Some(&(_, first)) =
                        used_locations.iter().find(|(id, _)| *id == location.id)
                    {
                        errors.push(if first == i {
                            RuleError::LocationRepeated {
                                location: location.name.clone(),
                                mapping: i,
                            }
                        } else {
                            RuleError::LocationInTwoMappings {
                                location: location.name.clone(),
                                first,
                                second: i,
                            }
                        });
                        continue;
                    }
                    used_locations.push((location.id, i));
                    if !location.active {
                        warnings.push(Warning::InactiveLocation {
                            location: location.name.clone(),
                            mapping: i,
                        });
                    }
                    ids.push(location.id);
                }
                Some(ids)
            }
        };
        if let Some(w) = warehouse {
            mappings.push(ResolvedMapping::new(members, w, locations));
        }
    }

    if errors.is_empty() {
        Ok(ResolvedRules::new(
            rules,
            mappings,
            locations.to_vec(),
            warnings,
        ))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests;
