//! `stockbridge sandbox --shops N`: N copies of the fixture's store in one process, shop k
//! addressed with its own credentials; a sync of one shop writes to that shop only.

use serde_json::Value;

use crate::binary::support::{bin, run, write, SandboxProcess, SEED};

/// The config and secrets of shop `k` of a `--shops` sandbox.
fn shop_config(dir: &std::path::Path, sandbox: &SandboxProcess, k: usize) -> std::path::PathBuf {
    let toml = format!(
        "[shopify]\nshop_domain = \"shop-{k}.myshopify.com\"\nbase_url = \"{base}/shops/shop-{k}.myshopify.com\"\nread_mode = \"paged\"\n\
         [tiktok]\napp_key = \"sandbox_app_key-{k}\"\nbase_url = \"{base}\"\nauth_base_url = \"{base}\"\nshop_cipher = \"SHOP_{k}\"\n\
         [state]\nurl = \"sqlite://{state}\"\n",
        base = sandbox.base_url,
        state = dir.join(format!("shop-{k}.db")).display(),
    );
    write(dir, &format!("shop-{k}.toml"), &toml)
}

fn secrets(k: usize) -> Vec<(&'static str, String)> {
    vec![
        (
            "STOCKBRIDGE__SHOPIFY__ACCESS_TOKEN",
            format!("shpat_sandbox_demo_token-{k}"),
        ),
        (
            "STOCKBRIDGE__SHOPIFY__WEBHOOK_SECRET",
            format!("sandbox_webhook_secret-{k}"),
        ),
        (
            "STOCKBRIDGE__TIKTOK__APP_SECRET",
            format!("sandbox_app_secret-{k}"),
        ),
        (
            "STOCKBRIDGE__TIKTOK__ACCESS_TOKEN",
            format!("sandbox_access_token-{k}"),
        ),
    ]
}

fn writes(sandbox: &SandboxProcess, cipher: &str) -> Vec<Value> {
    let listed = sandbox.control(
        "GET",
        &format!("/_sandbox/writes?shop_cipher={cipher}"),
        None,
    );
    listed.as_array().expect("a list of writes").clone()
}

#[test]
fn a_sync_of_shop_2_of_three_writes_to_shop_2_only() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = write(dir.path(), "fixture.json", SEED);
    let sandbox = SandboxProcess::start(&fixture, &["--shops", "3"]);
    let shops = sandbox.control("GET", "/_sandbox/shops", None);
    assert_eq!(shops["count"], 3);
    let cfg = shop_config(dir.path(), &sandbox, 2);
    let mut cmd = bin();
    cmd.args(["sync", "--config", cfg.to_str().unwrap()]);
    for (key, value) in secrets(2) {
        cmd.env(key, value);
    }
    let out = cmd.output().expect("the binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let written = writes(&sandbox, "SHOP_2");
    assert!(!written.is_empty(), "the sync wrote to shop 2");
    assert!(writes(&sandbox, "SHOP_1").is_empty());
    assert!(writes(&sandbox, "SHOP_3").is_empty());
    let state = |k: usize| {
        sandbox.control(
            "GET",
            &format!("/_sandbox/state?shop=shop-{k}.myshopify.com"),
            None,
        )
    };
    // Shops 1 and 3 still hold the fixture's TikTok stock; shop 2 holds what the sync wrote.
    assert_eq!(state(3)["tiktok"], state(1)["tiktok"]);
    assert_ne!(state(2)["tiktok"], state(1)["tiktok"]);
    // Shop 1's keys do not open shop 2.
    let mut cmd = bin();
    cmd.args(["sync", "--config", cfg.to_str().unwrap()]);
    for (key, value) in secrets(1) {
        cmd.env(key, value);
    }
    let refused = cmd.output().expect("the binary runs");
    assert_ne!(refused.status.code(), Some(0));
}

#[test]
fn shops_out_of_range_or_with_a_shop_list_is_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = write(dir.path(), "fixture.json", SEED);
    let zero = run(
        &[
            "sandbox",
            "--fixture",
            fixture.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--shops",
            "0",
        ],
        &[],
    );
    assert_eq!(zero.code, 2, "{}", zero.stderr);
    assert!(
        zero.stderr.contains("shops is 0; allowed: 1 to 1000000"),
        "{}",
        zero.stderr
    );
    let list = write(dir.path(), "list.json", r#"{"shops": [{}]}"#);
    let both = run(
        &[
            "sandbox",
            "--fixture",
            list.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--shops",
            "2",
        ],
        &[],
    );
    assert_eq!(both.code, 2, "{}", both.stderr);
    assert!(both.stderr.contains("--shops 2:"), "{}", both.stderr);
    assert!(
        both.stderr.contains("lists its shops already"),
        "{}",
        both.stderr
    );
}
