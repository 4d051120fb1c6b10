//! Real-time latency of the busy shops: `busy_rate` Shopify changes per busy shop per second
//! (one by default), over the shop's items in turn, each one's time to the TikTok write that
//! carries it, read from the sandbox's write log (its `at`); and the Shopify cost points the
//! busy shops spent per change.

use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use crate::measure::{percentile, secs};
use crate::setup::{World, WHALE_DOMAIN};
use crate::Sizes;

/// The busy shops' changes and what became of them.
pub struct Outcome {
    /// Change-to-write latencies of the changes that reached TikTok.
    latencies: Vec<Duration>,
    /// Changes that never reached TikTok within the grace period.
    missing: usize,
    /// Shopify cost points the busy shops were charged during the run, per change.
    points_per_change: f64,
}

impl Outcome {
    pub fn row(&self, what: &str) -> String {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        format!(
            "| {what} | {} changes: p50 {}, p99 {}, max {} ({} not written); {:.2} Shopify cost points per change |",
            sorted.len() + self.missing,
            secs(percentile(&sorted, 50.0)),
            secs(percentile(&sorted, 99.0)),
            secs(sorted.last().copied().unwrap_or_default()),
            self.missing,
            self.points_per_change
        )
    }
}

/// One change: shop `k`'s item `5000 + i` (SKU `900000 + i`) set to `available` at `sent`.
struct Change {
    k: usize,
    i: u64,
    available: i64,
    sent: SystemTime,
}

fn parse_at(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339(text).ok()
}

/// The Shopify cost points the busy shops were charged so far.
async fn busy_points(client: &reqwest::Client, world: &World, sizes: &Sizes) -> f64 {
    let mut points = 0.0;
    for k in 1..=sizes.busy {
        let stats: Option<Value> = match client
            .get(format!(
                "{}/_sandbox/stats?shop=shop-{k}.myshopify.com",
                world.sandbox_url
            ))
            .send()
            .await
        {
            Ok(answer) => answer.json().await.ok(),
            Err(_) => None,
        };
        points += stats
            .and_then(|s| s["shopify_cost_points"].as_f64())
            .unwrap_or_default();
    }
    points
}

/// Changes each busy shop `busy_rate` times a second, for `duration`, or, with
/// `until_whale`, until the whale shop was reconciled after that instant (at most
/// `duration`).
pub async fn run(
    world: &World,
    sizes: &Sizes,
    duration: Duration,
    until_whale: Option<SystemTime>,
) -> Outcome {
    let client = reqwest::Client::new();
    let points_before = busy_points(&client, world, sizes).await;
    let start = Instant::now();
    let mut changes = Vec::new();
    let mut sent_count: i64 = 0;
    loop {
        let tick = Instant::now();
        for _ in 0..sizes.busy_rate {
            sent_count += 1;
            // The shop's items in turn.
            let i = (sent_count as u64 - 1) % sizes.variants + 1;
            for k in 1..=sizes.busy {
                // Strictly rising numbers: a write carries this change or a later one when
                // its quantity is at least this one's (the default rules push `available`).
                let available = 1_000 + sent_count;
                let sent = SystemTime::now();
                let answer = client
                    .post(format!(
                        "{}/_sandbox/shopify/inventory_levels?shop=shop-{k}.myshopify.com",
                        world.sandbox_url
                    ))
                    .json(&json!({"inventory_item_id": 5000 + i, "location_id": 1, "available": available}))
                    .send()
                    .await;
                if answer.is_ok_and(|a| a.status().is_success()) {
                    changes.push(Change {
                        k,
                        i,
                        available,
                        sent,
                    });
                }
            }
        }
        if start.elapsed() >= duration {
            break;
        }
        if let Some(since) = until_whale {
            if sent_count % (5 * sizes.busy_rate.max(1) as i64) == 0
                && whale_done(world, since).await
            {
                break;
            }
        }
        tokio::time::sleep(Duration::from_secs(1).saturating_sub(tick.elapsed())).await;
    }
    // Time for the last changes to arrive.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let points = busy_points(&client, world, sizes).await - points_before;
    let mut latencies = Vec::new();
    let mut missing = 0;
    for k in 1..=sizes.busy {
        let writes: Value = client
            .get(format!(
                "{}/_sandbox/writes?shop_cipher=SHOP_{k}",
                world.sandbox_url
            ))
            .send()
            .await
            .expect("the write log")
            .json()
            .await
            .expect("the write log is JSON");
        let written: Vec<(SystemTime, String, i64)> = writes
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|w| {
                let at = w["at"].as_str().and_then(parse_at);
                w["skus"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(move |s| {
                        Some((
                            at?,
                            s["id"].as_str()?.to_owned(),
                            s["inventory"][0]["quantity"].as_i64()?,
                        ))
                    })
            })
            .collect();
        for change in changes.iter().filter(|c| c.k == k) {
            let sku = format!("{}", 900_000 + change.i);
            let carried = written.iter().find(|(at, id, quantity)| {
                *id == sku && *at >= change.sent && *quantity >= change.available
            });
            match carried {
                Some((at, _, _)) => {
                    latencies.push(at.duration_since(change.sent).unwrap_or_default())
                }
                None => missing += 1,
            }
        }
    }
    let sent = changes.len().max(1) as f64;
    Outcome {
        latencies,
        missing,
        points_per_change: points / sent,
    }
}

async fn whale_done(world: &World, since: SystemTime) -> bool {
    let rows = world.probe.shops(Some(since)).await;
    rows.get(WHALE_DOMAIN)
        .is_some_and(|r| r.last_reconcile_at.is_some_and(|at| at >= since))
}
