//! What `plan` and `sync` print: the JSON object of cli.md, or a table for a person.

use serde::Serialize;
use stockbridge_domain::{Plan, PlanLine};

use crate::engine::{LineCounts, LineStatus};

/// How a command prints: `plan`, `sync`, `audit` and `runs` take `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// A table for a person.
    #[default]
    Table,
    /// The JSON object of the reference.
    Json,
}

/// Prints a plan, or the report of a sync when the lines' statuses are given.
pub fn print(format: Format, plan: &Plan, statuses: Option<&[LineStatus]>) {
    match format {
        Format::Json => println!("{}", json(plan, statuses)),
        Format::Table => print!("{}", table(plan, statuses)),
    }
}

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
    /// `true` on a bundle's line (its number comes from its components); absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    bundle: bool,
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
    up: usize,
    down: usize,
    zeroed: usize,
    units_before: u64,
    units_after: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unchanged: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    held_by_breaker: Option<usize>,
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
        LineStatus::Held => ("held", None),
    }
}

/// A plan line as the JSON output and the console show it.
pub(crate) fn json_line<'a>(line: &'a PlanLine, status: Option<&'a LineStatus>) -> JsonLine<'a> {
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
        bundle: line.bundle,
        status,
        error,
    }
}

/// The JSON object of a plan (`statuses` `None`) or of a sync (one status per line, and the
/// summary's `updated`, `unchanged` and `failed`, even when there are no lines).
pub fn json(plan: &Plan, statuses: Option<&[LineStatus]>) -> String {
    let s = &plan.summary;
    let counts = statuses.map(LineCounts::of);
    let statuses = statuses.unwrap_or_default();
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
            up: s.up,
            down: s.down,
            zeroed: s.zeroed,
            units_before: s.units_before,
            units_after: s.units_after,
            updated: counts.map(|c| c.updated),
            unchanged: counts.map(|c| c.unchanged),
            failed: counts.map(|c| c.failed),
            held_by_breaker: counts.map(|c| c.held as usize).filter(|n| *n > 0),
        },
    };
    serde_json::to_string_pretty(&report).expect("the report serialises")
}

/// A table for a terminal: SKU, warehouse, current → new, change (a plan, `statuses` `None`)
/// or status (a sync), explanation; then warnings and the summary.
pub fn table(plan: &Plan, statuses: Option<&[LineStatus]>) -> String {
    let counts = statuses.map(LineCounts::of);
    let statuses = statuses.unwrap_or_default();
    let mut rows: Vec<[String; 5]> = vec![[
        "SKU".into(),
        "WAREHOUSE".into(),
        "CURRENT -> NEW".into(),
        if counts.is_none() {
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
        "\n{}, {}, {} matched, {}, {} to change ({} up, {} down, {} to 0); units {} -> {}",
        count(s.variants, "variant", "variants"),
        count(s.tiktok_skus, "TikTok SKU", "TikTok SKUs"),
        s.matched,
        count(s.lines, "line", "lines"),
        s.changed,
        s.up,
        s.down,
        s.zeroed,
        s.units_before,
        s.units_after
    ));
    if let Some(c) = counts {
        out.push_str(&format!(
            "; {} updated, {} unchanged, {} failed",
            c.updated, c.unchanged, c.failed
        ));
        let held = c.held;
        if held > 0 {
            out.push_str(&format!(", {held} held by the breaker"));
        }
    }
    out.push('\n');
    out
}

/// `1 line`, `2 lines`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use stockbridge_domain::{Plan, PlanSummary};

    use super::*;

    fn empty_plan(variants: usize) -> Plan {
        Plan {
            summary: PlanSummary {
                variants,
                tiktok_skus: 1,
                ..PlanSummary::default()
            },
            ..Plan::default()
        }
    }

    #[test]
    fn a_sync_with_no_lines_still_reports_its_counts_in_json() {
        let plan = empty_plan(2);
        let sync: serde_json::Value = serde_json::from_str(&json(&plan, Some(&[]))).expect("json");
        assert_eq!(sync["summary"]["updated"], 0);
        assert_eq!(sync["summary"]["unchanged"], 0);
        assert_eq!(sync["summary"]["failed"], 0);
        let planned: serde_json::Value = serde_json::from_str(&json(&plan, None)).expect("json");
        assert!(planned["summary"].get("updated").is_none(), "{planned}");
    }

    #[test]
    fn a_sync_with_no_lines_shows_a_status_column_and_its_counts_in_the_table() {
        let plan = empty_plan(2);
        let sync = table(&plan, Some(&[]));
        assert!(sync.starts_with("SKU") && sync.contains("STATUS"), "{sync}");
        assert!(!sync.contains("CHANGE"), "{sync}");
        assert!(sync.contains("0 updated, 0 unchanged, 0 failed"), "{sync}");
        let planned = table(&plan, None);
        assert!(
            planned.contains("CHANGE") && !planned.contains("updated"),
            "{planned}"
        );
    }

    #[test]
    fn the_table_summary_says_one_line_and_two_variants() {
        let mut plan = empty_plan(2);
        plan.summary.lines = 1;
        let text = table(&plan, None);
        assert!(
            text.contains("2 variants, 1 TikTok SKU, 0 matched, 1 line, 0 to change"),
            "{text}"
        );
    }
}
