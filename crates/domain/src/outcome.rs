//! What became of each line of a plan once its writes were sent (from TikTok's answer to
//! each write), how those outcomes are counted, and what TikTok holds afterwards.

use std::collections::HashMap;
use std::fmt;

use crate::catalog::TikTokSku;
use crate::ids::{SkuId, WarehouseId};
use crate::plan::{Plan, PlanLine};
use crate::quantity::Quantity;
use crate::write::{WarehouseOutcome, WriteJob, WriteOutcome};

/// What a sent write came to for one line it carried, read from TikTok's answer to the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutcome {
    /// TikTok holds the new number.
    Applied,
    /// TikTok refused the number, with its code and message; sending it again will not help.
    Rejected {
        /// The platform's error code.
        code: String,
        /// The platform's message.
        message: String,
    },
    /// The call failed (after the adapter's retries), or its answer named no outcome for the
    /// line's (SKU, warehouse); the number will be tried again.
    Failed(String),
}

/// Why a line failed when TikTok answered its write without an outcome for the line's (SKU,
/// warehouse).
pub const NO_OUTCOME: &str = "TikTok Shop reported no outcome for this warehouse";

impl LineOutcome {
    /// The outcome of `line` from the answer to the write that carried it: the outcome the
    /// answer reports for the line's (SKU, warehouse), or the call's error.
    pub fn of<E: fmt::Display>(line: &PlanLine, answer: &Result<Vec<WriteOutcome>, E>) -> Self {
        let outcomes = match answer {
            Err(e) => return LineOutcome::Failed(e.to_string()),
            Ok(outcomes) => outcomes,
        };
        match outcomes
            .iter()
            .find(|o| o.sku_id == line.sku_id && o.warehouse == line.warehouse)
            .map(|o| &o.outcome)
        {
            Some(WarehouseOutcome::Applied) => LineOutcome::Applied,
            Some(WarehouseOutcome::Rejected { code, message }) => LineOutcome::Rejected {
                code: code.clone(),
                message: message.clone(),
            },
            None => LineOutcome::Failed(NO_OUTCOME.to_owned()),
        }
    }

    /// The line's status: applied is [`LineStatus::Updated`]; a refusal or a failure is
    /// [`LineStatus::Failed`] with why.
    pub fn status(&self) -> LineStatus {
        match self {
            LineOutcome::Applied => LineStatus::Updated,
            LineOutcome::Rejected { code, message } => {
                LineStatus::Failed(format!("TikTok Shop refused it: {code} {message}"))
            }
            LineOutcome::Failed(why) => LineStatus::Failed(why.clone()),
        }
    }
}

impl WriteJob {
    /// The outcome of each line it carries, by position, from TikTok's answer to its write
    /// ([`LineOutcome::of`]).
    pub fn outcomes<E: fmt::Display>(
        &self,
        answer: &Result<Vec<WriteOutcome>, E>,
    ) -> Vec<LineOutcome> {
        self.lines
            .iter()
            .map(|line| LineOutcome::of(line, answer))
            .collect()
    }
}

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

    /// The seed shop's write of TEE-RED-S, carrying its line in α and (made up here) one in
    /// β.
    fn job() -> WriteJob {
        let (rules, variants, tiktok) = seed::shop();
        let plan = Plan::build(&rules, &variants, &tiktok);
        let mut job = plan
            .write_jobs(&tiktok)
            .into_iter()
            .find(|j| j.lines[0].sku == "TEE-RED-S")
            .expect("the seed writes TEE-RED-S");
        let beta = PlanLine {
            warehouse: WarehouseId::new("7002").unwrap(),
            ..job.lines[0].clone()
        };
        job.lines.push(beta);
        job
    }

    /// TikTok's answer to a write: the outcomes it reports, or why the call failed.
    type Answer = Result<Vec<WriteOutcome>, &'static str>;

    fn reported(line: &PlanLine, outcome: WarehouseOutcome) -> WriteOutcome {
        WriteOutcome {
            sku_id: line.sku_id.clone(),
            warehouse: line.warehouse.clone(),
            outcome,
        }
    }

    #[test]
    fn a_line_comes_to_what_the_answer_reports_for_its_sku_and_warehouse() {
        let job = job();
        let (line, other) = (&job.lines[0], &job.lines[1]);
        let refused = WarehouseOutcome::Rejected {
            code: "12052048".into(),
            message: "quantity too large".into(),
        };
        let cases: Vec<(Answer, LineOutcome, LineStatus)> = vec![
            (
                Ok(vec![reported(line, WarehouseOutcome::Applied)]),
                LineOutcome::Applied,
                LineStatus::Updated,
            ),
            (
                Ok(vec![
                    reported(other, WarehouseOutcome::Applied),
                    reported(line, refused.clone()),
                ]),
                LineOutcome::Rejected {
                    code: "12052048".into(),
                    message: "quantity too large".into(),
                },
                LineStatus::Failed("TikTok Shop refused it: 12052048 quantity too large".into()),
            ),
            (
                Ok(vec![reported(other, WarehouseOutcome::Applied)]),
                LineOutcome::Failed(NO_OUTCOME.into()),
                LineStatus::Failed(NO_OUTCOME.into()),
            ),
            (
                Ok(vec![]),
                LineOutcome::Failed(NO_OUTCOME.into()),
                LineStatus::Failed(NO_OUTCOME.into()),
            ),
            (
                Err("HTTP 503 after 4 attempts"),
                LineOutcome::Failed("HTTP 503 after 4 attempts".into()),
                LineStatus::Failed("HTTP 503 after 4 attempts".into()),
            ),
        ];
        for (answer, outcome, status) in cases {
            let got = LineOutcome::of(line, &answer);
            assert_eq!(got, outcome, "{answer:?}");
            assert_eq!(got.status(), status, "{answer:?}");
        }
    }

    #[test]
    fn a_write_s_lines_each_come_to_their_own_outcome_in_order() {
        let job = job();
        let answer: Result<_, &str> = Ok(vec![
            reported(&job.lines[1], WarehouseOutcome::Applied),
            reported(
                &job.lines[0],
                WarehouseOutcome::Rejected {
                    code: "1".into(),
                    message: "no".into(),
                },
            ),
        ]);
        assert_eq!(
            job.outcomes(&answer),
            [
                LineOutcome::Rejected {
                    code: "1".into(),
                    message: "no".into()
                },
                LineOutcome::Applied
            ]
        );
        let failed: Result<Vec<WriteOutcome>, &str> = Err("timed out");
        assert_eq!(
            job.outcomes(&failed),
            [
                LineOutcome::Failed("timed out".into()),
                LineOutcome::Failed("timed out".into())
            ]
        );
    }

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
