//! `stockbridge shops add|list|show|remove --config worker.toml` against a real PostgreSQL
//! (a schema of its own, see the PostgreSQL adapter's test harness): secrets never printed.

use std::path::{Path, PathBuf};

use stockbridge_adapters_postgres::testing::TestDatabase;

use crate::binary::support::*;

const KEY: &str = "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=";

fn test_database() -> Option<TestDatabase> {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(TestDatabase::new())
}

fn worker_file(dir: &Path, url: &str, extra: &str) -> PathBuf {
    write(
        dir,
        "worker.toml",
        &format!("[fleet]\ndatabase_url = \"{url}\"\n{extra}"),
    )
}

fn shop_file(dir: &Path, n: u32) -> PathBuf {
    write(
        dir,
        &format!("shop-{n}.toml"),
        &format!(
            "[shopify]\nshop_domain = \"shop-{n}.myshopify.com\"\n\
             [tiktok]\napp_key = \"key-{n}\"\nshop_cipher = \"SHOP_{n}\"\n\
             [rules]\nquantity_percent = 80\n"
        ),
    )
}

/// `stockbridge shops ARGS` with a shop's secrets (and the fleet key, unless `key` is None)
/// in the environment.
fn shops(args: &[&str], n: u32, key: Option<&str>) -> Run {
    let token = format!("shpat_SECRET_{n}");
    let app_secret = format!("APP_SECRET_{n}");
    let mut env = vec![
        ("STOCKBRIDGE__SHOPIFY__ACCESS_TOKEN", token.as_str()),
        ("STOCKBRIDGE__TIKTOK__APP_SECRET", app_secret.as_str()),
    ];
    if let Some(key) = key {
        env.push(("STOCKBRIDGE__FLEET__SECRET_KEY", key));
    }
    let run = run(&[&["shops"], args].concat(), &env);
    for secret in [token.as_str(), app_secret.as_str(), KEY] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "a secret was printed: {}\n{}",
            run.stdout,
            run.stderr
        );
    }
    run
}

#[test]
fn shops_are_added_listed_shown_and_removed_without_printing_a_secret() {
    let Some(db) = test_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let worker = worker_file(dir.path(), db.url(), "");
    let worker = worker.to_str().unwrap();
    for n in [1, 2] {
        let shop = shop_file(dir.path(), n);
        let added = shops(
            &["add", "--config", worker, shop.to_str().unwrap()],
            n,
            Some(KEY),
        );
        assert_eq!(added.code, 0, "{}", added.stderr);
        assert!(
            added.stdout.contains("2 sealed secret(s)"),
            "{}",
            added.stdout
        );
    }
    let again = shops(
        &[
            "add",
            "--config",
            worker,
            shop_file(dir.path(), 1).to_str().unwrap(),
        ],
        1,
        Some(KEY),
    );
    assert_eq!(
        again.code, 0,
        "adding a shop again replaces it: {}",
        again.stderr
    );

    let listed = shops(&["list", "--config", worker, "--format", "json"], 1, None);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let listed = listed.json();
    let rows = listed["shops"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{listed}");
    assert_eq!(rows[0]["shop_domain"], "shop-1.myshopify.com");
    assert_eq!(rows[0]["tiktok_shop_cipher"], "SHOP_1");
    for field in ["owner", "last_reconcile_at", "lag_seconds"] {
        assert!(
            rows[0][field].is_null(),
            "{field} of an unowned shop: {listed}"
        );
    }
    assert_eq!(rows[0]["health"], "unowned", "{listed}");
    assert_eq!(rows[0]["epoch"], 0, "never leased: {listed}");

    let shown = shops(
        &["show", "--config", worker, "shop-1.myshopify.com"],
        1,
        Some(KEY),
    );
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(
        shown
            .stdout
            .contains("sealed secrets: shopify.access_token, tiktok.app_secret"),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("quantity_percent = 80"),
        "{}",
        shown.stdout
    );

    let removed = shops(
        &["remove", "--config", worker, "shop-1.myshopify.com"],
        1,
        None,
    );
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    let listed = shops(&["list", "--config", worker], 1, None);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(
        listed
            .stdout
            .starts_with("shop-2.myshopify.com SHOP_2 owner - epoch 0"),
        "{}",
        listed.stdout
    );
    assert_eq!(listed.stdout.lines().count(), 1, "{}", listed.stdout);
    let unknown = shops(
        &["remove", "--config", worker, "shop-1.myshopify.com"],
        1,
        None,
    );
    assert_eq!(unknown.code, 1, "{}", unknown.stderr);
    assert!(unknown.stderr.contains("no shop"), "{}", unknown.stderr);
}

#[test]
fn shops_refuses_a_missing_key_a_file_without_fleet_and_bad_fleet_values() {
    let dir = tempfile::tempdir().unwrap();
    let url = "postgres://u:hunter2@127.0.0.1:1/fleet";
    let shop = shop_file(dir.path(), 1);
    let shop = shop.to_str().unwrap();

    let no_fleet = write(dir.path(), "plain.toml", "[rules]\nquantity_percent = 80\n");
    let refused = shops(&["list", "--config", no_fleet.to_str().unwrap()], 1, None);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("[fleet] database_url"),
        "{}",
        refused.stderr
    );

    for (extra, key) in [
        ("lease_ttl = \"1s\"\n", "fleet.lease_ttl"),
        (
            "lease_ttl = \"30s\"\nheartbeat = \"20s\"\n",
            "fleet.heartbeat",
        ),
        ("worker_id = \"a b\"\n", "fleet.worker_id"),
    ] {
        let worker = worker_file(dir.path(), url, extra);
        let refused = shops(&["list", "--config", worker.to_str().unwrap()], 1, None);
        assert_eq!(refused.code, 2, "{extra}: {}", refused.stderr);
        assert!(refused.stderr.contains(key), "{extra}: {}", refused.stderr);
        assert!(!refused.stderr.contains("hunter2"), "{}", refused.stderr);
    }
    let worker = worker_file(dir.path(), "mysql://u:hunter2@host/db", "");
    let refused = shops(&["list", "--config", worker.to_str().unwrap()], 1, None);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("fleet.database_url"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("hunter2"), "{}", refused.stderr);

    let Some(db) = test_database() else {
        return;
    };
    let worker = worker_file(dir.path(), db.url(), "");
    let worker = worker.to_str().unwrap();
    let no_key = shops(&["add", "--config", worker, shop], 1, None);
    assert_eq!(no_key.code, 2, "{}", no_key.stderr);
    assert!(
        no_key.stderr.contains("STOCKBRIDGE__FLEET__SECRET_KEY"),
        "{}",
        no_key.stderr
    );
    let bad_key = shops(&["add", "--config", worker, shop], 1, Some("hunter2"));
    assert_eq!(bad_key.code, 2, "{}", bad_key.stderr);
    assert!(!bad_key.stderr.contains("hunter2"), "{}", bad_key.stderr);
}
