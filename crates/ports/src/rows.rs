//! What a SQL state store keeps of its records, engine by engine the same: the columns each
//! record is read back from, the text forms of kinds and outcomes, and the reading of a row
//! into a record with the error a corrupt row gives. An adapter keeps its SQL dialect, its
//! connection and its column types; it reads a row through [`StoredRow`] and hands it here.

use std::fmt;
use std::time::SystemTime;

use stockbridge_domain::{ProductId, Quantity, SkuId, WarehouseId};

use crate::error::StoreError;
use crate::store::{
    AuditEntry, AuditOutcome, ConfirmedQuantity, HeldWrite, RunCounts, RunId, RunKind, RunOutcome,
    RunRecord, Trigger,
};

/// One row read back from a SQL store, column by column, by index in the `SELECT` list.
/// Each method fails with the store's own error when the column does not read as its type
/// (for a time: when the stored value is no time).
pub trait StoredRow {
    /// An integer column.
    fn int(&self, index: usize) -> Result<i64, StoreError>;
    /// An integer column that may be `NULL`.
    fn optional_int(&self, index: usize) -> Result<Option<i64>, StoreError>;
    /// A text column.
    fn text(&self, index: usize) -> Result<String, StoreError>;
    /// A text column that may be `NULL`.
    fn optional_text(&self, index: usize) -> Result<Option<String>, StoreError>;
    /// A time column, however the engine stores times.
    fn time(&self, index: usize) -> Result<SystemTime, StoreError>;
    /// A time column that may be `NULL`.
    fn optional_time(&self, index: usize) -> Result<Option<SystemTime>, StoreError>;
}

fn corrupt(message: String) -> StoreError {
    StoreError::Corrupt { message }
}

/// The columns [`audit_entry`] reads, in its order.
pub const AUDIT_COLUMNS: &str = "id, at, run_id, product_id, sku_id, seller_sku, warehouse_id, \
                                 old, new, explanation, \"trigger\", outcome, code, message";

/// How an audit row stores an outcome: its name, TikTok's code, the message.
pub fn audit_outcome_columns(outcome: &AuditOutcome) -> (&'static str, Option<&str>, Option<&str>) {
    match outcome {
        AuditOutcome::Applied => ("applied", None, None),
        AuditOutcome::Rejected { code, message } => ("rejected", Some(code), Some(message)),
        AuditOutcome::Failed { message } => ("failed", None, Some(message)),
    }
}

/// An audit entry from a row of [`AUDIT_COLUMNS`].
pub fn audit_entry(row: &impl StoredRow) -> Result<AuditEntry, StoreError> {
    let id = row.int(0)?;
    let unreadable = |err: &dyn fmt::Display| corrupt(format!("audit entry {id}: {err}"));
    let outcome = match (
        row.text(11)?.as_str(),
        row.optional_text(12)?,
        row.optional_text(13)?,
    ) {
        ("applied", _, _) => AuditOutcome::Applied,
        ("rejected", Some(code), Some(message)) => AuditOutcome::Rejected { code, message },
        ("failed", _, Some(message)) => AuditOutcome::Failed { message },
        (other, _, _) => {
            return Err(unreadable(&format_args!(
                "outcome {other:?} without its code or message"
            )))
        }
    };
    let trigger = row.text(10)?;
    Ok(AuditEntry {
        at: row.time(1)?,
        run_id: row.optional_int(2)?.map(RunId),
        product_id: ProductId::new(row.text(3)?).map_err(|e| unreadable(&e))?,
        sku_id: SkuId::new(row.text(4)?).map_err(|e| unreadable(&e))?,
        seller_sku: row.text(5)?,
        warehouse: WarehouseId::new(row.text(6)?).map_err(|e| unreadable(&e))?,
        old: row
            .optional_int(7)?
            .map(Quantity::new)
            .transpose()
            .map_err(|e| unreadable(&e))?,
        new: Quantity::new(row.int(8)?).map_err(|e| unreadable(&e))?,
        explanation: row.text(9)?,
        trigger: Trigger::parse(&trigger)
            .ok_or_else(|| unreadable(&format_args!("unknown trigger {trigger:?}")))?,
        outcome,
    })
}

/// The columns [`confirmed_quantity`] reads, in its order.
pub const CONFIRMED_COLUMNS: &str = "sku_id, warehouse_id, quantity, confirmed_at";

