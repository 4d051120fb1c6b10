//! Shopify bundles (sync-rules.md §8): a variant that `requiresComponents` has no stock of its
//! own; its sum for a mapping is the number of whole bundles its components allow,
//! `min over components of floor(component_sum / quantity)`, where `component_sum` is the
//! component's own step-4 sum for that mapping.
//!
//! This module owns what a bundle is made of, how its components are looked up, and the
//! count; [`crate::compute`] runs steps 1 to 8 around it.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU32;

use crate::catalog::VariantSnapshot;
use crate::hold::{Held, Holds};
use crate::ids::VariantId;
use crate::resolved::ResolvedRules;

/// Shopify's limit on the components of one bundle; a bundle listing more cannot be read.
pub const MAX_COMPONENTS: usize = 30;

/// One component of a bundle: `quantity` units of a variant go into one bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Component {
    /// The component variant.
    pub variant_id: VariantId,
    /// Units of it in one bundle (never 0).
    pub quantity: NonZeroU32,
}

/// Why a bundle's components cannot be read: the bundle gets no number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnreadableBundle {
    /// Shopify says the variant requires components but lists none.
    NoComponents,
    /// More than [`MAX_COMPONENTS`] components are listed.
    TooManyComponents {
        /// How many.
        count: usize,
    },
    /// A component variant was not read (deleted, or not in the catalog that was read).
    MissingComponent {
        /// The component.
        variant: VariantId,
    },
    /// A component is itself a bundle, which Shopify does not allow.
    NestedBundle {
        /// The component.
        variant: VariantId,
    },
}

impl fmt::Display for UnreadableBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnreadableBundle::NoComponents => f.write_str("Shopify lists no components for it"),
            UnreadableBundle::TooManyComponents { count } => write!(
                f,
                "it lists {count} components, more than Shopify's {MAX_COMPONENTS}"
            ),
            UnreadableBundle::MissingComponent { variant } => {
                write!(f, "its component variant {variant} could not be read")
            }
            UnreadableBundle::NestedBundle { variant } => {
                write!(f, "its component variant {variant} is itself a bundle")
            }
        }
    }
}

/// The variants that bundles are made of, by id: where a bundle's components are looked up,
/// with the units TikTok orders in flight hold of each (§7).
#[derive(Debug, Clone, Default)]
pub struct Components<'a> {
    /// `None` when no bundle lists a component: nothing is built, nothing is looked up.
    index: Option<Index<'a>>,
    holds: Option<&'a Holds>,
}

#[derive(Debug, Clone)]
struct Index<'a> {
    by_id: HashMap<VariantId, &'a VariantSnapshot>,
    /// A component's id → the bundles made of it, with the units one bundle takes.
    in_bundles: HashMap<VariantId, Vec<(&'a VariantSnapshot, u64)>>,
}

impl<'a> Components<'a> {
    /// No components at all: every bundle evaluated against it is unreadable.
    pub const fn none() -> Self {
        Components {
            index: None,
            holds: None,
        }
    }

