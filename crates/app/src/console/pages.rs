//! The pages that read: the overview, the plan, a SKU, the runs and the audit log; and the
//! approval of the writes the breaker holds.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use minijinja::Value;
use serde::Deserialize;
use serde_json::json;
use stockbridge_domain::{PlanLine, Warning};
use stockbridge_ports::{AuditEntry, AuditOutcome};

use super::access::{csrf_refused, Access, CsrfForm, Session};
use super::{chart, render, Console};
use crate::audit::json_entry;
use crate::engine::Change;
use crate::report::json_line;
use crate::runs::{duration, json_run};

/// How many of the newest audit entries the pages search.
const AUDIT_DEPTH: usize = 20_000;
/// Plan lines per page.
pub const PAGE_SIZE: usize = 100;
/// Entries the runs and audit pages list at most.
const LIST_LIMIT: usize = 500;

impl Console {
    /// Renders a guarded page with the session's CSRF token and login state.
    pub(super) fn render(
        &self,
        session: &Session,
        name: &str,
        context: serde_json::Value,
    ) -> Response {
        let mut context = context;
        context["csrf"] = json!(session.csrf);
        context["logged_in"] = json!(session.logged_in);
        self.templates
            .page(StatusCode::OK, name, Value::from_serialize(&context))
    }

    async fn audit(&self) -> Result<Vec<AuditEntry>, Response> {
        self.parts
            .stores
            .store
            .audit_log(AUDIT_DEPTH)
            .await
            .map_err(store_failed)
    }

    /// `ok`, `starting` or `degraded`, and why.
    async fn health(&self) -> (&'static str, Option<String>) {
        if !*self.parts.ready.borrow() {
            return ("starting", None);
        }
        let metrics = &self.parts.metrics;
        let breaker =
            crate::serve::breaker_problem(metrics, self.parts.stores.store.as_ref()).await;
        match metrics.configuration_problem().or(breaker) {
            None => ("ok", None),
            Some(problem) => ("degraded", Some(problem)),
        }
    }
}

fn store_failed(e: impl std::fmt::Display) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the state store could not be read: {e}\n"),
    )
        .into_response()
}

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

/// `GET /plan` filters.
#[derive(Deserialize, Default)]
pub struct PlanQuery {
    #[serde(default)]
    filter: String,
    #[serde(default)]
    sku: String,
    #[serde(default)]
    page: usize,
}

/// SKUs the plan's warnings name.
fn warned_skus(warnings: &[Warning]) -> HashSet<&str> {
    warnings
        .iter()
        .filter_map(|w| match w {
            Warning::OfferedMoreThanOnce { sku, .. }
            | Warning::NotStockedInWarehouse { sku, .. } => Some(sku.as_str()),
            _ => None,
        })
        .collect()
}

/// Whether a line passes the plan page's filters.
pub fn keep(line: &PlanLine, filter: &str, sku: &str, warned: &HashSet<&str>) -> bool {
    let by_filter = match filter {
        "changed" => line.changed(),
        "zero" => line.zeroes(),
        "warnings" => warned.contains(line.sku.as_str()),
        _ => true,
    };
    by_filter && (sku.is_empty() || line.sku.contains(sku) || line.sku_id.as_str() == sku)
}

/// `GET /plan`: the last full reconciliation's plan, filtered, a page at a time.
pub async fn plan(
    State(console): State<Console>,
    Extension(session): Extension<Session>,
    Query(query): Query<PlanQuery>,
) -> Response {
    let Some(latest) = console.parts.latest.get() else {
        return console.render(
            &session,
            "plan.html",
            json!({"title": "Plan", "none": true}),
        );
    };
    let plan = &latest.plan;
    let warned = warned_skus(&plan.warnings);
    let sku = query.sku.trim();
    let mut matching = 0;
    let mut lines = Vec::new();
    let first = query.page * PAGE_SIZE;
    for line in plan
        .lines
        .iter()
        .filter(|l| keep(l, &query.filter, sku, &warned))
    {
        if matching >= first && lines.len() < PAGE_SIZE {
            lines.push(serde_json::to_value(json_line(line, None)).unwrap_or_default());
        }
        matching += 1;
    }
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let s = &plan.summary;
    console.render(
        &session,
        "plan.html",
        json!({
            "title": "Plan",
            "at": render::time(latest.at),
            "run_id": latest.run_id.0,
            "summary": {"lines": s.lines, "changed": s.changed, "up": s.up, "down": s.down,
                        "zeroed": s.zeroed, "units_before": s.units_before, "units_after": s.units_after},
            "warnings": plan.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "lines": lines,
            "matching": matching,
            "filter": query.filter,
            "sku": sku,
            "page": query.page,
            "pages": pages,
            "previous": query.page.checked_sub(1),
            "next": (query.page + 1 < pages).then_some(query.page + 1),
        }),
    )
}

/// `GET /skus?sku=X`.
#[derive(Deserialize)]
pub struct FindQuery {
    #[serde(default)]
    sku: String,
}

/// `GET /skus?sku=X`: to the SKU's page.
pub async fn find_sku(Query(query): Query<FindQuery>) -> Response {
    let sku: String = query.sku.trim().to_owned();
    let encoded: String = sku
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    Redirect::to(&format!("/skus/{encoded}")).into_response()
}

