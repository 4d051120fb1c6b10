//! `plan` and `demo`: the seed's numbers, and nothing written.

use super::*;

#[test]
fn plan_prints_the_seeds_numbers_in_the_json_of_the_reference() {
    let (run, _) = sandbox_run("plan", "[rules]\nquantity_percent = 80\n", SEED);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    let tee = line(&report, "TEE-RED-S", "7001");
    assert_eq!(
        tee,
        &json!({"sku": "TEE-RED-S", "shopify_variant_id": "101", "tiktok_product_id": "9001", "tiktok_sku_id": "90011",
                "warehouse_id": "7001", "warehouse_name": "α", "quantity": 240, "current": 0, "changed": true,
                "explanation": "Location A 100 + Location B 200 = 300; x 80% = 240",
                "held": 0, "held_orders": []})
    );
    assert_eq!(
        line(&report, "MUG-BLUE", "7001")["quantity"],
        788,
        "985 at 80% is 788"
    );
    assert_eq!(
        line(&report, "EBOOK-GUIDE", "7001")["quantity"],
        999_999,
        "untracked"
    );
    assert_eq!(
        line(&report, "CANDLE-PREORDER", "7001")["quantity"],
        999_999,
        "continue selling"
    );
    let summary = &report["summary"];
    assert_eq!(
        (
            summary["variants"].as_u64(),
            summary["tiktok_skus"].as_u64(),
            summary["matched"].as_u64()
        ),
        (Some(4), Some(4), Some(4))
    );
    assert_eq!(
        (summary["lines"].as_u64(), summary["changed"].as_u64()),
        (Some(4), Some(4))
    );
    assert!(report["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn plan_writes_nothing() {
    let (run, state) = sandbox_run("plan", "", SEED);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state = state.expect("state written");
    assert_eq!(quantity_in_state(&state, "90011", "7001"), Some(0));
    assert_eq!(quantity_in_state(&state, "90021", "7001"), Some(12));
}

#[test]
fn demo_shows_the_seeds_numbers_and_what_tiktok_holds_after() {
    let demo = run(&["demo"], &[]);
    assert_eq!(demo.code, 0, "{}", demo.stderr);
    let out = &demo.stdout;
    assert!(
        out.contains("Location A 100 + Location B 200 = 300; x 80% = 240"),
        "{out}"
    );
    assert!(out.contains("Location A 985 = 985; x 80% = 788"), "{out}");
    assert!(out.contains("untracked -> 999999"), "{out}");
    assert!(
        out.contains("continue selling when out of stock -> 999999"),
        "{out}"
    );
    assert!(
        out.contains("0 updated, 4 unchanged, 0 failed"),
        "the second sync writes nothing: {out}"
    );
    let holds = out
        .split("TikTok Shop now holds")
        .nth(1)
        .expect("the final state is shown");
    assert!(
        holds.contains("TEE-RED-S        α = 240, β = 80"),
        "{holds}"
    );
}