    /// Indexes the variants of `variants` that some bundle in `variants` lists as a
    /// component (only those, so a catalog without bundles costs one pass).
    pub fn of(variants: &'a [VariantSnapshot]) -> Self {
        let mut wanted: HashMap<VariantId, Option<&'a VariantSnapshot>> = HashMap::new();
        let mut in_bundles: HashMap<VariantId, Vec<(&'a VariantSnapshot, u64)>> = HashMap::new();
        for bundle in variants {
            for c in bundle.components.iter().flatten() {
                wanted.insert(c.variant_id, None);
                let units = u64::from(c.quantity.get());
                in_bundles
                    .entry(c.variant_id)
                    .or_default()
                    .push((bundle, units));
            }
        }
        if wanted.is_empty() {
            return Components::none();
        }
        for v in variants {
            if let Some(slot) = wanted.get_mut(&v.variant_id) {
                *slot = Some(v);
            }
        }
        Components {
            index: Some(Index {
                by_id: wanted
                    .into_iter()
                    .filter_map(|(id, v)| Some((id, v?)))
                    .collect(),
                in_bundles,
            }),
            holds: None,
        }
    }

    /// The same components, with `holds` subtracted from each component's step-4 sum.
    pub fn holding(self, holds: &'a Holds) -> Self {
        Components {
            holds: Some(holds),
            ..self
        }
    }

    /// The units held of `component` inside `bundle` for the mapping at `mapping_index`: its
    /// own orders' and those of every other bundle made of it (the bundle's own orders come
    /// off its count).
    pub(crate) fn held(
        &self,
        component: &VariantSnapshot,
        bundle: VariantId,
        rules: &ResolvedRules,
        mapping_index: usize,
    ) -> u64 {
        self.held_but(component, Some(bundle), rules, mapping_index)
            .units
    }

    /// The units held of a variant for the mapping at `mapping_index`, and the orders behind
    /// them (sync-rules.md §7): its own orders' units, and for a component, each order of a
    /// bundle made of it times the units one bundle takes. A bundle's own are its orders'.
    pub fn held_of(
        &self,
        variant: &VariantSnapshot,
        rules: &ResolvedRules,
        mapping_index: usize,
    ) -> Held {
        self.held_but(variant, None, rules, mapping_index)
    }

    fn held_but(
        &self,
        variant: &VariantSnapshot,
        except: Option<VariantId>,
        rules: &ResolvedRules,
        mapping_index: usize,
    ) -> Held {
        let Some(holds) = self.holds else {
            return Held::default();
        };
        let mut held = holds.held(variant, rules, mapping_index);
        let Some(bundles) = self
            .index
            .as_ref()
            .and_then(|i| i.in_bundles.get(&variant.variant_id))
        else {
            return held;
        };
        for (bundle, units) in bundles.iter().filter(|(b, _)| Some(b.variant_id) != except) {
            let of_bundle = holds.held(bundle, rules, mapping_index);
            held.units = held
                .units
                .saturating_add(of_bundle.units.saturating_mul(*units));
            held.orders.extend(of_bundle.orders);
        }
        held.orders.sort();
        held.orders.dedup();
        held
    }

    /// Whether no bundle lists any component.
    pub fn is_empty(&self) -> bool {
        self.index.as_ref().is_none_or(|i| i.by_id.is_empty())
    }

    /// The component variant with this id, if it was read.
    pub fn get(&self, id: VariantId) -> Option<&'a VariantSnapshot> {
        self.index.as_ref()?.by_id.get(&id).copied()
    }
}

/// A bundle's components as the count sees them: each distinct component once, with the
/// units of it that one bundle takes (a component listed twice takes both quantities).
/// Allocates nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Checked<'a> {
    parts: [Option<(&'a VariantSnapshot, u64)>; MAX_COMPONENTS],
}

impl<'a> Checked<'a> {
    /// Looks every component of `bundle` up, or says why the bundle cannot be read.
    pub(crate) fn new(
        bundle: &[Component],
        components: &Components<'a>,
    ) -> Result<Self, UnreadableBundle> {
        if bundle.is_empty() {
            return Err(UnreadableBundle::NoComponents);
        }
        if bundle.len() > MAX_COMPONENTS {
            return Err(UnreadableBundle::TooManyComponents {
                count: bundle.len(),
            });
        }
        let mut parts: [Option<(&'a VariantSnapshot, u64)>; MAX_COMPONENTS] =
            [None; MAX_COMPONENTS];
        let mut used = 0;
        for c in bundle {
            let variant =
                components
                    .get(c.variant_id)
                    .ok_or(UnreadableBundle::MissingComponent {
                        variant: c.variant_id,
                    })?;
            if variant.components.is_some() {
                return Err(UnreadableBundle::NestedBundle {
                    variant: c.variant_id,
                });
            }
            let units = u64::from(c.quantity.get());
            let same = parts[..used]
                .iter_mut()
                .flatten()
                .find(|(v, _)| v.variant_id == c.variant_id);
            match same {
                Some((_, total)) => *total += units,
                None => {
                    parts[used] = Some((variant, units));
                    used += 1;
                }
            }
        }
        Ok(Checked { parts })
    }

    /// Each distinct component with the units one bundle takes, in the order listed.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'a VariantSnapshot, u64)> + '_ {
        self.parts.iter().flatten().copied()
    }

    /// What the components allow for one mapping, given each component's step-4 sum.
    pub(crate) fn count(&self, mut sum: impl FnMut(&VariantSnapshot) -> i64) -> BundleCount {
        let mut least: Option<u64> = None;
        for (variant, units) in self.iter() {
            if variant.is_unlimited() {
                continue;
            }
            let allowed = sum(variant).max(0) as u64 / units;
            least = Some(least.map_or(allowed, |l| l.min(allowed)));
        }
        match least {
            None => BundleCount::Unlimited,
            Some(count) => BundleCount::Count { count },
        }
    }
}

/// What a bundle's components allow for one mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BundleCount {
    /// Every component is untracked or continue-selling: the bundle is unlimited (step 2).
    Unlimited,
    /// Whole bundles the limiting component allows.
    Count {
        /// The number of bundles.
        count: u64,
    },
}

mod index;

pub use index::BundleIndex;

#[cfg(test)]
mod tests;
