//! The trust rule: a webhook's number is applied without reading Shopify only when it is
//! provably the newest, and every read is merged so that no level ever goes back in time.
//!
//! Shopify stamps a level's changes to the whole second, on reads (`InventoryLevel.updatedAt`)
//! and on webhooks (`updated_at`) alike. A payload whose time is strictly later than the time
//! of the level as known describes a later change than anything known; one with an equal
//! time may be either of two changes made within that second, and an older one is stale.

use crate::catalog::{StockLevel, UpdatedAt, VariantSnapshot};
use crate::ids::{InventoryItemId, LocationId};

use super::LiveView;

/// What an `inventory_levels/update` webhook says of one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelPayload {
    /// The item.
    pub item: InventoryItemId,
    /// Where.
    pub location: LocationId,
    /// The `available` it carries; `None` when the payload's is null (an untracked item).
    pub available: Option<i64>,
    /// Its `updated_at`, when it carries one that reads as a time.
    pub updated_at: Option<UpdatedAt>,
}

/// What the view made of a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// The payload is the newest: its number is now the level's; plan the item without
    /// reading it. `fell`: the number is below the one it replaced.
    Applied {
        /// Whether the number fell.
        fell: bool,
    },
    /// The item must be read: the payload cannot be ordered or applied. `fell`: its number
    /// is below the last one seen (the re-read goes first).
    Reread {
        /// Whether the payload's number is below the last one seen.
        fell: bool,
        /// Why it is not applied.
        why: Reread,
    },
}

/// Why a payload is not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reread {
    /// The view has never read the item.
    UnknownItem,
    /// `available` is null.
    NoNumber,
    /// The payload has no `updated_at`.
    NoTime,
    /// The item is a bundle or was untracked when read: its switches may have changed.
    NotTracked,
    /// The location is not one the last reconciliation knew.
    UnknownLocation,
    /// The item was not stocked at the location when read, or the read gave no time for
    /// the level: nothing to order the payload against.
    NoKnownTime,
    /// `updated_at` is equal to or older than the level's known time.
    NotNewer,
}

/// A number a payload set that a later read contradicts at the payload's own time (Shopify
/// had another number for that second): the read's number replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mismatch {
    /// The item.
    pub item: InventoryItemId,
    /// Where.
    pub location: LocationId,
    /// The number the payload set.
    pub trusted: i64,
    /// The number read.
    pub read: i64,
}

impl LiveView {
    /// Applies a payload when it is provably the newest number for its level: the item is
    /// known, tracked and not a bundle, the location is one the rules know, the level was
    /// read with a time, the payload carries a number and a time strictly later than the
    /// level's. Otherwise the item must be re-read, and the number only orders that re-read
    /// ([`LiveView::note_level`]).
    pub fn offer(&mut self, payload: &LevelPayload) -> Offer {
        let reread = |view: &mut LiveView, why| Offer::Reread {
            fell: payload
                .available
                .is_some_and(|n| view.note_level(payload.item, payload.location, n)),
            why,
        };
        let Some(variant) = self.known.get(&payload.item) else {
            return reread(self, Reread::UnknownItem);
        };
        let Some(available) = payload.available else {
            return reread(self, Reread::NoNumber);
        };
        let Some(at) = payload.updated_at else {
            return reread(self, Reread::NoTime);
        };
        if variant.is_bundle() || !variant.tracked {
            return reread(self, Reread::NotTracked);
        }
        if !self
            .rules
            .locations()
            .iter()
            .any(|l| l.id == payload.location)
        {
            return reread(self, Reread::UnknownLocation);
        }
        let known = variant
            .levels
            .iter()
            .find(|l| l.location == payload.location)
            .and_then(|l| Some((l.available, l.updated_at?)));
        let Some((before, known_at)) = known else {
            return reread(self, Reread::NoKnownTime);
        };
        if at <= known_at {
            // Another change in the same second as a trusted number: Shopify had more than
            // one number in that second, so the re-read settles it, and a different number
            // from that read is no sign that the payload was wrong.
            let key = (payload.item, payload.location);
            if self.trusted.get(&key).is_some_and(|&(_, t)| t == at) {
                self.trusted.remove(&key);
            }
            return reread(self, Reread::NotNewer);
        }
        if let Some(level) = self
            .known
            .get_mut(&payload.item)
            .and_then(|v| v.levels.iter_mut().find(|l| l.location == payload.location))
        {
            level.available = available;
            level.updated_at = Some(at);
        }
        self.hinted.remove(&(payload.item, payload.location));
        self.trusted
            .insert((payload.item, payload.location), (available, at));
        Offer::Applied {
            fell: available < before,
        }
    }

    /// The known snapshots of these items, for planning trusted items without a read;
    /// `None` when one of them is unknown.
    pub fn known_snapshots(&self, items: &[InventoryItemId]) -> Option<Vec<VariantSnapshot>> {
        items
            .iter()
            .map(|item| self.known.get(item).cloned())
            .collect()
    }

    /// Whether a payload set a number of `item` that no read has confirmed yet (what the
    /// background verification re-reads).
    pub fn unverified(&self, item: InventoryItemId) -> bool {
        self.trusted.keys().any(|(i, _)| *i == item)
    }

    /// Merges what was just read with what is known, level by level: the later time wins,
    /// the read on equal times (it was made after everything known was learnt) and when
    /// either has no time. Returns the merged snapshots (what to plan), and the trusted
    /// numbers the read contradicts at the payload's own time.
    pub fn absorb(&mut self, read: &[VariantSnapshot]) -> (Vec<VariantSnapshot>, Vec<Mismatch>) {
        let mut mismatches = Vec::new();
        let mut merged = Vec::with_capacity(read.len());
        for variant in read {
            let item = variant.inventory_item_id;
            let locations: Vec<LocationId> = self
                .trusted
                .keys()
                .filter(|(i, _)| *i == item)
                .map(|(_, l)| *l)
                .collect();
            for location in locations {
                let Some(&(trusted, at)) = self.trusted.get(&(item, location)) else {
                    continue;
                };
                let level = variant.levels.iter().find(|l| l.location == location);
                match level.and_then(|l| Some((l.available, l.updated_at?))) {
                    // The payload's number is still the newest known: not confirmed yet.
                    Some((_, read_at)) if read_at < at => continue,
                    Some((read, read_at)) if read != trusted && read_at == at => {
                        mismatches.push(Mismatch {
                            item,
                            location,
                            trusted,
                            read,
                        });
                    }
                    _ => {}
                }
                self.trusted.remove(&(item, location));
            }
            let mut variant = variant.clone();
            if let Some(known) = self.known.get(&item) {
                for level in &known.levels {
                    keep_later(&mut variant.levels, level);
                }
            }
            self.hinted.retain(|(i, _), _| *i != item);
            self.known.insert(item, variant.clone());
            merged.push(variant);
        }
        (merged, mismatches)
    }
}

/// Puts `known` into `levels` in place of the level read at its location when `known` is
/// strictly later; a level the read lacks is gone (the item is no longer stocked there).
fn keep_later(levels: &mut [StockLevel], known: &StockLevel) {
    let Some(read) = levels.iter_mut().find(|l| l.location == known.location) else {
        return;
    };
    if let (Some(known_at), Some(read_at)) = (known.updated_at, read.updated_at) {
        if known_at > read_at {
            *read = *known;
        }
    }
}
