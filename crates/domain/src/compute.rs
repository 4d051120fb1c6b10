//! How one number is computed (sync-rules.md §2), and how it is explained (§6).
//!
//! [`ResolvedRules::evaluate`] allocates nothing: it returns the steps it took as plain
//! values. [`ResolvedRules::explain`] turns those steps into text only when asked.

use std::fmt::Write as _;

use crate::bundle::{BundleCount, Checked, Components, UnreadableBundle};
use crate::catalog::VariantSnapshot;
use crate::ids::OrderId;
use crate::quantity::{Percent, Quantity};
use crate::resolved::{Params, ResolvedMapping, ResolvedRules};
use crate::rules::NegativeAvailable;

/// Why Shopify does not limit a variant's sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlimitedReason {
    /// "Track quantity" is off.
    Untracked,
    /// "Continue selling when out of stock" is on.
    ContinueSelling,
    /// A bundle all of whose components are untracked or continue selling.
    BundleComponents,
}

/// The steps that produced a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Steps {
    /// Step 2: Shopify does not limit sales.
    Unlimited {
        /// Why.
        reason: UnlimitedReason,
        /// The configured unlimited quantity.
        unlimited: Quantity,
        /// The cap in force.
        cap: Quantity,
    },
    /// Step 3: an override's fixed quantity.
    Fixed {
        /// The fixed quantity.
        fixed: Quantity,
        /// The cap in force.
        cap: Quantity,
    },
    /// Steps 4 to 8.
    Computed {
        /// The sum over the mapping's active locations, before the hold and `max(sum, 0)`; for
        /// a bundle, the number of whole bundles its components allow.
        sum: i64,
        /// Units held by TikTok orders Shopify does not know yet (§7), subtracted from `sum`.
        held: u64,
        /// The percentage in force.
        percent: Percent,
        /// After the percentage.
        after_percent: u64,
        /// The reserve in force.
        reserve: u64,
        /// After the reserve.
        after_reserve: u64,
        /// The threshold in force.
        zero_below: u64,
        /// The cap in force.
        cap: Quantity,
    },
}

/// A computed number with the steps that produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evaluation {
    /// The number to push.
    pub quantity: Quantity,
    /// How it was reached.
    pub steps: Steps,
    /// The override that applied, by position in `rules.override`.
    pub override_index: Option<usize>,
}

/// What the rules decide for one variant and one mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Step 1: an override excludes the SKU; TikTok's numbers stay as they are.
    Excluded {
        /// The excluding override's position.
        override_index: usize,
    },
    /// Push this number.
    Push(Evaluation),
    /// A bundle whose components cannot be read: no number, never a guess (§8).
    Unreadable(UnreadableBundle),
}

impl Decision {
    /// The number to push, if any.
    pub fn quantity(&self) -> Option<Quantity> {
        match self {
            Decision::Excluded { .. } | Decision::Unreadable(_) => None,
            Decision::Push(e) => Some(e.quantity),
        }
    }
}

fn cap_of(value: u64, cap: Quantity) -> Quantity {
    Quantity::clamped(value.min(u64::from(cap.get())) as i64)
}

impl ResolvedRules {
    /// The decision for one variant and the mapping at `mapping_index`; `None` when
    /// `mapping_index` is not a mapping of these rules. Allocates nothing.
    pub fn evaluate(&self, variant: &VariantSnapshot, mapping_index: usize) -> Option<Decision> {
        self.evaluate_holding(variant, mapping_index, 0)
    }

    /// The decision for one variant and mapping when TikTok orders Shopify does not know yet
    /// hold `held` of its units (sync-rules.md §7): they are subtracted from the sum in step
    /// 4, before `max(sum, 0)`; unlimited and fixed numbers ignore them. `None` when
    /// `mapping_index` is not a mapping of these rules. Allocates nothing.
    pub fn evaluate_holding(
        &self,
        variant: &VariantSnapshot,
        mapping_index: usize,
        held: u64,
    ) -> Option<Decision> {
        self.evaluate_in(variant, &Components::none(), mapping_index, held)
    }

