//! A secret put under the wrong key is refused without being echoed: the error names the
//! key and shows a long or token-shaped text only by its length. A blank webhook secret is
//! no secret at all.

use crate::binary::support::*;

const TOKEN: &str = "shpat_0123456789abcdef0123456789abcdef";

/// `plan` with the configuration `toml`, against the in-process emulators.
fn plan(dir: &std::path::Path, toml: &str) -> Run {
    let config = write(dir, "stockbridge.toml", toml);
    let fixture = write(dir, "fixture.json", SEED);
    run(
        &[
            "plan",
            "--config",
            config.to_str().unwrap(),
            "--sandbox",
            fixture.to_str().unwrap(),
        ],
        &[],
    )
}

#[test]
fn a_token_under_the_wrong_key_is_refused_naming_the_key_without_showing_the_token() {
    let dir = tempfile::tempdir().unwrap();
    for (toml, key) in [
        (
            format!("[shopify]\nread_mode = \"{TOKEN}\"\n"),
            "shopify.read_mode",
        ),
        (
            format!("[rules]\nquantity_percent = \"{TOKEN}\"\n"),
            "rules.quantity_percent",
        ),
        (
            format!("[[rules.override]]\nskus = [\"A\"]\nexclude = \"{TOKEN}\"\n"),
            "exclude",
        ),
        (
            format!("[server]\nreconcile_every = \"{TOKEN}\"\n"),
            "server.reconcile_every",
        ),
        (
            format!("[rules]\nnegative_available = \"{TOKEN}\"\n"),
            "rules.negative_available",
        ),
    ] {
        let run = plan(dir.path(), &toml);
        assert_eq!(run.code, 2, "{toml}: {}", run.stderr);
        assert!(run.stderr.contains(key), "{toml}: {}", run.stderr);
        assert!(!run.stderr.contains(TOKEN), "{toml}: {}", run.stderr);
        assert!(
            run.stderr.contains("a text of 38 characters"),
            "{toml}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_short_plain_value_under_the_wrong_key_is_still_shown() {
    let dir = tempfile::tempdir().unwrap();
    let run = plan(dir.path(), "[shopify]\nread_mode = \"bluk\"\n");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("shopify.read_mode = \"bluk\""),
        "{}",
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn serve_refuses_a_blank_webhook_secret_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = write(dir.path(), "fixture.json", SEED);
    let sandbox = SandboxProcess::start(&fixture, &[]);
    let port = unused_port();
    let config = sandbox.config(
        dir.path(),
        &format!("[server]\nlisten = \"127.0.0.1:{port}\"\n"),
    );
    let mut serve = ServeLogged::spawn(
        &config,
        port,
        &[("STOCKBRIDGE__SHOPIFY__WEBHOOK_SECRET", " ")],
    );
    let status = serve.wait_exit(std::time::Duration::from_secs(30));
    if status.is_none() {
        // Still serving: stop it, so that its output can be read and the test fail.
        serve.signal("KILL");
        serve.wait_exit(std::time::Duration::from_secs(10));
    }
    let (_, stderr) = serve.output();
    assert_eq!(status.and_then(|s| s.code()), Some(2), "{stderr}");
    assert!(
        stderr.contains("STOCKBRIDGE__SHOPIFY__WEBHOOK_SECRET") && stderr.contains("blank"),
        "{stderr}"
    );
}
