//! Each item's Shopify history as the storm makes it, and the check that the numbers pushed
//! to TikTok for an item follow that history in order: none older than one already pushed.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::binary::support::SandboxProcess;

/// What the default rules give an item: its `available` at both locations, summed, never
/// below 0.
fn quantity(levels: [i64; 2]) -> i64 {
    (levels[0] + levels[1]).max(0)
}

/// Per item (inventory item id), its levels now and every number the rules gave it so far.
pub(super) struct History {
    levels: BTreeMap<u64, [i64; 2]>,
    numbers: BTreeMap<u64, Vec<i64>>,
}

impl History {
    /// The chaos fixture's items as it stocks them: `i % 17` at Location A, 3 at B.
    pub(super) fn new(items: u64) -> History {
        let levels: BTreeMap<u64, [i64; 2]> = (1..=items)
            .map(|i| (5000 + i, [(i % 17) as i64, 3]))
            .collect();
        let numbers = levels
            .iter()
            .map(|(item, l)| (*item, vec![quantity(*l)]))
            .collect();
        History { levels, numbers }
    }

    /// Sets `item`'s `available` at `location` (1 or 2) in the sandbox and notes the number
    /// the rules now give it; the payload of the webhook the change sends.
    pub(super) fn set(
        &mut self,
        sandbox: &SandboxProcess,
        item: u64,
        location: u64,
        available: i64,
    ) -> Value {
        let answer = sandbox.control(
            "POST",
            "/_sandbox/shopify/inventory_levels",
            Some(
                json!({"inventory_item_id": item, "location_id": location, "available": available}),
            ),
        );
        let levels = self.levels.get_mut(&item).expect("a fixture item");
        levels[(location - 1) as usize] = available;
        let number = quantity(*levels);
        self.numbers.entry(item).or_default().push(number);
        answer["inventory_level"].clone()
    }

    /// Every number applied to a SKU's default warehouse (7001), in the order the audit log
    /// recorded them, must be a number of the item's history at or after the one pushed
    /// before it.
    pub(super) fn check_pushed_in_order(&self, state: &Path) {
        let db = rusqlite::Connection::open_with_flags(
            state,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut query = db
            .prepare(
                "SELECT sku_id, new FROM audit_log WHERE outcome = 'applied' AND warehouse_id = '7001' ORDER BY id",
            )
            .unwrap();
        let rows = query
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .unwrap();
        let mut pushed: BTreeMap<u64, Vec<i64>> = BTreeMap::new();
        for row in rows {
            let (sku, number) = row.unwrap();
            // SKU 80000 + i is fed by inventory item 5000 + i.
            let item = sku.parse::<u64>().unwrap() - 80_000 + 5000;
            pushed.entry(item).or_default().push(number);
        }
        assert!(!pushed.is_empty(), "numbers were pushed");
        for (item, numbers) in &pushed {
            let history = &self.numbers[item];
            let mut at = 0;
            for (n, number) in numbers.iter().enumerate() {
                match history[at..].iter().position(|h| h == number) {
                    Some(found) => at += found,
                    None => panic!(
                        "item {item}: push {n} ({number}) is older than push {} or never was Shopify's; pushed {numbers:?}, history {history:?}",
                        n.saturating_sub(1)
                    ),
                }
            }
        }
    }
}
