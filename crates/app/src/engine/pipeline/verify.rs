//! Trust, then verify: items whose numbers webhooks set without a Shopify read are re-read
//! in the background, newest first, with what the cost bucket holds beyond the half kept for
//! changes ([`InventorySource::spare_item_reads`]). A read that contradicts a trusted number
//! is written at once (audited with the `verify` trigger) and counted in
//! `stockbridge_payload_mismatch_total`.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use stockbridge_domain::{Holds, InventoryItemId, LiveView};
use stockbridge_ports::{InventorySource, Trigger};
use tokio_util::sync::CancellationToken;

use super::Pipeline;

/// How often trusted numbers are checked while some wait.
pub(super) const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The most trusted items waiting for a check; older ones are left to the next full
/// reconciliation, which reads everything.
pub(super) const MAX_WAITING: usize = 10_000;

/// Items whose numbers were trusted and not checked yet, newest last.
#[derive(Default)]
pub(super) struct Checks {
    queue: VecDeque<InventoryItemId>,
    waiting: HashSet<InventoryItemId>,
}

impl Checks {
    /// Adds items whose payloads were applied; whether any waits now.
    pub(super) fn note(&mut self, applied: &HashSet<InventoryItemId>) -> bool {
        for item in applied {
            if self.waiting.insert(*item) {
                self.queue.push_back(*item);
            }
        }
        while self.queue.len() > MAX_WAITING {
            if let Some(oldest) = self.queue.pop_front() {
                self.waiting.remove(&oldest);
            }
        }
        !self.queue.is_empty()
    }

    /// Takes up to `n` items still unverified in `live`, newest first; items a read has
    /// confirmed since are dropped on the way.
    pub(super) fn take(&mut self, n: usize, live: &LiveView) -> Vec<InventoryItemId> {
        let mut out = Vec::new();
        while out.len() < n {
            let Some(item) = self.queue.pop_back() else {
                break;
            };
            self.waiting.remove(&item);
            if live.unverified(item) {
                out.push(item);
            }
        }
        out
    }

    /// Whether nothing waits.
    pub(super) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

impl Pipeline {
    /// Checks as many trusted items as Shopify's spare capacity reads now; when the next
    /// check is due, if some still wait.
    pub(super) async fn check(
        &self,
        live: &mut LiveView,
        checks: &mut Checks,
        cancel: &CancellationToken,
    ) -> Option<tokio::time::Instant> {
        let source: &dyn InventorySource = self.stores.source.as_ref();
        let items = checks.take(source.spare_item_reads(), live);
        if !items.is_empty() {
            tracing::debug!(
                items = items.len(),
                "checking numbers trusted from webhooks"
            );
            let to_read = live.to_read(&items);
            let read = tokio::select! {
                read = source.variants_for_items(&to_read) => read,
                () = cancel.cancelled() => return None,
            };
            match read {
                Ok(variants) => {
                    // With the holds of TikTok orders in flight, like any real-time change.
                    let holds = match &self.stores.holds {
                        Some(book) => book.holds(std::time::SystemTime::now(), &[]),
                        None => Holds::none(),
                    };
                    let planned = live.plan_with_known(&variants, &[], &holds);
                    self.count_mismatches(&planned);
                    // Whatever differs from what TikTok holds is written: a mismatch's
                    // correction, or a change whose webhook has not arrived yet.
                    let jobs = planned.write_jobs();
                    self.write(live, &planned, jobs, &Trigger::Verify, cancel)
                        .await;
                }
                // Left to the next full reconciliation: a check is never urgent.
                Err(e) => tracing::debug!(error = %e, "checking trusted numbers failed"),
            }
        }
        (!checks.is_empty()).then(|| tokio::time::Instant::now() + CHECK_EVERY)
    }
}