    /// The decision for one variant and mapping, looking a bundle's components (and the
    /// units held of each) up in `components` (sync-rules.md §8); `None` when
    /// `mapping_index` is not a mapping of these rules. Allocates nothing unless TikTok
    /// orders hold units of a bundle's components.
    pub fn evaluate_in(
        &self,
        variant: &VariantSnapshot,
        components: &Components<'_>,
        mapping_index: usize,
        held: u64,
    ) -> Option<Decision> {
        let mapping = self.mappings().get(mapping_index)?;
        let found = self.override_for(variant.sku.as_ref());
        let mut params: Params = self.base;
        let mut override_index = None;
        if let Some((index, o)) = found {
            if o.exclude {
                return Some(Decision::Excluded {
                    override_index: index,
                });
            }
            override_index = Some(index);
            params.percent = o.quantity_percent.unwrap_or(params.percent);
            params.reserve = o.reserve_units.unwrap_or(params.reserve);
            params.zero_below = o.zero_below.unwrap_or(params.zero_below);
            params.max = o.max_quantity.unwrap_or(params.max);
        }
        let cap = params.max;

        let bundle = match variant.components.as_deref() {
            None => None,
            Some(list) => match Checked::new(list, components) {
                Ok(checked) => Some(checked.count(|c| {
                    let held = components.held(c, variant.variant_id, self, mapping_index);
                    self.step4_sum(c, mapping, held)
                })),
                Err(why) => return Some(Decision::Unreadable(why)),
            },
        };
        let unlimited = match bundle {
            Some(BundleCount::Unlimited) => Some(UnlimitedReason::BundleComponents),
            Some(BundleCount::Count { .. }) => None,
            None if !variant.tracked => Some(UnlimitedReason::Untracked),
            None if variant.is_unlimited() => Some(UnlimitedReason::ContinueSelling),
            None => None,
        };
        if let Some(reason) = unlimited {
            let quantity = cap_of(u64::from(params.unlimited.get()), cap);
            let steps = Steps::Unlimited {
                reason,
                unlimited: params.unlimited,
                cap,
            };
            return Some(Decision::Push(Evaluation {
                quantity,
                steps,
                override_index,
            }));
        }

        if let Some(fixed) = found.and_then(|(_, o)| o.fixed_quantity) {
            let quantity = cap_of(u64::from(fixed.get()), cap);
            return Some(Decision::Push(Evaluation {
                quantity,
                steps: Steps::Fixed { fixed, cap },
                override_index,
            }));
        }

        let sum = match bundle {
            Some(BundleCount::Count { count }) => i64::try_from(count).unwrap_or(i64::MAX),
            _ => self.sum(variant, mapping),
        };
        let after_hold = sum.saturating_sub(i64::try_from(held).unwrap_or(i64::MAX));
        let after_percent = params.percent.apply_floor(after_hold.max(0) as u64);
        let after_reserve = after_percent.saturating_sub(params.reserve);
        let after_threshold = if after_reserve < params.zero_below {
            0
        } else {
            after_reserve
        };
        let quantity = cap_of(after_threshold, cap);
        let steps = Steps::Computed {
            sum,
            held,
            percent: params.percent,
            after_percent,
            reserve: params.reserve,
            after_reserve,
            zero_below: params.zero_below,
            cap,
        };
        Some(Decision::Push(Evaluation {
            quantity,
            steps,
            override_index,
        }))
    }

    /// Step 4 for a variant that is not a bundle: the sum minus the held units, before
    /// `max(sum, 0)`. A bundle's components go through it too.
    fn step4_sum(&self, variant: &VariantSnapshot, mapping: &ResolvedMapping, held: u64) -> i64 {
        self.sum(variant, mapping)
            .saturating_sub(i64::try_from(held).unwrap_or(i64::MAX))
    }

    fn sum(&self, variant: &VariantSnapshot, mapping: &ResolvedMapping) -> i64 {
        let mut sum: i64 = 0;
        for level in &variant.levels {
            if !mapping.counts(level.location) {
                continue;
            }
            let counted = match self.negative {
                NegativeAvailable::Ignore => level.available.max(0),
                NegativeAvailable::Subtract => level.available,
            };
            sum = sum.saturating_add(counted);
        }
        sum
    }

