//! The mass-drop breaker (sync-rules.md §9): a full sync or reconciliation whose plan would
//! set to 0 more than a share of the lines TikTok holds above 0, when enough lines would be
//! zeroed, trips. It then writes everything else and holds the zeroing writes until an
//! operator lets them through. A single real-time change is never judged by it.

use std::fmt;

use crate::catalog::TikTokSku;
use crate::plan::{Plan, PlanLine, WriteBatches};
use crate::write::WriteJob;

/// The `[safety]` settings: when a plan trips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breaker {
    enabled: bool,
    max_zeroed_percent: u8,
    min_lines: usize,
}

/// Why a breaker's settings cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerError {
    /// The percentage given.
    pub max_zeroed_percent: u32,
}

impl fmt::Display for BreakerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not a valid share of lines (allowed: an integer from 0 to 100)",
            self.max_zeroed_percent
        )
    }
}

impl std::error::Error for BreakerError {}

impl Default for Breaker {
    /// On, tripping above 50% with at least 20 lines zeroed.
    fn default() -> Self {
        Breaker {
            enabled: true,
            max_zeroed_percent: 50,
            min_lines: 20,
        }
    }
}

impl Breaker {
    /// A breaker that trips when more than `max_zeroed_percent` (0 to 100) of the lines above
    /// 0 would go to 0, and at least `min_lines` would.
    pub fn new(max_zeroed_percent: u32, min_lines: usize) -> Result<Breaker, BreakerError> {
        let percent = u8::try_from(max_zeroed_percent)
            .ok()
            .filter(|p| *p <= 100)
            .ok_or(BreakerError { max_zeroed_percent })?;
        Ok(Breaker {
            enabled: true,
            max_zeroed_percent: percent,
            min_lines,
        })
    }

    /// A breaker that never trips (`[safety] enabled = false`, or `sync --accept-drops`).
    pub fn off() -> Breaker {
        Breaker {
            enabled: false,
            ..Breaker::default()
        }
    }

    /// Whether it can trip at all.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The largest share of lines above 0 a plan may zero, in percent.
    pub fn max_zeroed_percent(&self) -> u8 {
        self.max_zeroed_percent
    }

    /// The fewest zeroed lines that can trip it.
    pub fn min_lines(&self) -> usize {
        self.min_lines
    }

    /// Judges the lines of a full plan.
    pub fn judge(&self, lines: &[PlanLine]) -> Verdict {
        let above_zero = lines
            .iter()
            .filter(|l| l.current.is_some_and(|c| c.get() > 0))
            .count();
        let zeroed = lines.iter().filter(|l| l.zeroes()).count();
        // zeroed / above_zero > max / 100, in integers.
        let too_many = zeroed * 100 > usize::from(self.max_zeroed_percent) * above_zero;
        Verdict {
            zeroed,
            above_zero,
            tripped: self.enabled && zeroed >= self.min_lines && too_many,
        }
    }
}

/// What the breaker made of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Lines the plan sets to 0 from above 0.
    pub zeroed: usize,
    /// Lines TikTok holds above 0 now.
    pub above_zero: usize,
    /// Whether the zeroing writes are held.
    pub tripped: bool,
}

impl Verdict {
    /// Whether this line's write is held.
    pub fn holds(&self, line: &PlanLine) -> bool {
        self.tripped && line.zeroes()
    }

    /// The plan to write: without the held lines when tripped (their warehouses are then
    /// restated at TikTok's number by [`Plan::writes`]), the plan itself otherwise.
    pub fn writable(&self, plan: &Plan) -> Plan {
        plan.without(|l| self.holds(l))
    }

    /// The writes of the plan without the held lines: `self.writable(plan).write_jobs(tiktok)`
    /// without copying the plan.
    pub fn write_jobs(&self, plan: &Plan, tiktok: &[TikTokSku]) -> Vec<WriteJob> {
        plan.write_jobs_except(tiktok, |l| self.holds(l))
    }

    /// [`Verdict::write_jobs`] made `size` at a time ([`Plan::write_batches`]).
    pub fn write_batches<'a>(
        &self,
        plan: &'a Plan,
        tiktok: &'a [TikTokSku],
        size: usize,
    ) -> WriteBatches<'a> {
        plan.write_batches(tiktok, |l| self.holds(l), size)
    }

    /// Why the writes are held, for a log line, `/healthz` and the console.
    pub fn reason(&self, breaker: &Breaker) -> String {
        format!(
            "the mass-drop breaker held {} writes to 0 ({} of {} lines above 0, more than the {}% allowed by [safety] max_zeroed_percent); approve them with `stockbridge sync --accept-drops` or in the console",
            self.zeroed,
            self.zeroed,
            self.above_zero,
            breaker.max_zeroed_percent
        )
    }
}

#[cfg(test)]
mod tests;
