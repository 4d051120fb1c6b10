//! Bundles through the binary (sync-rules.md §8): a bundle's TikTok number comes from its
//! components, its JSON line says `"bundle": true`, and what cannot be computed is warned.

use super::*;

fn warnings(report: &Value) -> Vec<String> {
    report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect()
}

fn plan_of(rules: &str) -> Value {
    let (run, _) = sandbox_run("plan", rules, BUNDLES);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()
}

#[test]
fn a_bundle_of_two_mugs_and_a_tee_offers_what_its_scarcest_component_allows() {
    let report = plan_of("");
    assert_eq!(
        line(&report, "BOX", "7001"),
        &json!({"sku": "BOX", "shopify_variant_id": "301", "tiktok_product_id": "9301",
                "tiktok_sku_id": "93011", "warehouse_id": "7001", "warehouse_name": "α",
                "quantity": 3, "current": 0, "changed": true, "bundle": true,
                "explanation": "bundle: min(MUG 7/2 = 3, TEE 9/1) = 3"})
    );
    assert_eq!(
        line(&report, "MUG", "7001").get("bundle"),
        None,
        "a plain line carries no bundle key"
    );
}

#[test]
fn the_bundles_own_rules_apply_after_the_count_also_when_read_in_bulk() {
    let report = plan_of("[shopify]\nread_mode = \"bulk\"\n[rules]\nquantity_percent = 50\n");
    let reader = line(&report, "READER", "7001");
    assert_eq!(reader["quantity"], 1);
    assert_eq!(
        reader["explanation"],
        "bundle: min(EBOOK untracked, TEE 9/3 = 3) = 3; x 50% = 1"
    );
    assert_eq!(line(&report, "BOX", "7001")["quantity"], 1);
}

#[test]
fn an_untracked_component_does_not_limit_and_all_untracked_is_unlimited() {
    let report = plan_of("");
    assert_eq!(line(&report, "READER", "7001")["quantity"], 3);
    let giftset = line(&report, "GIFTSET", "7001");
    assert_eq!(giftset["quantity"], 999_999);
    assert_eq!(
        giftset["explanation"],
        "bundle: every component untracked or continue selling -> 999999"
    );
    assert_eq!(giftset["bundle"], true);
}

#[test]
fn a_bundle_whose_component_is_missing_gets_no_number_and_a_warning() {
    let (run, state) = sandbox_run("sync", "", BUNDLES);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert!(report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["sku"] != "MYSTERY"));
    assert!(warnings(&report).contains(
        &"bundle \"MYSTERY\" (variant 304) gets no number: its component variant 999 could not be read; its TikTok stock is left as it is".to_owned()
    ));
    let state = state.expect("state written");
    assert_eq!(
        quantity_in_state(&state, "93041", "7001"),
        Some(5),
        "left as it is"
    );
    assert_eq!(
        quantity_in_state(&state, "93011", "7001"),
        Some(3),
        "BOX written"
    );
    let box_line = line(&report, "BOX", "7001");
    assert_eq!(
        (box_line["status"].as_str(), box_line["bundle"].as_bool()),
        (Some("updated"), Some(true))
    );
}

#[test]
fn a_component_listed_on_its_own_is_warned_about_once() {
    let report = plan_of("");
    let shared: Vec<String> = warnings(&report)
        .into_iter()
        .filter(|w| w.contains("inside bundle"))
        .collect();
    assert_eq!(
        shared,
        ["SKU \"MUG\" is listed on its own and inside bundle(s) BOX: each listing offers its full stock, so it is offered more than once"]
    );
    assert_eq!(
        line(&report, "MUG", "7001")["quantity"],
        7,
        "offered in full"
    );
}
