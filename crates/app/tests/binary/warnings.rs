//! `plan` names what it cannot sync: unmatched SKUs on either side, a SKU that several
//! Shopify variants share, and an inactive location named in a mapping, in the JSON's
//! `warnings` and in the table's warnings section (cli.md).

use serde_json::json;

use crate::binary::support::*;

/// Location B is inactive and named in the mapping; `SHARED` is on two variants; `LONELY`
/// is on no TikTok SKU; `ORPHAN` is on no Shopify variant; `TEE` matches cleanly.
fn fixture() -> String {
    json!({
        "shopify": {
            "locations": [{"id": 1, "name": "Location A"},
                          {"id": 2, "name": "Location B", "active": false}],
            "variants": [
                {"id": 201, "product_id": 20, "sku": "TEE", "inventory_item_id": 2001,
                 "levels": [{"location_id": 1, "available": 10}, {"location_id": 2, "available": 5}]},
                {"id": 202, "product_id": 21, "sku": "SHARED", "inventory_item_id": 2002,
                 "levels": [{"location_id": 1, "available": 4}]},
                {"id": 203, "product_id": 22, "sku": "SHARED", "inventory_item_id": 2003,
                 "levels": [{"location_id": 1, "available": 6}]},
                {"id": 204, "product_id": 23, "sku": "LONELY", "inventory_item_id": 2004,
                 "levels": [{"location_id": 1, "available": 1}]}
            ]
        },
        "tiktok": {
            "warehouses": [{"id": "7001", "name": "α", "is_default": true}],
            "products": [
                {"id": "9201", "skus": [{"id": "92011", "seller_sku": "TEE",
                  "inventory": [{"warehouse_id": "7001", "quantity": 0}]}]},
                {"id": "9202", "skus": [{"id": "92021", "seller_sku": "SHARED",
                  "inventory": [{"warehouse_id": "7001", "quantity": 3}]}]},
                {"id": "9203", "skus": [{"id": "92031", "seller_sku": "ORPHAN",
                  "inventory": [{"warehouse_id": "7001", "quantity": 8}]}]}
            ]
        }
    })
    .to_string()
}

const RULES: &str = "[[rules.location_mapping]]\nshopify_locations = [\"Location A\", \"Location B\"]\ntiktok_warehouse = \"α\"\n";

/// Runs `plan --format FORMAT` against the fixture in the in-process sandbox.
fn plan(format: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "stockbridge.toml", RULES);
    let fixture = write(dir.path(), "fixture.json", &fixture());
    let run = run(
        &[
            "plan",
            "--config",
            config.to_str().unwrap(),
            "--format",
            format,
            "--sandbox",
            fixture.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    run
}

/// Whether one of `warnings` names every one of `words`.
fn named(warnings: &[String], words: &[&str]) -> bool {
    warnings
        .iter()
        .any(|w| words.iter().all(|word| w.contains(word)))
}

/// What each kind of warning must name: the thing and what happens to it.
const EXPECTED: [(&str, &[&str]); 4] = [
    ("inactive location", &["Location B", "inactive"]),
    (
        "shared SKU",
        &["SHARED", "202", "203", "92021", "untouched"],
    ),
    ("unmatched variant", &["LONELY", "match no TikTok SKU"]),
    (
        "unmatched TikTok SKU",
        &["ORPHAN (92031)", "match no Shopify variant"],
    ),
];

#[test]
fn plan_json_lists_unmatched_ambiguous_and_inactive_location_warnings() {
    let report = plan("json").json();
    let warnings: Vec<String> = serde_json::from_value(report["warnings"].clone())
        .unwrap_or_else(|e| panic!("warnings is a list of strings ({e}): {report:#}"));
    for (kind, words) in EXPECTED {
        assert!(
            named(&warnings, words),
            "no {kind} warning naming {words:?} in {warnings:#?}"
        );
    }
    let lines = report["lines"].as_array().unwrap();
    assert_eq!(
        lines.len(),
        1,
        "only TEE is matched; the shared SKU is left alone: {report:#}"
    );
    assert_eq!(
        lines[0]["quantity"], 10,
        "inactive Location B counts 0: {report:#}"
    );
}

#[test]
fn plan_table_lists_the_same_warnings_in_its_warnings_section() {
    let table = plan("table").stdout;
    let (_, section) = table
        .split_once("\nWarnings:\n")
        .unwrap_or_else(|| panic!("no warnings section in:\n{table}"));
    let warnings: Vec<String> = section
        .lines()
        .map_while(|l| l.strip_prefix("  - "))
        .map(str::to_owned)
        .collect();
    for (kind, words) in EXPECTED {
        assert!(
            named(&warnings, words),
            "no {kind} warning naming {words:?} in the table:\n{table}"
        );
    }
}