    /// The explanation of an evaluation, as the plan shows it and the audit log stores it:
    /// `Location A 100 + Location B 200 = 300; x 80% = 240; - reserve 5 = 235`. `None` when
    /// `mapping_index` is not a mapping of these rules or the evaluation names an override
    /// they do not have (it was not made by them).
    pub fn explain(
        &self,
        variant: &VariantSnapshot,
        mapping_index: usize,
        evaluation: &Evaluation,
    ) -> Option<String> {
        self.explain_holding(variant, mapping_index, evaluation, &[])
    }

    /// The explanation of an evaluation whose held units belong to `orders`:
    /// `A 10 - held 3 (TikTok orders 576, 577) = 7; x 80% = 5`. `None` as for
    /// [`ResolvedRules::explain`].
    pub fn explain_holding(
        &self,
        variant: &VariantSnapshot,
        mapping_index: usize,
        evaluation: &Evaluation,
        orders: &[OrderId],
    ) -> Option<String> {
        self.explain_in(
            variant,
            &Components::none(),
            mapping_index,
            evaluation,
            orders,
        )
    }

    /// The explanation of an evaluation made by [`ResolvedRules::evaluate_in`]: a bundle's
    /// sum names its components and the one that limits it,
    /// `bundle: min(MUG 7/1, TEE 9/2 = 4) = 4`. `None` as for [`ResolvedRules::explain`].
    pub fn explain_in(
        &self,
        variant: &VariantSnapshot,
        components: &Components<'_>,
        mapping_index: usize,
        evaluation: &Evaluation,
        orders: &[OrderId],
    ) -> Option<String> {
        let mapping = self.mappings().get(mapping_index)?;
        let mut out = String::new();
        if let Some(index) = evaluation.override_index {
            let patterns: Vec<&str> = self
                .overrides
                .get(index)?
                .skus
                .iter()
                .map(|p| p.as_str())
                .collect();
            let _ = write!(out, "override [{}]: ", patterns.join(", "));
        }
        match evaluation.steps {
            Steps::Unlimited {
                reason,
                unlimited,
                cap,
            } => {
                let why = match reason {
                    UnlimitedReason::Untracked => "untracked",
                    UnlimitedReason::ContinueSelling => "continue selling when out of stock",
                    UnlimitedReason::BundleComponents => {
                        "bundle: every component untracked or continue selling"
                    }
                };
                let _ = write!(out, "{why} -> {unlimited}");
                if unlimited > cap {
                    let _ = write!(out, "; cap {cap} = {cap}");
                }
            }
            Steps::Fixed { fixed, cap } => {
                let _ = write!(out, "fixed {fixed}");
                if fixed > cap {
                    let _ = write!(out, "; cap {cap} = {cap}");
                }
            }
            Steps::Computed {
                sum,
                held,
                percent,
                after_percent,
                reserve,
                after_reserve,
                zero_below,
                cap,
            } => {
                match variant.components.as_deref() {
                    Some(list) => {
                        let at = (mapping_index, mapping);
                        self.explain_bundle(&mut out, variant, list, components, at, sum);
                    }
                    None => self.explain_sum(&mut out, variant, mapping),
                }
                if held > 0 {
                    explain_held(&mut out, held, orders);
                }
                let after_hold = sum.saturating_sub(i64::try_from(held).unwrap_or(i64::MAX));
                let _ = write!(out, " = {after_hold}");
                if after_hold < 0 {
                    out.push_str(" -> 0");
                }
                if percent != Percent::FULL {
                    let _ = write!(out, "; x {percent} = {after_percent}");
                }
                if reserve > 0 {
                    let _ = write!(out, "; - reserve {reserve} = {after_reserve}");
                }
                let mut result = after_reserve;
                if after_reserve < zero_below {
                    let _ = write!(out, "; below {zero_below} -> 0");
                    result = 0;
                }
                if result > u64::from(cap.get()) {
                    let _ = write!(out, "; cap {cap} = {cap}");
                }
            }
        }
        Some(out)
    }

