use std::collections::HashMap;
use std::io::Write;

use super::*;
use stockbridge_domain::{LocationRef, LocationSelector, NegativeAvailable};

/// Loads `toml` from a temporary file with `env` as the whole environment.
pub(super) fn load(toml: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(toml.as_bytes()).unwrap();
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    Settings::load_with_env(file.path(), Some(env))
}

/// The error `toml` is refused with, as the operator reads it.
pub(super) fn err(toml: &str) -> String {
    load(toml, &[]).unwrap_err().to_string()
}

#[test]
fn empty_file_gives_the_seed_defaults() {
    let s = load("", &[]).unwrap();
    assert_eq!(s.rules, RuleSet::default());
    assert_eq!(s.server.reconcile_every, Duration::from_secs(900));
    assert_eq!(s.server.listen, "127.0.0.1:8080");
}

#[test]
fn reads_the_example_of_the_reference() {
    let s = load(
        r#"
[shopify]
shop_domain = "example.myshopify.com"
api_version = "2026-10"
[tiktok]
app_key = "abc"
[state]
url = "sqlite://stockbridge.db"
[server]
listen = "127.0.0.1:8080"
reconcile_every = "15m"
[rules]
quantity_percent = 80
[[rules.location_mapping]]
shopify_locations = "all"
tiktok_warehouse = "α"
"#,
        &[],
    )
    .unwrap();
    assert_eq!(s.rules.quantity_percent.hundredths(), 8000);
    assert_eq!(s.rules.location_mappings[0].warehouse.as_deref(), Some("α"));
    assert_eq!(s.state_url.as_deref(), Some("sqlite://stockbridge.db"));
}

#[test]
fn environment_wins_over_the_file() {
    let s = load(
        "[shopify]\nshop_domain = \"a.myshopify.com\"\naccess_token = \"from-file\"\n[rules]\nquantity_percent = 50\n",
        &[("STOCKBRIDGE__SHOPIFY__ACCESS_TOKEN", "from-env"), ("STOCKBRIDGE__RULES__QUANTITY_PERCENT", "75")],
    )
    .unwrap();
    assert_eq!(s.file.shopify.access_token.unwrap().0.expose(), "from-env");
    assert_eq!(s.rules.quantity_percent.hundredths(), 7500);
}

#[test]
fn numeric_looking_secret_from_the_environment_stays_text() {
    let s = load("", &[("STOCKBRIDGE__TIKTOK__ACCESS_TOKEN", "123456")]).unwrap();
    assert_eq!(s.file.tiktok.access_token.unwrap().0.expose(), "123456");
}

#[test]
fn unknown_key_is_named_with_its_section() {
    let e = err("[rules]\nquantity_percentt = 80\n");
    assert!(
        e.contains("quantity_percentt") && e.contains("rules"),
        "{e}"
    );
    let e = err("[shopfy]\nshop_domain = \"x\"\n");
    assert!(e.contains("shopfy"), "{e}");
    let e = err("[[rules.override]]\nskus = [\"A\"]\nexclud = true\n");
    assert!(e.contains("exclud"), "{e}");
}

#[test]
fn percent_out_of_range_or_too_precise_names_key_value_and_allowed() {
    let e = err("[rules]\nquantity_percent = 120\n");
    assert!(
        e.contains("rules.quantity_percent") && e.contains("120") && e.contains("0 to 100"),
        "{e}"
    );
    let e = err("[rules]\nquantity_percent = 33.333\n");
    assert!(e.contains("33.333") && e.contains("2 decimals"), "{e}");
}

#[test]
fn integers_outside_their_range_are_refused() {
    for (toml, key) in [
        ("[rules]\nmax_quantity = 1000000\n", "rules.max_quantity"),
        (
            "[rules]\nunlimited_quantity = -1\n",
            "rules.unlimited_quantity",
        ),
        ("[rules]\nreserve_units = -5\n", "rules.reserve_units"),
        ("[rules]\nzero_below = -1\n", "rules.zero_below"),
        (
            "[[rules.override]]\nskus = [\"A\"]\nfixed_quantity = 1000000\n",
            "rules.override[0].fixed_quantity",
        ),
    ] {
        let e = err(toml);
        assert!(e.contains(key), "{key}: {e}");
    }
}

