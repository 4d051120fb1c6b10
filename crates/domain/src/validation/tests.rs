use crate::seed::*;
use crate::*;

fn errors(rules: &RuleSet) -> Vec<RuleError> {
    resolve(rules, &seed_locations(), &warehouses()).unwrap_err()
}

fn warehouses() -> Vec<Warehouse> {
    let mut all = seed_warehouses();
    all.push(Warehouse {
        kind: WarehouseKind::Return,
        ..wh("7003", "Returns", false)
    });
    all.push(Warehouse {
        status: WarehouseStatus::Disabled,
        ..wh("7004", "Paused", false)
    });
    all
}

#[test]
fn location_feeding_two_mappings_is_an_error() {
    let rules = RuleSet {
        location_mappings: vec![
            listed(&["Location A"], Some("α")),
            listed(&["1"], Some("β")),
        ],
        ..RuleSet::default()
    };
    let errs = errors(&rules);
    assert_eq!(
        errs,
        vec![RuleError::LocationInTwoMappings {
            location: "Location A".into(),
            first: 0,
            second: 1
        }]
    );
    let msg = errs[0].to_string();
    assert!(
        msg.contains("rules.location_mapping[1].shopify_locations")
            && msg.contains("offered twice"),
        "{msg}"
    );
}

#[test]
fn all_beside_another_mapping_is_an_error() {
    let rules = RuleSet {
        location_mappings: vec![
            LocationMapping {
                locations: LocationSelector::All,
                warehouse: Some("α".into()),
            },
            listed(&["Location B"], Some("β")),
        ],
        ..RuleSet::default()
    };
    assert_eq!(
        errors(&rules),
        vec![RuleError::AllWithOtherMappings { mapping: 0 }]
    );
}

#[test]
fn two_mappings_into_one_warehouse_is_an_error() {
    let rules = RuleSet {
        location_mappings: vec![
            listed(&["Location A"], Some("β")),
            listed(&["Location B"], Some("7002")),
        ],
        ..RuleSet::default()
    };
    let errs = errors(&rules);
    assert_eq!(
        errs,
        vec![RuleError::TwoMappingsIntoOneWarehouse {
            warehouse: "β".into(),
            first: 0,
            second: 1
        }]
    );
    assert!(errs[0].to_string().contains("merge them"), "{}", errs[0]);
}

#[test]
fn unknown_location_lists_the_valid_ones() {
    let rules = RuleSet {
        location_mappings: vec![listed(&["Location Z"], None)],
        ..RuleSet::default()
    };
    let errs = errors(&rules);
    assert!(matches!(&errs[0], RuleError::UnknownLocation { value, .. } if value == "Location Z"));
    let msg = errs[0].to_string();
    assert!(
        msg.contains("\"Location Z\"") && msg.contains("Location A (1), Location B (2)"),
        "{msg}"
    );
}

#[test]
fn unknown_warehouse_lists_the_enabled_sales_warehouses() {
    let rules = RuleSet {
        location_mappings: vec![listed(&["Location A"], Some("γ"))],
        ..RuleSet::default()
    };
    let msg = errors(&rules)[0].to_string();
    assert!(
        msg.contains("no warehouse \"γ\"") && msg.contains("α (7001), β (7002)"),
        "{msg}"
    );
    assert!(
        !msg.contains("Returns"),
        "return warehouses are not offered: {msg}"
    );
}

#[test]
fn return_or_disabled_warehouse_is_not_a_target() {
    for (name, reason) in [("Returns", "return warehouse"), ("7004", "not enabled")] {
        let rules = RuleSet {
            location_mappings: vec![listed(&["Location A"], Some(name))],
            ..RuleSet::default()
        };
        let errs = errors(&rules);
        assert!(
            matches!(&errs[0], RuleError::WarehouseNotTarget { .. }),
            "{errs:?}"
        );
        assert!(errs[0].to_string().contains(reason), "{}", errs[0]);
    }
}

#[test]
fn missing_default_warehouse_is_an_error_when_a_mapping_omits_the_warehouse() {
    let no_default = vec![wh("7001", "α", false)];
    let errs = resolve(&RuleSet::default(), &seed_locations(), &no_default).unwrap_err();
    assert!(
        matches!(&errs[0], RuleError::NoDefaultWarehouse { mapping: 0, .. }),
        "{errs:?}"
    );
}

#[test]
fn override_with_fixed_quantity_and_exclude_is_an_error() {
    let rules = RuleSet {
        overrides: vec![Override {
            exclude: true,
            fixed_quantity: Some(Quantity::ZERO),
            ..over(&["A"])
        }],
        ..RuleSet::default()
    };
    assert_eq!(
        errors(&rules),
        vec![RuleError::FixedAndExclude { index: 0 }]
    );
}

