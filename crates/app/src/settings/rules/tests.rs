use std::collections::HashMap;
use std::io::Write;

use stockbridge_domain::{Override, Percent, Quantity, RuleSet, SkuPattern};

use crate::settings::Settings;

/// The rules of a TOML file, read the way `stockbridge` reads it, with no environment.
fn rules_of(toml: &str) -> RuleSet {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(toml.as_bytes()).unwrap();
    Settings::load_with_env(file.path(), Some(HashMap::new()))
        .unwrap()
        .rules
}

#[test]
fn override_reserve_threshold_and_cap_are_read_into_the_override() {
    let rules = rules_of(
        r#"
[rules]
reserve_units = 1
zero_below = 2
max_quantity = 500

[[rules.override]]
skus = ["LOW-*"]
reserve_units = 5
zero_below = 10
max_quantity = 40

[[rules.override]]
skus = ["STD-*"]
quantity_percent = 50
"#,
    );
    assert_eq!(
        rules.overrides,
        vec![
            Override {
                skus: vec![SkuPattern::new("LOW-*").unwrap()],
                reserve_units: Some(5),
                zero_below: Some(10),
                max_quantity: Some(Quantity::new(40).unwrap()),
                ..Override::default()
            },
            Override {
                skus: vec![SkuPattern::new("STD-*").unwrap()],
                quantity_percent: Some(Percent::from_f64(50.0).unwrap()),
                ..Override::default()
            },
        ]
    );
    assert_eq!(
        (
            rules.reserve_units,
            rules.zero_below,
            rules.max_quantity.get()
        ),
        (1, 2, 500),
        "the shop-wide values stay as written"
    );
}
