//! The overview: health and why, the last run, writes and real-time lag per hour over the
//! last day, the day's failures, and the writes the breaker holds with their approval.

use std::time::{Duration, SystemTime};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::json;
use stockbridge_ports::{AuditEntry, AuditOutcome};

use super::access::{csrf_refused, Access, CsrfForm, Session};
use super::pages::store_failed;
use super::{chart, render, Console};
use crate::engine::Change;
use crate::runs::{duration, json_run};

fn failed(entry: &AuditEntry) -> Option<String> {
    match &entry.outcome {
        AuditOutcome::Applied => None,
        AuditOutcome::Rejected { code, message } => Some(format!("refused: {code} {message}")),
        AuditOutcome::Failed { message } => Some(message.clone()),
    }
}
/// Seconds since the epoch.
fn epoch_secs(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

const HOUR: u64 = 3600;

/// The last 24 hours, as hours: the first hour's start (seconds since the epoch) and each
/// hour's UTC label, oldest first.
fn last_day(now: SystemTime) -> (u64, Vec<String>) {
    let now_secs = epoch_secs(now);
    let first = now_secs - now_secs % HOUR - 23 * HOUR;
    let labels = (0..24)
        .map(|i| {
            let start = SystemTime::UNIX_EPOCH + Duration::from_secs(first + i * HOUR);
            format!("{}h", &render::time(start)[11..13])
        })
        .collect();
    (first, labels)
}

/// Which of the 24 hours starting at `first` holds `at`.
fn hour_of(at: SystemTime, first: u64) -> Option<usize> {
    let index = epoch_secs(at).checked_sub(first)? / HOUR;
    (index < 24).then_some(index as usize)
}

/// Applied and failed writes per hour over the last 24 hours, oldest hour first, each
/// labelled with its UTC hour.
pub fn writes_per_hour(entries: &[AuditEntry], now: SystemTime) -> Vec<(String, u64, u64)> {
    let (first, labels) = last_day(now);
    let mut buckets: Vec<(String, u64, u64)> = labels.into_iter().map(|l| (l, 0, 0)).collect();
    for entry in entries {
        let Some(bucket) = hour_of(entry.at, first).and_then(|i| buckets.get_mut(i)) else {
            continue;
        };
        if entry.outcome == AuditOutcome::Applied {
            bucket.1 += 1;
        } else {
            bucket.2 += 1;
        }
    }
    buckets
}

/// The longest real-time lag of each hour of the last 24 that had any, in milliseconds.
pub fn longest_lag_per_hour(
    lags: &[(SystemTime, Duration)],
    now: SystemTime,
) -> Vec<(String, u32)> {
    let (first, labels) = last_day(now);
    let mut longest: Vec<Option<Duration>> = vec![None; 24];
    for (at, lag) in lags {
        if let Some(slot) = hour_of(*at, first).and_then(|i| longest.get_mut(i)) {
            *slot = Some(slot.map_or(*lag, |l| l.max(*lag)));
        }
    }
    labels
        .into_iter()
        .zip(longest)
        .filter_map(|(label, lag)| {
            lag.map(|l| {
                (
                    format!("{label} longest ms"),
                    u32::try_from(l.as_millis()).unwrap_or(u32::MAX),
                )
            })
        })
        .collect()
}
/// Query of `/?approved=1`.
#[derive(Deserialize)]
pub struct OverviewQuery {
    #[serde(default)]
    approved: Option<u8>,
}

/// `GET /`.
pub async fn overview(
    State(console): State<Console>,
    Extension(session): Extension<Session>,
    Query(query): Query<OverviewQuery>,
) -> Response {
    let (status, problem) = console.health().await;
    let store = &console.parts.stores.store;
    let runs = match store.runs(1).await {
        Ok(r) => r,
        Err(e) => return store_failed(e),
    };
    let held = match store.held_writes().await {
        Ok(h) => h,
        Err(e) => return store_failed(e),
    };
    let entries = match console.audit().await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let now = SystemTime::now();
    let day_ago = now - Duration::from_secs(24 * 3600);
    let failures: Vec<serde_json::Value> = entries
        .iter()
        .filter(|e| e.at >= day_ago)
        .filter_map(|e| {
            failed(e).map(|why| {
                json!({"at": render::time(e.at), "sku": e.seller_sku, "warehouse": e.warehouse.as_str(),
                       "new": e.new.get(), "trigger": e.trigger.to_string(), "reason": why})
            })
        })
        .take(50)
        .collect();
    let writes = chart::bars(
        "writes per hour over the last 24 hours",
        &writes_per_hour(&entries, now),
    );
    let lags = longest_lag_per_hour(&console.parts.latest.lags_since(day_ago), now);
    let lag_chart = (!lags.is_empty()).then(|| {
        chart::points(
            "longest real-time lag per hour over the last 24 hours, in milliseconds",
            &lags,
        )
    });
    let last = runs.first().map(|r| {
        let mut run = serde_json::to_value(json_run(r)).unwrap_or_default();
        run["took"] = json!(duration(r));
        run
    });
    let held: Vec<serde_json::Value> = held
        .iter()
        .map(|h| json!({"sku": h.seller_sku, "sku_id": h.sku_id.as_str(), "warehouse": h.warehouse.as_str(),
                        "old": h.old.get(), "explanation": h.explanation, "at": render::time(h.at)}))
        .collect();
    let metrics = &console.parts.metrics;
    console.render(
        &session,
        "overview.html",
        json!({
            "title": "Overview",
            "status": status,
            "problem": problem,
            "last_run": last,
            "queue_depth": metrics.queue_depth.get(),
            "writes_chart": writes,
            "lag_chart": lag_chart,
            "failures": failures,
            "held": held,
            "breaker_reason": metrics.breaker(),
            "approved": query.approved.is_some(),
        }),
    )
}

/// `POST /approve`: a full reconciliation with the breaker off sends the held writes.
pub async fn approve(
    State(console): State<Console>,
    Extension(session): Extension<Session>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !Access::csrf_ok(&session, &form.csrf) {
        return csrf_refused();
    }
    if console.parts.changes.send(Change::AcceptDrops).is_err() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is stopping; run `stockbridge sync --accept-drops` instead\n",
        )
            .into_response();
    }
    tracing::warn!("the writes held by the mass-drop breaker were approved in the console");
    Redirect::to("/?approved=1").into_response()
}