#[test]
fn override_with_fixed_and_exclude_or_empty_skus_is_refused() {
    let e = err("[[rules.override]]\nskus = [\"A\"]\nfixed_quantity = 3\nexclude = true\n");
    assert!(
        e.contains("rules.override[0]") && e.contains("fixed_quantity"),
        "{e}"
    );
    let e = err("[[rules.override]]\nskus = []\nexclude = true\n");
    assert!(e.contains("rules.override[0].skus"), "{e}");
}

#[test]
fn all_beside_another_mapping_is_refused_before_any_store_is_read() {
    let e = err("[[rules.location_mapping]]\nshopify_locations = \"all\"\n[[rules.location_mapping]]\nshopify_locations = [\"A\"]\ntiktok_warehouse = \"β\"\n");
    assert!(e.contains("\"all\""), "{e}");
}

#[test]
fn shopify_locations_must_be_all_or_a_list() {
    let e = err("[[rules.location_mapping]]\nshopify_locations = \"everything\"\n");
    assert!(
        e.contains("rules.location_mapping[0].shopify_locations") && e.contains("everything"),
        "{e}"
    );
}

#[test]
fn locations_may_be_names_or_numeric_ids() {
    let s = load("[[rules.location_mapping]]\nshopify_locations = [\"Location A\", 2]\ntiktok_warehouse = 7002\n", &[]).unwrap();
    let m = &s.rules.location_mappings[0];
    assert_eq!(
        m.locations,
        LocationSelector::Listed(vec![
            LocationRef::Name("Location A".into()),
            LocationRef::Id(2)
        ])
    );
    assert_eq!(m.warehouse.as_deref(), Some("7002"));
}

#[test]
fn negative_available_accepts_only_its_two_words() {
    assert_eq!(
        load("[rules]\nnegative_available = \"ignore\"\n", &[])
            .unwrap()
            .rules
            .negative_available,
        NegativeAvailable::Ignore
    );
    let e = err("[rules]\nnegative_available = \"skip\"\n");
    assert!(e.contains("\"subtract\" or \"ignore\""), "{e}");
}

#[test]
fn bad_duration_names_the_key() {
    let e = err("[server]\nreconcile_every = \"soon\"\n");
    assert!(
        e.contains("server.reconcile_every") && e.contains("soon"),
        "{e}"
    );
}

#[test]
fn missing_file_is_a_clear_error() {
    let e = Settings::load(Path::new("/nonexistent/stockbridge.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not exist"), "{e}");
}

#[test]
fn secrets_never_print_in_debug_output() {
    let s = load("[shopify]\naccess_token = \"shpat_secret_value\"\n[tiktok]\napp_secret = \"tt_secret_value\"\n", &[]).unwrap();
    let debug = format!("{s:?}");
    assert!(
        !debug.contains("shpat_secret_value") && !debug.contains("tt_secret_value"),
        "{debug}"
    );
}

#[test]
fn secrets_and_text_from_the_environment_stay_exactly_as_given() {
    let s = load(
        "",
        &[
            ("STOCKBRIDGE__TIKTOK__APP_SECRET", "0123456789"),
            ("STOCKBRIDGE__TIKTOK__ACCESS_TOKEN", "1e3"),
            ("STOCKBRIDGE__TIKTOK__REFRESH_TOKEN", "+12"),
            ("STOCKBRIDGE__SHOPIFY__ACCESS_TOKEN", "TRUE"),
            ("STOCKBRIDGE__TIKTOK__APP_KEY", "007"),
        ],
    )
    .unwrap();
    let t = &s.file.tiktok;
    assert_eq!(t.app_secret.as_ref().unwrap().0.expose(), "0123456789");
    assert_eq!(t.access_token.as_ref().unwrap().0.expose(), "1e3");
    assert_eq!(t.refresh_token.as_ref().unwrap().0.expose(), "+12");
    assert_eq!(t.app_key.as_deref(), Some("007"));
    let shopify_token = s.file.shopify.access_token.unwrap();
    assert_eq!(shopify_token.0.expose(), "TRUE");
}