#[test]
fn override_with_empty_skus_is_an_error() {
    let rules = RuleSet {
        overrides: vec![Override {
            exclude: true,
            ..Override::default()
        }],
        ..RuleSet::default()
    };
    let errs = errors(&rules);
    assert_eq!(errs, vec![RuleError::EmptySkus { index: 0 }]);
    assert!(
        errs[0].to_string().contains("rules.override[0].skus"),
        "{}",
        errs[0]
    );
}

#[test]
fn empty_mapping_list_is_an_error() {
    let rules = RuleSet {
        location_mappings: vec![],
        ..RuleSet::default()
    };
    assert_eq!(errors(&rules), vec![RuleError::NoMappings]);
}

#[test]
fn every_error_is_reported_at_once() {
    let rules = RuleSet {
        location_mappings: vec![listed(&["Nowhere"], Some("γ"))],
        overrides: vec![Override::default()],
        ..RuleSet::default()
    };
    assert_eq!(errors(&rules).len(), 3);
}

#[test]
fn inactive_listed_location_is_a_warning_not_an_error() {
    let locations = vec![loc(1, "Location A", true), loc(2, "Location B", false)];
    let rules = RuleSet {
        location_mappings: vec![listed(&["Location B"], None)],
        ..RuleSet::default()
    };
    let r = resolve(&rules, &locations, &seed_warehouses()).unwrap();
    assert_eq!(
        r.warnings(),
        &[Warning::InactiveLocation {
            location: "Location B".into(),
            mapping: 0
        }]
    );
    assert!(r.warnings()[0].to_string().contains("inactive"));
}

#[test]
fn locations_and_warehouses_resolve_by_id_or_name() {
    let rules = RuleSet {
        location_mappings: vec![
            LocationMapping {
                locations: LocationSelector::Listed(vec![LocationRef::Id(2)]),
                warehouse: Some("7001".into()),
            },
            listed(&["Location A"], Some("β")),
        ],
        ..RuleSet::default()
    };
    let r = resolve(&rules, &seed_locations(), &seed_warehouses()).unwrap();
    assert_eq!(r.mappings()[0].warehouse().as_str(), "7001");
    assert_eq!(r.mappings()[1].warehouse_name(), "β");
    assert!(r.mappings()[0].counts(LocationId::new(2).unwrap()));
    assert!(!r.mappings()[0].counts(LocationId::new(1).unwrap()));
}

#[test]
fn location_listed_twice_in_one_mapping_is_named_as_a_repeat() {
    let rules = RuleSet {
        location_mappings: vec![listed(&["Location A", "Location B", "1"], Some("α"))],
        ..RuleSet::default()
    };
    let errs = errors(&rules);
    assert_eq!(
        errs,
        vec![RuleError::LocationRepeated {
            location: "Location A".into(),
            mapping: 0
        }]
    );
    let msg = errs[0].to_string();
    assert!(
        msg.contains("rules.location_mapping[0].shopify_locations")
            && msg.contains("\"Location A\" is listed more than once"),
        "{msg}"
    );
    assert!(!msg.contains("already feeds"), "{msg}");
}

fn twin_warehouses() -> Vec<Warehouse> {
    let mut all = seed_warehouses();
    all.push(wh("7005", "Main", false));
    all.push(wh("7006", "Main", false));
    all
}

#[test]
fn warehouse_name_shared_by_several_warehouses_is_an_error_naming_their_ids() {
    let rules = RuleSet {
        location_mappings: vec![listed(&["Location A"], Some("Main"))],
        ..RuleSet::default()
    };
    let errs = resolve(&rules, &seed_locations(), &twin_warehouses()).unwrap_err();
    assert_eq!(
        errs,
        vec![RuleError::AmbiguousWarehouse {
            mapping: 0,
            value: "Main".into(),
            candidates: vec!["7005".into(), "7006".into()],
        }]
    );
    let msg = errs[0].to_string();
    assert!(
        msg.contains("rules.location_mapping[0].tiktok_warehouse")
            && msg.contains("2 warehouses named \"Main\"")
            && msg.contains("7005, 7006"),
        "{msg}"
    );
}

#[test]
fn warehouse_id_resolves_even_when_its_name_is_shared() {
    let rules = RuleSet {
        location_mappings: vec![listed(&["Location A"], Some("7006"))],
        ..RuleSet::default()
    };
    let r = resolve(&rules, &seed_locations(), &twin_warehouses()).unwrap();
    assert_eq!(r.mappings()[0].warehouse().as_str(), "7006");
}
