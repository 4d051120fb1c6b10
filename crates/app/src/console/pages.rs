//! The pages that read the plan and the history: the plan, a SKU, the runs and the audit
//! log; and what every page shares (rendering with the session, the state store's errors).

use std::collections::HashSet;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use minijinja::Value;
use serde::Deserialize;
use serde_json::json;
use stockbridge_domain::{PlanLine, Warning};
use stockbridge_ports::{AuditEntry, AuditOutcome};

use super::access::Session;
use super::{chart, render, Console};
use crate::audit::json_entry;
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

    pub(super) async fn audit(&self) -> Result<Vec<AuditEntry>, Response> {
        self.parts
            .stores
            .store
            .audit_log(AUDIT_DEPTH)
            .await
            .map_err(store_failed)
    }

    /// `ok`, `starting` or `degraded`, and why.
    pub(super) async fn health(&self) -> (&'static str, Option<String>) {
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
pub(super) fn store_failed(e: impl std::fmt::Display) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the state store could not be read: {e}\n"),
    )
        .into_response()
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

    use super::*;

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