    /// `bundle: min(MUG 7/1, TEE 9/2 = 4)`: each component's step-4 sum over its units, the
    /// limiting one followed by the count it allows.
    fn explain_bundle(
        &self,
        out: &mut String,
        bundle: &VariantSnapshot,
        list: &[crate::bundle::Component],
        components: &Components<'_>,
        (mapping_index, mapping): (usize, &ResolvedMapping),
        count: i64,
    ) {
        out.push_str("bundle: min(");
        match Checked::new(list, components) {
            Err(why) => {
                let _ = write!(out, "{why}");
            }
            Ok(checked) => {
                let mut limiting_named = false;
                for (i, (component, units)) in checked.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    match &component.sku {
                        Some(sku) => out.push_str(sku.as_str()),
                        None => {
                            let _ = write!(out, "variant {}", component.variant_id);
                        }
                    }
                    if !component.tracked {
                        out.push_str(" untracked");
                    } else if component.is_unlimited() {
                        out.push_str(" continue selling");
                    } else {
                        let held =
                            components.held(component, bundle.variant_id, self, mapping_index);
                        let sum = self.step4_sum(component, mapping, held).max(0);
                        if held > 0 {
                            let own = self.sum(component, mapping);
                            let _ = write!(out, " ({own} - held {held})/{units}");
                        } else {
                            let _ = write!(out, " {sum}/{units}");
                        }
                        let allowed = sum as u64 / units;
                        if !limiting_named && i64::try_from(allowed) == Ok(count) {
                            limiting_named = true;
                            let _ = write!(out, " = {count}");
                        }
                    }
                }
            }
        }
        out.push(')');
    }

    fn explain_sum(&self, out: &mut String, variant: &VariantSnapshot, mapping: &ResolvedMapping) {
        let mut terms = 0;
        let mut term = |out: &mut String, text: std::fmt::Arguments<'_>| {
            if terms > 0 {
                out.push_str(" + ");
            }
            terms += 1;
            let _ = out.write_fmt(text);
        };
        let name = |id| {
            self.location_name(id)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("location {id}"))
        };
        match mapping.listed() {
            Some(listed) => {
                for &id in listed {
                    let available = variant.available_at(id);
                    if !self.location_active(id) {
                        term(out, format_args!("{} (inactive) 0", name(id)));
                    } else {
                        self.term_for(out, &mut term, &name(id), available);
                    }
                }
            }
            None => {
                for level in variant.levels.iter().filter(|l| mapping.counts(l.location)) {
                    self.term_for(out, &mut term, &name(level.location), level.available);
                }
            }
        }
        if terms == 0 {
            out.push_str("no stock at the mapped locations");
        }
    }

    fn term_for(
        &self,
        out: &mut String,
        term: &mut impl FnMut(&mut String, std::fmt::Arguments<'_>),
        name: &str,
        available: i64,
    ) {
        if available < 0 && self.negative == NegativeAvailable::Ignore {
            term(out, format_args!("{name} {available} (ignored) 0"));
        } else {
            term(out, format_args!("{name} {available}"));
        }
    }
}

/// At most this many order ids are named in one explanation; the rest are counted.
const NAMED_ORDERS: usize = 5;

/// ` - held 3 (TikTok orders 576, 577)`.
fn explain_held(out: &mut String, held: u64, orders: &[OrderId]) {
    let _ = write!(out, " - held {held}");
    if !orders.is_empty() {
        let noun = if orders.len() == 1 { "order" } else { "orders" };
        let named: Vec<&str> = orders
            .iter()
            .take(NAMED_ORDERS)
            .map(OrderId::as_str)
            .collect();
        let _ = write!(out, " (TikTok {noun} {}", named.join(", "));
        if orders.len() > NAMED_ORDERS {
            let _ = write!(out, " and {} more", orders.len() - NAMED_ORDERS);
        }
        out.push(')');
    }
}

#[cfg(test)]
mod tests;