#[cfg(test)]
mod tests {
    use stockbridge_domain::{ProductId, Quantity, SkuId, WarehouseId};
    use stockbridge_ports::Trigger;

    use super::*;

    /// 2026-01-01T10:30:00Z.
    fn half_past_ten() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_263_400)
    }

    fn entry(at: SystemTime, outcome: AuditOutcome) -> AuditEntry {
        AuditEntry {
            at,
            run_id: None,
            product_id: ProductId::new("9001").unwrap(),
            sku_id: SkuId::new("90011").unwrap(),
            seller_sku: "TEE".into(),
            warehouse: WarehouseId::new("7001").unwrap(),
            old: None,
            new: Quantity::new(1).unwrap(),
            explanation: String::new(),
            trigger: Trigger::Sync,
            outcome,
        }
    }

    #[test]
    fn writes_fall_in_their_utc_hour_and_older_than_a_day_are_left_out() {
        let now = half_past_ten();
        let hour = Duration::from_secs(3600);
        let failed = AuditOutcome::Failed {
            message: "timeout".into(),
        };
        let entries = vec![
            entry(now, AuditOutcome::Applied),
            entry(now - Duration::from_secs(60), failed.clone()),
            entry(now - hour, AuditOutcome::Applied),
            entry(
                now - 23 * hour - Duration::from_secs(1800),
                AuditOutcome::Applied,
            ),
            entry(now - 24 * hour, AuditOutcome::Applied),
        ];
        let buckets = writes_per_hour(&entries, now);
        assert_eq!(buckets.len(), 24);
        assert_eq!(buckets[23], ("10h".into(), 1, 1));
        assert_eq!(buckets[22], ("09h".into(), 1, 0));
        assert_eq!(
            buckets[0],
            ("11h".into(), 1, 0),
            "11:00 yesterday is the first hour"
        );
        let total: u64 = buckets.iter().map(|b| b.1 + b.2).sum();
        assert_eq!(total, 4, "10:30 yesterday is outside the last 24 hours");
    }

    #[test]
    fn the_lag_chart_has_the_longest_lag_of_each_hour_with_changes() {
        let now = half_past_ten();
        let lags = vec![
            (now, Duration::from_millis(300)),
            (now - Duration::from_secs(60), Duration::from_millis(1200)),
            (now - Duration::from_secs(7200), Duration::from_millis(80)),
        ];
        assert_eq!(
            longest_lag_per_hour(&lags, now),
            vec![
                ("08h longest ms".into(), 80),
                ("10h longest ms".into(), 1200)
            ]
        );
    }
}
