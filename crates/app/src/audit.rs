//! `stockbridge audit`: the audit log read back, newest first, so an operator can see every
//! number that was pushed, when, why (its explanation), what caused it and how it ended.

use std::path::Path;

use serde::Serialize;
use stockbridge_ports::{AuditEntry, AuditOutcome};

use crate::error::CommandError;
use crate::history::open_state_store;
use crate::report::Format;

/// How many of the newest entries are searched when filtering by SKU.
const SEARCH_DEPTH: usize = 100_000;

/// An audit entry as `audit --format json` and the console show it.
#[derive(Serialize)]
pub(crate) struct JsonEntry<'a> {
    at: String,
    run_id: Option<i64>,
    trigger: String,
    sku: &'a str,
    tiktok_product_id: &'a str,
    tiktok_sku_id: &'a str,
    warehouse_id: &'a str,
    old: Option<u32>,
    new: u32,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    explanation: &'a str,
}

fn outcome_parts(outcome: &AuditOutcome) -> (&'static str, Option<&str>, Option<&str>) {
    match outcome {
        AuditOutcome::Applied => ("applied", None, None),
        AuditOutcome::Rejected { code, message } => ("rejected", Some(code), Some(message)),
        AuditOutcome::Failed { message } => ("failed", None, Some(message)),
    }
}

/// An audit entry as `audit --format json` and the console show it.
pub(crate) fn json_entry(e: &AuditEntry) -> JsonEntry<'_> {
    let (outcome, code, message) = outcome_parts(&e.outcome);
    JsonEntry {
        at: humantime::format_rfc3339_millis(e.at).to_string(),
        run_id: e.run_id.map(|r| r.0),
        trigger: e.trigger.to_string(),
        sku: &e.seller_sku,
        tiktok_product_id: e.product_id.as_str(),
        tiktok_sku_id: e.sku_id.as_str(),
        warehouse_id: e.warehouse.as_str(),
        old: e.old.map(|q| q.get()),
        new: e.new.get(),
        outcome,
        code,
        message,
        explanation: &e.explanation,
    }
}

fn table(entries: &[AuditEntry]) -> String {
    let mut out = String::new();
    for e in entries {
        let (outcome, code, message) = outcome_parts(&e.outcome);
        let old = e.old.map_or("?".to_owned(), |q| q.to_string());
        let why = match (code, message) {
            (Some(code), Some(message)) => format!(" ({code} {message})"),
            (None, Some(message)) => format!(" ({message})"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "{}  {:<10} {} in {}: {old} -> {}  {outcome}{why}\n    {}\n",
            humantime::format_rfc3339_seconds(e.at),
            e.trigger.to_string(),
            e.seller_sku,
            e.warehouse,
            e.new,
            e.explanation
        ));
    }
    if entries.is_empty() {
        out.push_str("no writes recorded\n");
    }
    out
}

/// Runs `stockbridge audit`.
pub async fn run(
    config: &Path,
    sku: Option<&str>,
    limit: usize,
    format: Format,
) -> Result<(), CommandError> {
    let (store, location) = open_state_store(config).await?;
    let depth = if sku.is_some() { SEARCH_DEPTH } else { limit };
    let entries = store
        .audit_log(depth)
        .await
        .map_err(|e| CommandError::failed(anyhow::anyhow!("state store {location}: {e}")))?;
    let entries: Vec<AuditEntry> = entries
        .into_iter()
        .filter(|e| sku.is_none_or(|s| e.seller_sku == s || e.sku_id.as_str() == s))
        .take(limit)
        .collect();
    match format {
        Format::Json => {
            let lines: Vec<JsonEntry<'_>> = entries.iter().map(json_entry).collect();
            println!("{}", serde_json::json!({ "entries": lines }));
        }
        Format::Table => print!("{}", table(&entries)),
    }
    Ok(())
}
