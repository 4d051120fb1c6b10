//! The items waiting to be re-read and written, in the order they go out: items a webhook
//! hinted had fallen (urgent: a fall is what oversells) in a flush of their own, then the
//! others, oldest change first; a flush takes at most a set number, so that an urgent item
//! that arrives during a backlog waits for one bounded flush at most. An item whose number a
//! webhook set (the trust rule) needs no Shopify read; any other change of it does.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::SystemTime;

use stockbridge_domain::InventoryItemId;

/// One pending item.
struct Entry {
    /// Its earliest change not yet on TikTok (the lag is counted from it).
    changed_at: SystemTime,
    /// When it joined the queue, in arrival order: the older goes first.
    order: u64,
    /// Whether a webhook hinted that its number fell.
    urgent: bool,
    /// Whether it must be read from Shopify (false: its payload was applied).
    read: bool,
    /// The topics of its changes (the audit log's trigger); none for a retry.
    topics: BTreeSet<String>,
}

/// Pending items, and the attempts made so far for items whose write failed.
#[derive(Default)]
pub(super) struct Pending {
    items: HashMap<InventoryItemId, Entry>,
    arrivals: u64,
    pub(super) attempts: HashMap<InventoryItemId, u32>,
}

/// The items one flush takes, with the earliest change time of each.
#[derive(Debug)]
pub(super) struct Batch {
    pub(super) items: BTreeMap<InventoryItemId, SystemTime>,
    /// `items` in the order they joined the queue (the one that waited longest first).
    pub(super) arrived: Vec<InventoryItemId>,
    /// Those of `items` to read from Shopify; the others are planned from their payload.
    pub(super) to_read: BTreeSet<InventoryItemId>,
    pub(super) topics: BTreeSet<String>,
    /// Whether these are urgent items (a batch never mixes them with others).
    pub(super) urgent: bool,
}

