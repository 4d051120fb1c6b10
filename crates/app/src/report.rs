//! What `plan` and `sync` print: the JSON object of cli.md, or a table for a person.

use serde::Serialize;
use stockbridge_domain::{Plan, PlanLine};

use crate::writer::{count_statuses, LineStatus};

/// One line of the JSON output.
#[derive(Debug, Serialize)]
pub struct JsonLine<'a> {
    sku: &'a str,
    shopify_variant_id: String,
    tiktok_product_id: &'a str,
    tiktok_sku_id: &'a str,
    warehouse_id: &'a str,
    warehouse_name: &'a str,
    quantity: u32,
    current: Option<u32>,
    changed: bool,
    explanation: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// The summary of the JSON output.
#[derive(Debug, Serialize)]
pub struct JsonSummary {
    variants: usize,
    tiktok_skus: usize,
    matched: usize,
    lines: usize,
    changed: usize,
    excluded: usize,
    ambiguous: usize,
    unmatched_variants: usize,
    unmatched_tiktok_skus: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unchanged: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failed: Option<u64>,
}

/// The whole JSON object.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    lines: Vec<JsonLine<'a>>,
    warnings: Vec<String>,
    summary: JsonSummary,
}

fn status_word(status: &LineStatus) -> (&'static str, Option<&str>) {
    match status {
        LineStatus::Updated => ("updated", None),
        LineStatus::Unchanged => ("unchanged", None),
        LineStatus::Failed(why) => ("failed", Some(why.as_str())),
    }
}

fn json_line<'a>(line: &'a PlanLine, status: Option<&'a LineStatus>) -> JsonLine<'a> {
    let (status, error) = match status.map(status_word) {
        Some((word, error)) => (Some(word), error),
        None => (None, None),
    };
    JsonLine {
        sku: &line.sku,
        shopify_variant_id: line.variant_id.to_string(),
        tiktok_product_id: line.product_id.as_str(),
        tiktok_sku_id: line.sku_id.as_str(),
        warehouse_id: line.warehouse.as_str(),
        warehouse_name: &line.warehouse_name,
        quantity: line.quantity.get(),
        current: line.current.map(|q| q.get()),
        changed: line.changed(),
        explanation: &line.explanation,
        status,
        error,
    }
}

/// The JSON object of a plan (`statuses` empty) or of a sync (one status per line).
pub fn json(plan: &Plan, statuses: &[LineStatus]) -> String {
    let s = &plan.summary;
    let counts = (!statuses.is_empty()).then(|| count_statuses(statuses));
    let report = JsonReport {
        lines: plan
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| json_line(l, statuses.get(i)))
            .collect(),
        warnings: plan.warnings.iter().map(ToString::to_string).collect(),
        summary: JsonSummary {
            variants: s.variants,
            tiktok_skus: s.tiktok_skus,
            matched: s.matched,
            lines: s.lines,
            changed: s.changed,
            excluded: s.excluded,
            ambiguous: s.ambiguous,
            unmatched_variants: s.unmatched_variants,
            unmatched_tiktok_skus: s.unmatched_tiktok_skus,
            updated: counts.map(|c| c.updated),
            unchanged: counts.map(|c| c.unchanged),
            failed: counts.map(|c| c.failed),
        },
    };
    serde_json::to_string_pretty(&report).expect("the report serialises")
}

/// A table for a terminal: SKU, warehouse, current → new, status, explanation; then
/// warnings and the summary.
pub fn table(plan: &Plan, statuses: &[LineStatus]) -> String {
    let mut rows: Vec<[String; 5]> = vec![[
        "SKU".into(),
        "WAREHOUSE".into(),
        "CURRENT -> NEW".into(),
        if statuses.is_empty() {
            "CHANGE".into()
        } else {
            "STATUS".into()
        },
        "EXPLANATION".into(),
    ]];
    for (i, line) in plan.lines.iter().enumerate() {
        let current = line.current.map_or("?".to_owned(), |c| c.to_string());
        let state = match statuses.get(i) {
            Some(LineStatus::Failed(why)) => format!("failed: {why}"),
            Some(status) => status_word(status).0.to_owned(),
            None if line.changed() => "change".into(),
            None => "same".into(),
        };
        rows.push([
            line.sku.clone(),
            format!("{} ({})", line.warehouse_name, line.warehouse),
            format!("{current} -> {}", line.quantity),
            state,
            line.explanation.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        for (c, cell) in row.iter().enumerate() {
            if c < 4 {
                out.push_str(cell);
                out.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            } else {
                out.push_str(cell);
            }
        }
        out.push('\n');
    }
    if plan.lines.is_empty() {
        out.push_str("(no lines: no TikTok SKU is matched to a Shopify variant)\n");
    }
    if !plan.warnings.is_empty() {
        out.push_str("\nWarnings:\n");
        for w in &plan.warnings {
            out.push_str(&format!("  - {w}\n"));
        }
    }
    let s = &plan.summary;
    out.push_str(&format!(
        "\n{} variants, {} TikTok SKUs, {} matched, {} lines, {} to change",
        s.variants, s.tiktok_skus, s.matched, s.lines, s.changed
    ));
    if !statuses.is_empty() {
        let c = count_statuses(statuses);
        out.push_str(&format!(
            "; {} updated, {} unchanged, {} failed",
            c.updated, c.unchanged, c.failed
        ));
    }
    out.push('\n');
    out
}