/// A confirmed quantity from a row of [`CONFIRMED_COLUMNS`].
pub fn confirmed_quantity(row: &impl StoredRow) -> Result<ConfirmedQuantity, StoreError> {
    let (sku, warehouse) = (row.text(0)?, row.text(1)?);
    let unreadable = |err: &dyn fmt::Display| {
        corrupt(format!(
            "confirmed quantity of SKU {sku:?} in warehouse {warehouse:?}: {err}"
        ))
    };
    Ok(ConfirmedQuantity {
        sku_id: SkuId::new(&sku).map_err(|e| unreadable(&e))?,
        warehouse: WarehouseId::new(&warehouse).map_err(|e| unreadable(&e))?,
        quantity: Quantity::new(row.int(2)?).map_err(|e| unreadable(&e))?,
        at: row.time(3)?,
    })
}

/// The columns [`held_write`] reads, in its order.
pub const HELD_COLUMNS: &str =
    "sku_id, warehouse_id, held_at, run_id, product_id, seller_sku, old, explanation";

/// A held write from a row of [`HELD_COLUMNS`].
pub fn held_write(row: &impl StoredRow) -> Result<HeldWrite, StoreError> {
    let (sku, warehouse) = (row.text(0)?, row.text(1)?);
    let unreadable = |err: &dyn fmt::Display| {
        corrupt(format!(
            "held write of SKU {sku:?} in warehouse {warehouse:?}: {err}"
        ))
    };
    Ok(HeldWrite {
        at: row.time(2)?,
        run_id: row.optional_int(3)?.map(RunId),
        product_id: ProductId::new(row.text(4)?).map_err(|e| unreadable(&e))?,
        sku_id: SkuId::new(&sku).map_err(|e| unreadable(&e))?,
        seller_sku: row.text(5)?,
        warehouse: WarehouseId::new(&warehouse).map_err(|e| unreadable(&e))?,
        old: Quantity::new(row.int(6)?).map_err(|e| unreadable(&e))?,
        explanation: row.text(7)?,
    })
}

/// The columns [`run_record`] reads, in its order.
pub const RUN_COLUMNS: &str = "id, kind, started_at, finished_at, lines, updated, unchanged, \
                               failed, outcome, outcome_detail";

/// How a run row stores its kind.
pub fn run_kind_column(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Sync => "sync",
        RunKind::Reconcile => "reconcile",
    }
}

/// How a run row stores its outcome: its name, and the reason of an aborted run.
pub fn run_outcome_columns(outcome: &RunOutcome) -> (&'static str, Option<&str>) {
    match outcome {
        RunOutcome::Running => ("running", None),
        RunOutcome::Succeeded => ("succeeded", None),
        RunOutcome::PartlyFailed => ("partly_failed", None),
        RunOutcome::Aborted(reason) => ("aborted", Some(reason)),
    }
}