impl Pending {
    pub(super) fn len(&self) -> usize {
        self.items.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Queues an item, or updates it in place: it keeps its place and its earliest change
    /// time, and stays urgent once it is, and to be read once one of its changes needs it.
    pub(super) fn add(
        &mut self,
        item: InventoryItemId,
        changed_at: SystemTime,
        topic: Option<&str>,
        urgent: bool,
        read: bool,
    ) {
        let arrivals = &mut self.arrivals;
        let entry = self.items.entry(item).or_insert_with(|| {
            *arrivals += 1;
            Entry {
                changed_at,
                order: *arrivals,
                urgent: false,
                read: false,
                topics: BTreeSet::new(),
            }
        });
        entry.changed_at = entry.changed_at.min(changed_at);
        entry.urgent |= urgent;
        entry.read |= read;
        entry.topics.extend(topic.map(str::to_owned));
    }

    /// Queues one webhook's items; those in `urgent` go first, those in `applied` (their
    /// payload was applied) need no read.
    pub(super) fn add_all(
        &mut self,
        items: Vec<InventoryItemId>,
        topic: &str,
        changed_at: SystemTime,
        urgent: &HashSet<InventoryItemId>,
        applied: &HashSet<InventoryItemId>,
    ) {
        for item in items {
            let read = !applied.contains(&item);
            self.add(item, changed_at, Some(topic), urgent.contains(&item), read);
        }
    }

    /// Takes the next flush's items, at most `cap` (at least one): the urgent ones when
    /// there are any, otherwise the oldest.
    pub(super) fn take(&mut self, cap: usize) -> Batch {
        let mut queue: Vec<(bool, u64, InventoryItemId)> = self
            .items
            .iter()
            .map(|(item, e)| (!e.urgent, e.order, *item))
            .collect();
        queue.sort_unstable();
        let urgent = queue.first().is_some_and(|(later, _, _)| !later);
        let mut batch = Batch {
            items: BTreeMap::new(),
            arrived: Vec::new(),
            to_read: BTreeSet::new(),
            topics: BTreeSet::new(),
            urgent,
        };
        for (later, _, item) in queue.into_iter().take(cap.max(1)) {
            if urgent && later {
                break;
            }
            if let Some(entry) = self.items.remove(&item) {
                batch.items.insert(item, entry.changed_at);
                batch.arrived.push(item);
                if entry.read {
                    batch.to_read.insert(item);
                }
                batch.topics.extend(entry.topics);
            }
        }
        batch
    }

    /// Puts back a batch that was not read (a stop came first).
    pub(super) fn put_back(&mut self, batch: Batch) {
        for item in batch.arrived {
            let Some(&changed_at) = batch.items.get(&item) else {
                continue;
            };
            let read = batch.to_read.contains(&item);
            self.add(item, changed_at, None, batch.urgent, read);
            if let Some(entry) = self.items.get_mut(&item) {
                entry.topics.extend(batch.topics.iter().cloned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn item(id: u64) -> InventoryItemId {
        InventoryItemId::new(id).unwrap()
    }

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn ids(batch: &Batch) -> Vec<u64> {
        batch.items.keys().map(|i| i.get()).collect()
    }

    fn queue(items: &[u64]) -> Pending {
        let mut pending = Pending::default();
        for (n, id) in items.iter().enumerate() {
            pending.add(
                item(*id),
                at(n as u64),
                Some("inventory_levels/update"),
                false,
                true,
            );
        }
        pending
    }

    #[test]
    fn items_go_out_oldest_change_first_at_most_the_cap_per_flush() {
        let mut pending = queue(&[50, 10, 40, 20, 30]);
        let first = pending.take(2);
        assert_eq!(ids(&first), [10, 50]);
        assert!(!first.urgent);
        assert_eq!(ids(&pending.take(2)), [20, 40]);
        assert_eq!(ids(&pending.take(2)), [30]);
        assert!(pending.is_empty());
    }

    #[test]
    fn urgent_items_go_out_first_in_a_flush_of_their_own() {
        let mut pending = queue(&[10, 20, 30]);
        pending.add(item(40), at(9), Some("inventory_levels/update"), true, true);
        pending.add(item(20), at(9), Some("inventory_levels/update"), true, true);
        let first = pending.take(50);
        assert!(first.urgent);
        assert_eq!(ids(&first), [20, 40], "the urgent ones, and only them");
        let second = pending.take(50);
        assert!(!second.urgent);
        assert_eq!(ids(&second), [10, 30]);
    }

    #[test]
    fn urgent_items_beyond_the_cap_go_out_in_the_next_flush_before_the_others() {
        let mut pending = queue(&[10, 20]);
        for id in [30, 40, 50] {
            pending.add(item(id), at(5), None, true, true);
        }
        assert_eq!(ids(&pending.take(2)), [30, 40]);
        assert_eq!(ids(&pending.take(2)), [50]);
        assert_eq!(ids(&pending.take(2)), [10, 20]);
    }

    #[test]
    fn a_change_to_a_queued_item_keeps_its_place_its_earliest_time_and_its_urgency() {
        let mut pending = queue(&[10, 20]);
        pending.add(item(10), at(0), None, true, true);
        pending.add(item(10), at(30), Some("products/update"), false, true);
        assert_eq!(pending.len(), 2);
        let batch = pending.take(1);
        assert!(
            batch.urgent,
            "a later change without a fall does not undo the fall"
        );
        assert_eq!(batch.items[&item(10)], at(0), "the earliest change time");
        assert_eq!(
            batch.topics.iter().map(String::as_str).collect::<Vec<_>>(),
            ["inventory_levels/update", "products/update"]
        );
        // 20 stays ahead of anything queued after it.
        pending.add(item(5), at(40), None, false, true);
        assert_eq!(ids(&pending.take(1)), [20]);
        assert_eq!(ids(&pending.take(1)), [5]);
    }

    #[test]
    fn a_batch_put_back_is_taken_again_with_its_times_and_topics() {
        let mut pending = queue(&[10, 20]);
        pending.add(item(20), at(3), None, true, true);
        let batch = pending.take(10);
        assert_eq!(ids(&batch), [20]);
        pending.put_back(batch);
        assert_eq!(pending.len(), 2);
        let again = pending.take(10);
        assert!(again.urgent);
        assert_eq!(again.items[&item(20)], at(1));
        assert!(again.topics.contains("inventory_levels/update"));
    }

    #[test]
    fn an_item_is_read_once_any_of_its_changes_needs_a_read_and_keeps_that_when_put_back() {
        let mut pending = Pending::default();
        pending.add(
            item(10),
            at(1),
            Some("inventory_levels/update"),
            false,
            false,
        );
        pending.add(
            item(20),
            at(2),
            Some("inventory_levels/update"),
            false,
            false,
        );
        pending.add(item(20), at(3), Some("products/update"), false, true);
        let batch = pending.take(10);
        assert_eq!(ids(&batch), [10, 20]);
        assert_eq!(
            batch.to_read.iter().map(|i| i.get()).collect::<Vec<_>>(),
            [20],
            "10's payload was applied; 20 changed in a way only a read tells"
        );
        pending.put_back(batch);
        let again = pending.take(10);
        assert_eq!(again.to_read.len(), 1);
        assert!(again.to_read.contains(&item(20)));
    }

    #[test]
    fn a_batch_lists_its_items_in_the_order_they_joined_the_queue_and_keeps_it_when_put_back() {
        let mut pending = queue(&[50, 10, 40]);
        pending.add(item(10), at(9), None, false, true);
        let batch = pending.take(10);
        let arrived = |b: &Batch| b.arrived.iter().map(|i| i.get()).collect::<Vec<_>>();
        assert_eq!(
            arrived(&batch),
            [50, 10, 40],
            "a later change keeps the item's place"
        );
        pending.put_back(batch);
        pending.add(item(5), at(10), None, false, true);
        assert_eq!(arrived(&pending.take(10)), [50, 10, 40, 5]);
    }

    #[test]
    fn a_cap_of_zero_still_takes_one_item() {
        let mut pending = queue(&[10, 20]);
        assert_eq!(ids(&pending.take(0)), [10]);
    }
}