#[test]
fn numeric_keys_still_take_numbers_from_the_environment() {
    let s = load(
        "",
        &[
            ("STOCKBRIDGE__RULES__RESERVE_UNITS", "3"),
            ("STOCKBRIDGE__RULES__QUANTITY_PERCENT", "12.5"),
            ("STOCKBRIDGE__TIKTOK__CONCURRENCY", "4"),
            ("STOCKBRIDGE__TIKTOK__REQUESTS_PER_SECOND", "2"),
        ],
    )
    .unwrap();
    assert_eq!(s.rules.reserve_units, 3);
    assert_eq!(s.rules.quantity_percent.hundredths(), 1250);
    assert_eq!(s.file.tiktok.concurrency, Some(4));
    assert_eq!(s.file.tiktok.requests_per_second, Some(2.0));
    let e = load("", &[("STOCKBRIDGE__RULES__RESERVE_UNITS", "1e3")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("reserve_units") && e.contains("1e3") && e.contains("an integer"),
        "{e}"
    );
}

#[test]
fn fractional_or_boolean_integers_are_refused_naming_key_value_and_an_integer() {
    for (toml, key, value) in [
        ("[rules]\nreserve_units = 2.7\n", "reserve_units", "2.7"),
        ("[rules]\nmax_quantity = 12.5\n", "max_quantity", "12.5"),
        ("[rules]\nreserve_units = true\n", "reserve_units", "true"),
        ("[tiktok]\nconcurrency = 4.5\n", "concurrency", "4.5"),
        (
            "[server]\nmax_body_bytes = 2048.5\n",
            "max_body_bytes",
            "2048.5",
        ),
        (
            "[[rules.override]]\nskus = [\"A\"]\nfixed_quantity = 1.5\n",
            "fixed_quantity",
            "1.5",
        ),
    ] {
        let e = err(toml);
        assert!(
            e.contains(key) && e.contains(value) && e.contains("an integer"),
            "{toml}: {e}"
        );
    }
    let e = err("[rules]\nquantity_percent = true\n");
    assert!(
        e.contains("quantity_percent") && e.contains("a number"),
        "{e}"
    );
}

#[test]
fn a_toml_syntax_error_gives_the_position_but_never_the_line() {
    let e =
        err("[shopify]\nshop_domain = \"a.myshopify.com\"\naccess_token = \"shpat_SECRET123\" x\n");
    assert!(!e.contains("SECRET123"), "{e}");
    assert!(e.contains("line 3"), "{e}");
    assert!(e.contains("column"), "{e}");
    assert!(e.contains("expected"), "{e}");
}

#[test]
fn a_state_url_that_is_neither_sqlite_nor_postgres_is_refused_with_its_password_masked() {
    for url in [
        "sqlite://",
        "mysql://u:hunter2@host/db",
        "postgres://u:hunter2@host/db?sslmode=require",
    ] {
        let e = err(&format!("[state]\nurl = \"{url}\"\n"));
        assert!(
            e.contains("state.url") && e.contains("sqlite://PATH") && e.contains("postgres://"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
    }
    let e = err("[state]\nurl = \"mysql://u:hunter2@host/db\"\n");
    assert!(e.contains("mysql://u:***@host/db"), "{e}");
}

#[test]
fn a_postgres_state_url_is_accepted() {
    for url in [
        "postgres://u:pw@127.0.0.1:5432/db",
        "postgresql://u@host/db",
    ] {
        let s = load(&format!("[state]\nurl = \"{url}\"\n"), &[]).unwrap();
        assert_eq!(s.state_url.as_deref(), Some(url));
    }
}

#[test]
fn connection_keys_are_refused_naming_the_full_key_the_value_and_what_is_allowed() {
    for (toml, key, value, allowed) in [
        (
            "[shopify]\nbase_url = \"ftp://x\"\n",
            "shopify.base_url",
            "ftp://x",
            "http",
        ),
        (
            "[tiktok]\nbase_url = \"nope\"\n",
            "tiktok.base_url",
            "nope",
            "http",
        ),
        (
            "[tiktok]\nauth_base_url = \"http://\"\n",
            "tiktok.auth_base_url",
            "http://",
            "http",
        ),
        (
            "[shopify]\napi_version = \"latest\"\n",
            "shopify.api_version",
            "latest",
            "YYYY-MM",
        ),
        (
            "[shopify]\nshop_domain = \"example.com\"\n",
            "shopify.shop_domain",
            "example.com",
            "myshopify.com",
        ),
    ] {
        let settings = load(toml, &[]).unwrap();
        let e = check_connections(&settings.file).unwrap_err().to_string();
        assert!(
            e.contains(key) && e.contains(value) && e.contains(allowed),
            "{toml}: {e}"
        );
    }
    let e = check_connections(
        &load("[shopify]\nbase_url = \"http://u:pw123@h\"\n", &[])
            .unwrap()
            .file,
    )
    .unwrap_err()
    .to_string();
    assert!(!e.contains("pw123"), "{e}");
}
