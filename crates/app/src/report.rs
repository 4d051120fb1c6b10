//! What `plan` and `sync` print: the JSON object of cli.md, or a table for a person.

use std::io::{self, Write};

use serde::{Serialize, Serializer};
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

/// Prints a plan, or the report of a sync when the lines' statuses are given. The JSON object
/// goes to standard output as it is serialised, a few bytes at a time through a buffer, so a
/// plan of any size is never held whole as text; a table is written row by row.
pub fn print(format: Format, plan: &Plan, statuses: Option<&[LineStatus]>) {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match format {
        Format::Json => write_json(&mut out, plan, statuses).and_then(|()| out.write_all(b"\n")),
        Format::Table => write_table(&mut out, plan, statuses),
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        // What `println!` does when standard output is gone.
        panic!("failed printing to stdout: {e}");
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
    /// Units held by TikTok orders Shopify does not know yet (sync-rules.md §7).
    held: u64,
    /// The TikTok orders behind `held`.
    held_orders: Vec<&'a str>,
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
    lines: JsonLines<'a>,
    warnings: Vec<String>,
    summary: JsonSummary,
}

/// The plan's lines as the JSON array, each made as it is serialised (never all at once).
#[derive(Debug)]
struct JsonLines<'a> {
    plan: &'a Plan,
    statuses: &'a [LineStatus],
}

impl Serialize for JsonLines<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.plan
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| json_line(l, self.statuses.get(i))),
        )
    }
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
        held: line.held,
        held_orders: line.held_orders.iter().map(|o| o.as_str()).collect(),
        bundle: line.bundle,
        status,
        error,
    }
}