/// `GET /skus/{sku}`: the SKU's plan lines, what TikTok holds, the numbers pushed (a chart)
/// and its audit entries. `sku` is the merchant SKU or a TikTok SKU id.
pub async fn sku(
    State(console): State<Console>,
    Extension(session): Extension<Session>,
    Path(sku): Path<String>,
) -> Response {
    let latest = console.parts.latest.get();
    let lines: Vec<&PlanLine> = latest
        .iter()
        .flat_map(|l| l.plan.lines.iter())
        .filter(|l| l.sku == sku || l.sku_id.as_str() == sku)
        .collect();
    let entries = match console.audit().await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let entries: Vec<&AuditEntry> = entries
        .iter()
        .filter(|e| e.seller_sku == sku || e.sku_id.as_str() == sku)
        .collect();
    let mut sku_ids: Vec<stockbridge_domain::SkuId> =
        lines.iter().map(|l| l.sku_id.clone()).collect();
    sku_ids.extend(entries.iter().map(|e| e.sku_id.clone()));
    sku_ids.sort();
    sku_ids.dedup();
    let confirmed = match console.parts.stores.store.confirmed(&sku_ids).await {
        Ok(c) => c,
        Err(e) => return store_failed(e),
    };
    let history: Vec<(String, u32)> = entries
        .iter()
        .rev()
        .filter(|e| e.outcome == AuditOutcome::Applied)
        .map(|e| {
            (
                format!("{} {}", render::time(e.at), e.warehouse),
                e.new.get(),
            )
        })
        .collect();
    console.render(
        &session,
        "sku.html",
        json!({
            "title": format!("SKU {sku}"),
            "sku": sku,
            "found": !lines.is_empty() || !entries.is_empty(),
            "lines": lines.iter().map(|l| json_line(l, None)).collect::<Vec<_>>(),
            "holds": confirmed.iter().map(|c| json!({"sku_id": c.sku_id.as_str(), "warehouse": c.warehouse.as_str(),
                        "quantity": c.quantity.get(), "at": render::time(c.at)})).collect::<Vec<_>>(),
            "history_points": history.len(),
            "history_chart": chart::points(&format!("numbers pushed for {sku}"), &history),
            "entries": entries.iter().take(LIST_LIMIT).map(|e| json_entry(e)).collect::<Vec<_>>(),
        }),
    )
}

/// `GET /runs` and `GET /audit` filters.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    sku: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    trigger: String,
}

/// `GET /runs`: the newest runs, filterable by outcome and kind.
pub async fn runs(
    State(console): State<Console>,
    Extension(session): Extension<Session>,
    Query(query): Query<ListQuery>,
) -> Response {
    let runs = match console.parts.stores.store.runs(LIST_LIMIT).await {
        Ok(r) => r,
        Err(e) => return store_failed(e),
    };
    let shown: Vec<serde_json::Value> = runs
        .iter()
        .map(|r| {
            let mut run = serde_json::to_value(json_run(r)).unwrap_or_default();
            run["took"] = json!(duration(r));
            run
        })
        .filter(|r| query.outcome.is_empty() || r["outcome"] == query.outcome.as_str())
        .filter(|r| query.trigger.is_empty() || r["kind"] == query.trigger.as_str())
        .collect();
    console.render(
        &session,
        "runs.html",
        json!({"title": "Runs", "runs": shown, "outcome": query.outcome, "trigger": query.trigger}),
    )
}

/// `GET /audit`: the newest audit entries, filterable by SKU, outcome and trigger.
pub async fn audit(
    State(console): State<Console>,
    Extension(session): Extension<Session>,
    Query(query): Query<ListQuery>,
) -> Response {
    let entries = match console.audit().await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let sku = query.sku.trim();
    let shown: Vec<serde_json::Value> = entries
        .iter()
        .filter(|e| sku.is_empty() || e.seller_sku == sku || e.sku_id.as_str() == sku)
        .filter(|e| query.trigger.is_empty() || e.trigger.to_string().starts_with(&query.trigger))
        .map(|e| serde_json::to_value(json_entry(e)).unwrap_or_default())
        .filter(|e| query.outcome.is_empty() || e["outcome"] == query.outcome.as_str())
        .take(LIST_LIMIT)
        .collect();
    console.render(
        &session,
        "audit.html",
        json!({"title": "Audit log", "entries": shown, "sku": sku, "outcome": query.outcome, "trigger": query.trigger}),
    )
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

    #[test]
    fn the_plan_filters_keep_changed_zeroing_warned_and_matching_lines() {
        let line = |sku: &str, current: i64, quantity: i64| PlanLine {
            sku: sku.into(),
            variant_id: stockbridge_domain::VariantId::new(1).unwrap(),
            inventory_item_id: stockbridge_domain::InventoryItemId::new(1).unwrap(),
            product_id: ProductId::new("9").unwrap(),
            sku_id: SkuId::new(format!("{sku}-id")).unwrap(),
            warehouse: WarehouseId::new("7001").unwrap(),
            warehouse_name: "α".into(),
            quantity: Quantity::new(quantity).unwrap(),
            current: Some(Quantity::new(current).unwrap()),
            explanation: String::new(),
            held: 0,
            held_orders: Vec::new(),
            bundle: false,
        };
        let warned: HashSet<&str> = ["MUG"].into_iter().collect();
        let (same, up, zero, mug) = (
            line("TEE", 5, 5),
            line("CAP", 1, 4),
            line("HAT", 3, 0),
            line("MUG", 2, 2),
        );
        // (filter, sku, [same, up, zero, mug])
        for (filter, sku, kept) in [
            ("", "", [true, true, true, true]),
            ("changed", "", [false, true, true, false]),
            ("zero", "", [false, false, true, false]),
            ("warnings", "", [false, false, false, true]),
            ("", "A", [false, true, true, false]),
            ("changed", "HAT-id", [false, false, true, false]),
        ] {
            let got = [&same, &up, &zero, &mug].map(|l| keep(l, filter, sku, &warned));
            assert_eq!(got, kept, "filter {filter:?} sku {sku:?}");
        }
    }
}
