//! A plan's writes made a batch at a time, in the order they go out: a plan of 100,000 lines
//! need not hold a copy of every changed line in write jobs at once.

use std::collections::{HashMap, HashSet};

use crate::catalog::TikTokSku;
use crate::ids::{ProductId, SkuId};
use crate::plan::{restating_write, Plan, PlanLine};
use crate::write::{ProductWrite, WriteJob};

/// The write jobs of a plan, [`WriteBatches::next`] giving the next `size` of them; see
/// [`Plan::write_batches`].
pub struct WriteBatches<'a> {
    plan: &'a Plan,
    tiktok: &'a [TikTokSku],
    /// The products to write, in the order their writes go out.
    order: std::vec::IntoIter<&'a ProductId>,
    /// Per product, its changed lines (positions in the plan, in plan order).
    lines: HashMap<&'a ProductId, Vec<usize>>,
    /// Per product, its TikTok SKUs with changed lines (positions in `tiktok`, in catalog
    /// order, each SKU once).
    skus: HashMap<&'a ProductId, Vec<usize>>,
    size: usize,
}

impl<'a> WriteBatches<'a> {
    pub(crate) fn new(
        plan: &'a Plan,
        tiktok: &'a [TikTokSku],
        skip: impl Fn(&PlanLine) -> bool,
        size: usize,
    ) -> Self {
        let mut lines: HashMap<&ProductId, Vec<usize>> = HashMap::new();
        let mut changed: HashSet<(&ProductId, &SkuId)> = HashSet::new();
        for (i, line) in plan.lines.iter().enumerate() {
            if line.changed() && !skip(line) {
                lines.entry(&line.product_id).or_default().push(i);
                changed.insert((&line.product_id, &line.sku_id));
            }
        }
        let mut skus: HashMap<&ProductId, Vec<usize>> = HashMap::new();
        for (t, sku) in tiktok.iter().enumerate() {
            // A SKU listed twice is written once, as read first.
            if changed.remove(&(&sku.product_id, &sku.sku_id)) {
                skus.entry(&sku.product_id).or_default().push(t);
            }
        }
        drop(changed);
        // By product id, then the writes that may lower a number first (a stable sort).
        let mut order: Vec<&ProductId> = skus.keys().copied().collect();
        order.sort_unstable();
        let lowers = |p: &ProductId| {
            lines.get(p).is_some_and(|ls| {
                ls.iter().any(|&i| {
                    let l = &plan.lines[i];
                    l.current.is_none_or(|c| l.quantity < c)
                })
            })
        };
        order.sort_by_key(|p| !lowers(p));
        WriteBatches {
            plan,
            tiktok,
            order: order.into_iter(),
            lines,
            skus,
            size: size.max(1),
        }
    }

    /// The job of one product: its write, each changed SKU restating every warehouse it is
    /// stocked in, and its changed lines.
    fn job(&self, product_id: &ProductId) -> WriteJob {
        let lines: Vec<&PlanLine> = self
            .lines
            .get(product_id)
            .into_iter()
            .flatten()
            .map(|&i| &self.plan.lines[i])
            .collect();
        let skus = self
            .skus
            .get(product_id)
            .into_iter()
            .flatten()
            .map(|&t| restating_write(&self.tiktok[t], &lines))
            .collect();
        WriteJob {
            write: ProductWrite {
                product_id: product_id.clone(),
                skus,
            },
            lines: lines.into_iter().cloned().collect(),
        }
    }

    /// How many jobs are left.
    pub fn jobs_left(&self) -> usize {
        self.order.len()
    }

    /// How many changed lines the jobs left carry.
    pub fn lines_left(&self) -> usize {
        self.order
            .as_slice()
            .iter()
            .map(|p| self.lines.get(p).map_or(0, Vec::len))
            .sum()
    }
}

impl Iterator for WriteBatches<'_> {
    type Item = Vec<WriteJob>;

    fn next(&mut self) -> Option<Vec<WriteJob>> {
        let batch: Vec<&ProductId> = self.order.by_ref().take(self.size).collect();
        if batch.is_empty() {
            return None;
        }
        Some(batch.into_iter().map(|p| self.job(p)).collect())
    }
}
