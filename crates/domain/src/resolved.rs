//! A rule set checked against the live stores: names resolved to ids, ready to compute.

use std::sync::Arc;

use crate::catalog::{Location, Warehouse};
use crate::ids::{LocationId, Sku, WarehouseId};
use crate::quantity::{Percent, Quantity};
use crate::rules::{NegativeAvailable, Override, RuleSet};
use crate::warning::Warning;

/// One mapping with its locations and warehouse resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedMapping {
    /// `None` for `"all"`; otherwise the listed locations, in the order written.
    listed: Option<Vec<LocationId>>,
    /// The locations that count now (active ones), sorted for lookup.
    active: Vec<LocationId>,
    warehouse: WarehouseId,
    /// Shared by the plan lines of the mapping.
    warehouse_name: Arc<str>,
}

impl ResolvedMapping {
    pub(crate) fn new(
        listed: Option<Vec<LocationId>>,
        warehouse: &Warehouse,
        locations: &[Location],
    ) -> Self {
        let mut active: Vec<LocationId> = locations
            .iter()
            .filter(|l| l.active)
            .filter(|l| listed.as_ref().is_none_or(|ids| ids.contains(&l.id)))
            .map(|l| l.id)
            .collect();
        active.sort_unstable();
        active.dedup();
        ResolvedMapping {
            listed,
            active,
            warehouse: warehouse.id.clone(),
            warehouse_name: Arc::from(warehouse.name.as_str()),
        }
    }

    /// The target warehouse.
    pub fn warehouse(&self) -> &WarehouseId {
        &self.warehouse
    }

    /// The target warehouse's name.
    pub fn warehouse_name(&self) -> &str {
        &self.warehouse_name
    }

    /// The target warehouse's name, to share.
    pub(crate) fn shared_warehouse_name(&self) -> &Arc<str> {
        &self.warehouse_name
    }

    /// Whether the mapping is `"all"` active locations.
    pub fn is_all(&self) -> bool {
        self.listed.is_none()
    }

    /// The listed locations (`None` for `"all"`).
    pub fn listed(&self) -> Option<&[LocationId]> {
        self.listed.as_deref()
    }

    /// Whether stock at this location counts for the mapping now.
    #[inline]
    pub fn counts(&self, location: LocationId) -> bool {
        if self.active.len() <= 8 {
            self.active.contains(&location)
        } else {
            self.active.binary_search(&location).is_ok()
        }
    }

    /// Whether the mapping reads this location at all (active or not): a change there may
    /// change the mapping's sum.
    pub fn reads(&self, location: LocationId) -> bool {
        self.listed
            .as_ref()
            .is_none_or(|ids| ids.contains(&location))
    }
}

/// The shop-wide parameters, or an override's replacement of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Params {
    pub percent: Percent,
    pub reserve: u64,
    pub zero_below: u64,
    pub max: Quantity,
    pub unlimited: Quantity,
}

/// A rule set checked against the stores, ready to compute numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedRules {
    pub(crate) base: Params,
    pub(crate) negative: NegativeAvailable,
    pub(crate) overrides: Vec<Override>,
    mappings: Vec<ResolvedMapping>,
    locations: Vec<Location>,
    warnings: Vec<Warning>,
}

impl ResolvedRules {
    pub(crate) fn new(
        rules: &RuleSet,
        mappings: Vec<ResolvedMapping>,
        locations: Vec<Location>,
        warnings: Vec<Warning>,
    ) -> Self {
        ResolvedRules {
            base: Params {
                percent: rules.quantity_percent,
                reserve: rules.reserve_units,
                zero_below: rules.zero_below,
                max: rules.max_quantity,
                unlimited: rules.unlimited_quantity,
            },
            negative: rules.negative_available,
            overrides: rules.overrides.clone(),
            mappings,
            locations,
            warnings,
        }
    }

    /// The mappings, in configuration order.
    pub fn mappings(&self) -> &[ResolvedMapping] {
        &self.mappings
    }

    /// Warnings found while resolving (inactive listed locations).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The shop's locations as they were when the rules were resolved.
    pub fn locations(&self) -> &[Location] {
        &self.locations
    }

    /// The first override whose patterns match the SKU, with its position.
    pub fn override_for(&self, sku: Option<&Sku>) -> Option<(usize, &Override)> {
        let sku = sku?;
        self.overrides
            .iter()
            .enumerate()
            .find(|(_, o)| o.skus.iter().any(|p| p.matches(sku.as_str())))
    }

    pub(crate) fn location_name(&self, id: LocationId) -> Option<&str> {
        self.locations
            .iter()
            .find(|l| l.id == id)
            .map(|l| l.name.as_str())
    }

    pub(crate) fn location_active(&self, id: LocationId) -> bool {
        self.locations.iter().any(|l| l.id == id && l.active)
    }
}
