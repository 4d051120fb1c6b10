//! What became of each line of a plan once its writes were sent, how those outcomes are
//! counted, and what TikTok holds afterwards.

use std::collections::HashMap;

use crate::catalog::TikTokSku;
use crate::ids::{SkuId, WarehouseId};
use crate::plan::Plan;
use crate::quantity::Quantity;

/// What became of one plan line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineStatus {
    /// TikTok holds the new number.
    Updated,
    /// TikTok already held it.
    Unchanged,
    /// The write failed or was refused (why).
    Failed(String),
    /// The mass-drop breaker held it: a zeroing write, sent once an operator approves.
    Held,
}

/// Lines counted by status: a run's counts, and the summary of a sync report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineCounts {
    /// Lines in all.
    pub lines: u64,
    /// Lines written and applied.
    pub updated: u64,
    /// Lines TikTok already held.
    pub unchanged: u64,
    /// Lines whose write failed or was refused.
    pub failed: u64,
    /// Lines the mass-drop breaker held.
    pub held: u64,
}

impl LineCounts {
    /// Counts `statuses`.
    pub fn of(statuses: &[LineStatus]) -> LineCounts {
        let mut counts = LineCounts {
            lines: statuses.len() as u64,
            ..LineCounts::default()
        };
        for status in statuses {
            match status {
                LineStatus::Updated => counts.updated += 1,
                LineStatus::Unchanged => counts.unchanged += 1,
                LineStatus::Failed(_) => counts.failed += 1,
                LineStatus::Held => counts.held += 1,
            }
        }
        counts
    }
}

/// Why a changed line has no status after its writes: the run stopped before sending it.
pub const NOT_WRITTEN: &str = "not written: the run was interrupted; the next sync writes it";

impl Plan {
    /// The status of each line, by position, from the statuses of the (SKU, warehouse)
    /// quantities written: a line that did not change is [`LineStatus::Unchanged`]; a changed
    /// one that was not written failed ([`NOT_WRITTEN`]).
    pub fn statuses(&self, written: &HashMap<(SkuId, WarehouseId), LineStatus>) -> Vec<LineStatus> {
        self.lines
            .iter()
            .map(|line| {
                if !line.changed() {
                    return LineStatus::Unchanged;
                }
                written
                    .get(&(line.sku_id.clone(), line.warehouse.clone()))
                    .cloned()
                    .unwrap_or_else(|| LineStatus::Failed(NOT_WRITTEN.to_owned()))
            })
            .collect()
    }

    /// Makes `tiktok` hold the numbers of the lines that were updated (`statuses` by position
    /// of the lines); every other number is left as it was.
    pub fn apply_updated(&self, tiktok: &mut [TikTokSku], statuses: &[LineStatus]) {
        let updated: HashMap<(&SkuId, &WarehouseId), Quantity> = self
            .lines
            .iter()
            .zip(statuses)
            .filter(|(_, s)| **s == LineStatus::Updated)
            .map(|(l, _)| ((&l.sku_id, &l.warehouse), l.quantity))
            .collect();
        if updated.is_empty() {
            return;
        }
        for sku in tiktok.iter_mut() {
            for stock in &mut sku.stock {
                if let Some(q) = updated.get(&(&sku.sku_id, &stock.warehouse)) {
                    stock.quantity = *q;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed;

    #[test]
    fn counts_each_status_once_and_every_line() {
        let statuses = [
            LineStatus::Updated,
            LineStatus::Updated,
            LineStatus::Unchanged,
            LineStatus::Failed("503".into()),
            LineStatus::Held,
        ];
        assert_eq!(
            LineCounts::of(&statuses),
            LineCounts {
                lines: 5,
                updated: 2,
                unchanged: 1,
                failed: 1,
                held: 1,
            }
        );
        assert_eq!(LineCounts::of(&[]), LineCounts::default());
    }

    #[test]
    fn unchanged_lines_are_unchanged_and_changed_lines_not_written_failed() {
        let (rules, variants, tiktok) = seed::shop();
        let plan = Plan::build(&rules, &variants, &tiktok);
        let first_changed = plan.lines.iter().position(|l| l.changed()).unwrap();
        let line = &plan.lines[first_changed];
        let written = HashMap::from([(
            (line.sku_id.clone(), line.warehouse.clone()),
            LineStatus::Updated,
        )]);
        let statuses = plan.statuses(&written);
        assert_eq!(statuses.len(), plan.lines.len());
        for (i, (line, status)) in plan.lines.iter().zip(&statuses).enumerate() {
            let expected = if i == first_changed {
                LineStatus::Updated
            } else if !line.changed() {
                LineStatus::Unchanged
            } else {
                LineStatus::Failed(NOT_WRITTEN.to_owned())
            };
            assert_eq!(*status, expected, "{}", line.sku);
        }
    }

    #[test]
    fn only_updated_lines_change_what_tiktok_holds() {
        let (rules, variants, tiktok) = seed::shop();
        let plan = Plan::build(&rules, &variants, &tiktok);
        let changed: Vec<usize> = (0..plan.lines.len())
            .filter(|&i| plan.lines[i].changed())
            .collect();
        assert!(changed.len() >= 2, "the seed changes several lines");
        let mut statuses = plan.statuses(&HashMap::new());
        statuses[changed[0]] = LineStatus::Updated;
        let mut after = tiktok.clone();
        plan.apply_updated(&mut after, &statuses);
        let updated = &plan.lines[changed[0]];
        let failed = &plan.lines[changed[1]];
        let holds = |skus: &[TikTokSku], sku: &SkuId, w: &WarehouseId| {
            skus.iter()
                .find(|s| &s.sku_id == sku)
                .and_then(|s| s.quantity_in(w))
        };
        assert_eq!(
            holds(&after, &updated.sku_id, &updated.warehouse),
            Some(updated.quantity)
        );
        assert_eq!(
            holds(&after, &failed.sku_id, &failed.warehouse),
            holds(&tiktok, &failed.sku_id, &failed.warehouse),
            "a failed line leaves TikTok's number"
        );
    }
}
