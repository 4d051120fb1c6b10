//! `audit`: every pushed number with its explanation.

use super::*;

#[test]
fn audit_shows_every_pushed_number_with_its_explanation_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let cfg = config(
        dir.path(),
        &format!(
            "[state]\nurl = \"sqlite://{}\"\n[rules]\nquantity_percent = 80\n",
            state.display()
        ),
    );
    let fix = write(dir.path(), "fixture.json", SEED);
    let synced = run(
        &[
            "sync",
            "--config",
            cfg.to_str().unwrap(),
            "--sandbox",
            fix.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(synced.code, 0, "{}", synced.stderr);

    let all = run(
        &[
            "audit",
            "--config",
            cfg.to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(all.code, 0, "{}", all.stderr);
    let entries = all.json()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 4, "one entry per pushed number");
    assert!(entries
        .iter()
        .all(|e| e["trigger"] == "sync" && e["outcome"] == "applied"));

    let mug = run(
        &[
            "audit",
            "--config",
            cfg.to_str().unwrap(),
            "--sku",
            "MUG-BLUE",
            "--format",
            "json",
        ],
        &[],
    );
    let mug = mug.json()["entries"].as_array().unwrap().clone();
    assert_eq!(mug.len(), 1);
    assert_eq!(
        (mug[0]["old"].as_u64(), mug[0]["new"].as_u64()),
        (Some(12), Some(788))
    );
    assert_eq!(mug[0]["explanation"], "Location A 985 = 985; x 80% = 788");
    assert_eq!(mug[0]["tiktok_sku_id"], "90021");

    let table = run(
        &["audit", "--config", cfg.to_str().unwrap(), "--sku", "90021"],
        &[],
    );
    assert!(
        table
            .stdout
            .contains("MUG-BLUE in 7001: 12 -> 788  applied"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("Location A 985 = 985; x 80% = 788"),
        "{}",
        table.stdout
    );
}