/// A run from a row of [`RUN_COLUMNS`].
pub fn run_record(row: &impl StoredRow) -> Result<RunRecord, StoreError> {
    let id = row.int(0)?;
    let kind = match row.text(1)?.as_str() {
        "sync" => RunKind::Sync,
        "reconcile" => RunKind::Reconcile,
        other => return Err(corrupt(format!("run {id}: unknown kind {other:?}"))),
    };
    let outcome = match (row.text(8)?.as_str(), row.optional_text(9)?) {
        ("running", _) => RunOutcome::Running,
        ("succeeded", _) => RunOutcome::Succeeded,
        ("partly_failed", _) => RunOutcome::PartlyFailed,
        ("aborted", detail) => RunOutcome::Aborted(detail.unwrap_or_default()),
        (other, _) => return Err(corrupt(format!("run {id}: unknown outcome {other:?}"))),
    };
    let count = |index: usize| -> Result<u64, StoreError> {
        u64::try_from(row.int(index)?).map_err(|_| corrupt(format!("run {id}: negative count")))
    };
    Ok(RunRecord {
        id: RunId(id),
        kind,
        started_at: row.time(2)?,
        finished_at: row.optional_time(3)?,
        counts: RunCounts {
            lines: count(4)?,
            updated: count(5)?,
            unchanged: count(6)?,
            failed: count(7)?,
        },
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    /// A row of loosely typed values, as a test writes it.
    #[derive(Clone)]
    enum Value {
        Int(i64),
        Text(&'static str),
        Time(u64),
        Null,
    }
    use Value::{Int, Null, Text, Time};

    struct Row(Vec<Value>);

    fn wrong(index: usize) -> StoreError {
        corrupt(format!("column {index} has another type"))
    }

    impl StoredRow for Row {
        fn int(&self, index: usize) -> Result<i64, StoreError> {
            self.optional_int(index)?.ok_or_else(|| wrong(index))
        }
        fn optional_int(&self, index: usize) -> Result<Option<i64>, StoreError> {
            match self.0[index] {
                Int(n) => Ok(Some(n)),
                Null => Ok(None),
                _ => Err(wrong(index)),
            }
        }
        fn text(&self, index: usize) -> Result<String, StoreError> {
            self.optional_text(index)?.ok_or_else(|| wrong(index))
        }
        fn optional_text(&self, index: usize) -> Result<Option<String>, StoreError> {
            match self.0[index] {
                Text(s) => Ok(Some(s.to_owned())),
                Null => Ok(None),
                _ => Err(wrong(index)),
            }
        }
        fn time(&self, index: usize) -> Result<SystemTime, StoreError> {
            self.optional_time(index)?.ok_or_else(|| wrong(index))
        }
        fn optional_time(&self, index: usize) -> Result<Option<SystemTime>, StoreError> {
            match self.0[index] {
                Time(ms) => Ok(Some(UNIX_EPOCH + Duration::from_millis(ms))),
                Null => Ok(None),
                _ => Err(wrong(index)),
            }
        }
    }

    fn corrupt_message(err: StoreError) -> String {
        match err {
            StoreError::Corrupt { message } => message,
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    fn audit_row() -> Vec<Value> {
        vec![
            Int(7),
            Time(1_000),
            Int(3),
            Text("p1"),
            Text("s1"),
            Text("A-1"),
            Text("w1"),
            Int(4),
            Int(2),
            Text("2 = 4 - 2"),
            Text("webhook:inventory_levels/update"),
            Text("rejected"),
            Text("12019004"),
            Text("too many"),
        ]
    }

    #[test]
    fn an_audit_row_reads_back_as_the_entry_written() {
        let entry = audit_entry(&Row(audit_row())).unwrap();
        assert_eq!(
            entry,
            AuditEntry {
                at: UNIX_EPOCH + Duration::from_secs(1),
                run_id: Some(RunId(3)),
                product_id: ProductId::new("p1").unwrap(),
                sku_id: SkuId::new("s1").unwrap(),
                seller_sku: "A-1".into(),
                warehouse: WarehouseId::new("w1").unwrap(),
                old: Some(Quantity::new(4).unwrap()),
                new: Quantity::new(2).unwrap(),
                explanation: "2 = 4 - 2".into(),
                trigger: Trigger::Webhook("inventory_levels/update".into()),
                outcome: AuditOutcome::Rejected {
                    code: "12019004".into(),
                    message: "too many".into(),
                },
            }
        );
        let (name, code, message) = audit_outcome_columns(&entry.outcome);
        assert_eq!(
            (name, code, message),
            ("rejected", Some("12019004"), Some("too many"))
        );
    }

    #[test]
    fn every_audit_outcome_round_trips_through_its_columns() {
        for outcome in [
            AuditOutcome::Applied,
            AuditOutcome::Failed {
                message: "timed out".into(),
            },
            AuditOutcome::Rejected {
                code: "1".into(),
                message: "no".into(),
            },
        ] {
            let (name, code, message) = audit_outcome_columns(&outcome);
            let mut row = audit_row();
            row[11] = Text(name.to_owned().leak());
            row[12] = code.map_or(Null, |c| Text(c.to_owned().leak()));
            row[13] = message.map_or(Null, |m| Text(m.to_owned().leak()));
            assert_eq!(audit_entry(&Row(row)).unwrap().outcome, outcome);
        }
    }

    #[test]
    fn a_corrupt_audit_row_names_the_entry_and_the_fault() {
        let mut row = audit_row();
        row[13] = Null;
        assert_eq!(
            corrupt_message(audit_entry(&Row(row)).unwrap_err()),
            "audit entry 7: outcome \"rejected\" without its code or message"
        );
        let mut row = audit_row();
        row[10] = Text("cron");
        assert_eq!(
            corrupt_message(audit_entry(&Row(row)).unwrap_err()),
            "audit entry 7: unknown trigger \"cron\""
        );
        let mut row = audit_row();
        row[8] = Int(-1);
        assert!(corrupt_message(audit_entry(&Row(row)).unwrap_err()).starts_with("audit entry 7: "));
        let mut row = audit_row();
        row[1] = Text("yesterday");
        assert_eq!(
            corrupt_message(audit_entry(&Row(row)).unwrap_err()),
            "column 1 has another type"
        );
    }

    #[test]
    fn a_confirmed_row_reads_back_and_a_bad_one_names_its_sku_and_warehouse() {
        let row = Row(vec![Text("s1"), Text("w1"), Int(5), Time(2_000)]);
        assert_eq!(
            confirmed_quantity(&row).unwrap(),
            ConfirmedQuantity {
                sku_id: SkuId::new("s1").unwrap(),
                warehouse: WarehouseId::new("w1").unwrap(),
                quantity: Quantity::new(5).unwrap(),
                at: UNIX_EPOCH + Duration::from_secs(2),
            }
        );
        let row = Row(vec![Text("s1"), Text("w1"), Int(-5), Time(2_000)]);
        assert!(corrupt_message(confirmed_quantity(&row).unwrap_err())
            .starts_with("confirmed quantity of SKU \"s1\" in warehouse \"w1\": "));
    }

    #[test]
    fn a_held_row_reads_back_and_a_bad_one_names_its_sku_and_warehouse() {
        let held = vec![
            Text("s1"),
            Text("w1"),
            Time(3_000),
            Null,
            Text("p1"),
            Text("A-1"),
            Int(9),
            Text("all sold"),
        ];
        assert_eq!(
            held_write(&Row(held.clone())).unwrap(),
            HeldWrite {
                at: UNIX_EPOCH + Duration::from_secs(3),
                run_id: None,
                product_id: ProductId::new("p1").unwrap(),
                sku_id: SkuId::new("s1").unwrap(),
                seller_sku: "A-1".into(),
                warehouse: WarehouseId::new("w1").unwrap(),
                old: Quantity::new(9).unwrap(),
                explanation: "all sold".into(),
            }
        );
        let mut bad = held;
        bad[4] = Text("");
        assert!(corrupt_message(held_write(&Row(bad)).unwrap_err())
            .starts_with("held write of SKU \"s1\" in warehouse \"w1\": "));
    }

    fn run_row(kind: &'static str, outcome: &'static str, detail: Value) -> Row {
        Row(vec![
            Int(4),
            Text(kind),
            Time(1_000),
            Null,
            Int(10),
            Int(6),
            Int(3),
            Int(1),
            Text(outcome),
            detail,
        ])
    }

    #[test]
    fn a_run_row_reads_back_with_its_kind_counts_and_outcome() {
        let run = run_record(&run_row("reconcile", "aborted", Text("disk full"))).unwrap();
        assert_eq!(
            run,
            RunRecord {
                id: RunId(4),
                kind: RunKind::Reconcile,
                started_at: UNIX_EPOCH + Duration::from_secs(1),
                finished_at: None,
                counts: RunCounts {
                    lines: 10,
                    updated: 6,
                    unchanged: 3,
                    failed: 1,
                },
                outcome: RunOutcome::Aborted("disk full".into()),
            }
        );
        assert_eq!(run_kind_column(run.kind), "reconcile");
        assert_eq!(
            run_outcome_columns(&run.outcome),
            ("aborted", Some("disk full"))
        );
    }

    #[test]
    fn every_run_kind_and_outcome_round_trips_through_its_columns() {
        for kind in [RunKind::Sync, RunKind::Reconcile] {
            for outcome in [
                RunOutcome::Running,
                RunOutcome::Succeeded,
                RunOutcome::PartlyFailed,
                RunOutcome::Aborted("stopped".into()),
            ] {
                let (name, detail) = run_outcome_columns(&outcome);
                let detail = detail.map_or(Null, |d| Text(d.to_owned().leak()));
                let run = run_record(&run_row(run_kind_column(kind), name, detail)).unwrap();
                assert_eq!((run.kind, run.outcome), (kind, outcome));
            }
        }
    }

    #[test]
    fn a_corrupt_run_row_names_the_run_and_the_fault() {
        let unknown_kind = run_record(&run_row("cron", "running", Null)).unwrap_err();
        assert_eq!(
            corrupt_message(unknown_kind),
            "run 4: unknown kind \"cron\""
        );
        let unknown_outcome = run_record(&run_row("sync", "done", Null)).unwrap_err();
        assert_eq!(
            corrupt_message(unknown_outcome),
            "run 4: unknown outcome \"done\""
        );
        let mut negative = run_row("sync", "running", Null);
        negative.0[6] = Int(-1);
        assert_eq!(
            corrupt_message(run_record(&negative).unwrap_err()),
            "run 4: negative count"
        );
    }
}