/// The JSON object of a plan (`statuses` `None`) or of a sync (one status per line, and the
/// summary's `updated`, `unchanged` and `failed`, even when there are no lines).
pub fn json(plan: &Plan, statuses: Option<&[LineStatus]>) -> String {
    let mut out = Vec::new();
    write_json(&mut out, plan, statuses).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Writes [`json`]'s object to `out` as it is serialised: each line is made, written and
/// dropped in turn, so the output of a plan of any size is never held whole.
pub fn write_json(
    out: &mut impl Write,
    plan: &Plan,
    statuses: Option<&[LineStatus]>,
) -> io::Result<()> {
    let s = &plan.summary;
    let counts = statuses.map(LineCounts::of);
    let report = JsonReport {
        lines: JsonLines {
            plan,
            statuses: statuses.unwrap_or_default(),
        },
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
    report
        .serialize(&mut serde_json::Serializer::pretty(out))
        .map_err(io::Error::from)
}

/// A table for a terminal: SKU, warehouse, current → new, change (a plan, `statuses` `None`)
/// or status (a sync), explanation; then warnings and the summary.
pub fn table(plan: &Plan, statuses: Option<&[LineStatus]>) -> String {
    let mut out = Vec::new();
    write_table(&mut out, plan, statuses).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("the table is UTF-8")
}

/// The first four cells of a line's row in the table.
fn cells(line: &PlanLine, status: Option<&LineStatus>) -> [String; 4] {
    let current = line.current.map_or("?".to_owned(), |c| c.to_string());
    let state = match status {
        Some(LineStatus::Failed(why)) => format!("failed: {why}"),
        Some(status) => status_word(status).0.to_owned(),
        None if line.changed() => "change".into(),
        None => "same".into(),
    };
    [
        line.sku.clone(),
        format!("{} ({})", line.warehouse_name, line.warehouse),
        format!("{current} -> {}", line.quantity),
        state,
    ]
}

/// Writes [`table`]'s text to `out` row by row: one pass over the lines measures the
/// columns, a second writes them, so no row is kept.
pub fn write_table(
    out: &mut impl Write,
    plan: &Plan,
    statuses: Option<&[LineStatus]>,
) -> io::Result<()> {
    let counts = statuses.map(LineCounts::of);
    let statuses = statuses.unwrap_or_default();
    let header = [
        "SKU",
        "WAREHOUSE",
        "CURRENT -> NEW",
        if counts.is_none() { "CHANGE" } else { "STATUS" },
    ];
    let mut widths = header.map(|h| h.chars().count());
    for (i, line) in plan.lines.iter().enumerate() {
        for (width, cell) in widths.iter_mut().zip(cells(line, statuses.get(i))) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let row = |out: &mut dyn Write, cells: [&str; 4], explanation: &str| -> io::Result<()> {
        for (cell, width) in cells.into_iter().zip(widths) {
            write!(
                out,
                "{cell}{}",
                " ".repeat(width - cell.chars().count() + 2)
            )?;
        }
        writeln!(out, "{explanation}")
    };
    row(out, header, "EXPLANATION")?;
    for (i, line) in plan.lines.iter().enumerate() {
        let cells = cells(line, statuses.get(i));
        row(out, cells.each_ref().map(String::as_str), &line.explanation)?;
    }
    // What follows the rows is short: held lines, warnings, the summary.
    let mut rest = String::new();
    if plan.lines.is_empty() {
        rest.push_str("(no lines: no TikTok SKU is matched to a Shopify variant)\n");
    }
    let held: Vec<&PlanLine> = plan.lines.iter().filter(|l| l.held > 0).collect();
    if !held.is_empty() {
        rest.push_str("\nHeld for TikTok orders Shopify does not have yet:\n");
        for line in held {
            let orders: Vec<&str> = line.held_orders.iter().map(|o| o.as_str()).collect();
            rest.push_str(&format!(
                "  - {} in {}: {} held by TikTok orders {}\n",
                line.sku,
                line.warehouse_name,
                line.held,
                orders.join(", ")
            ));
        }
    }
    if !plan.warnings.is_empty() {
        rest.push_str("\nWarnings:\n");
        for w in &plan.warnings {
            rest.push_str(&format!("  - {w}\n"));
        }
    }
    let s = &plan.summary;
    rest.push_str(&format!(
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
        rest.push_str(&format!(
            "; {} updated, {} unchanged, {} failed",
            c.updated, c.unchanged, c.failed
        ));
        let held = c.held;
        if held > 0 {
            rest.push_str(&format!(", {held} held by the breaker"));
        }
    }
    rest.push('\n');
    out.write_all(rest.as_bytes())
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

    /// A plan of `n` lines, every other one changed.
    fn plan_of(n: usize) -> Plan {
        use stockbridge_domain::{InventoryItemId, ProductId, Quantity, SkuId, VariantId};
        let lines: Vec<PlanLine> = (1..=n)
            .map(|i| PlanLine {
                sku: format!("SKU-{i}"),
                variant_id: VariantId::new(i as u64).unwrap(),
                inventory_item_id: InventoryItemId::new(i as u64).unwrap(),
                product_id: ProductId::new(format!("{}", 1000 + i / 2)).unwrap(),
                sku_id: SkuId::new(format!("{}", 70_000 + i)).unwrap(),
                warehouse: stockbridge_domain::WarehouseId::new("7001").unwrap(),
                warehouse_name: "Main".into(),
                quantity: Quantity::new((i % 7) as i64).unwrap(),
                current: Some(Quantity::new((i % 2) as i64).unwrap()),
                explanation: format!("Location 1 {} = {}", i % 7, i % 7),
                held: 0,
                held_orders: Vec::new(),
                bundle: false,
            })
            .collect();
        let mut plan = Plan {
            lines,
            ..empty_plan(n)
        };
        plan.summary.lines = n;
        plan
    }

    /// A writer that keeps what it is given and the largest single write.
    #[derive(Default)]
    struct Pieces {
        bytes: Vec<u8>,
        largest: usize,
    }

    impl Write for Pieces {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.largest = self.largest.max(buf.len());
            self.bytes.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_json_output_is_written_piece_by_piece_as_the_whole_object_would_print() {
        let plan = plan_of(1_000);
        let statuses: Vec<LineStatus> = (0..1_000)
            .map(|i| match i % 3 {
                0 => LineStatus::Updated,
                1 => LineStatus::Unchanged,
                _ => LineStatus::Failed("TikTok Shop refused it".into()),
            })
            .collect();
        for statuses in [None, Some(statuses.as_slice())] {
            let mut out = Pieces::default();
            write_json(&mut out, &plan, statuses).unwrap();
            // The contract: the same bytes as the object serialised whole.
            #[derive(Serialize)]
            struct Whole<'a> {
                lines: Vec<JsonLine<'a>>,
                warnings: Vec<String>,
                summary: serde_json::Value,
            }
            let streamed: serde_json::Value = serde_json::from_slice(&out.bytes).unwrap();
            let whole = Whole {
                lines: plan
                    .lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| json_line(l, statuses.and_then(|s| s.get(i))))
                    .collect(),
                warnings: Vec::new(),
                summary: streamed["summary"].clone(),
            };
            let expected = serde_json::to_string_pretty(&whole).unwrap();
            let got = String::from_utf8(out.bytes).unwrap();
            // The summary's keys come back sorted from a `Value`: compare the lines apart.
            let cut = |text: &str| text[..text.find("\"warnings\"").unwrap()].to_owned();
            assert_eq!(cut(&got), cut(&expected));
            assert_eq!(got, json(&plan, statuses));
            // Written as it is serialised: no piece holds more than a value or two.
            assert!(out.largest < 100, "largest write {} bytes", out.largest);
        }
    }

    #[test]
    fn the_table_is_written_row_by_row_aligned_on_the_widest_cell() {
        let plan = plan_of(12);
        let mut out = Pieces::default();
        write_table(&mut out, &plan, None).unwrap();
        let text = String::from_utf8(out.bytes).unwrap();
        assert_eq!(text, table(&plan, None));
        let rows: Vec<&str> = text.lines().take(13).collect();
        assert!(
            rows[0].starts_with("SKU     WAREHOUSE    CURRENT -> NEW  CHANGE  EXPLANATION"),
            "{text}"
        );
        assert!(
            rows[1].starts_with("SKU-1   Main (7001)  1 -> 1          same    Location 1 1 = 1"),
            "{text}"
        );
        assert!(
            rows[12].starts_with("SKU-12  Main (7001)  0 -> 5          change  Location 1 5 = 5"),
            "{text}"
        );
        // Rows go out a cell at a time; only the short summary after them goes in one piece.
        assert!(out.largest < 200, "largest write {} bytes", out.largest);
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
