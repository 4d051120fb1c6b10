//! SIGTERM while the start-up read is still waiting on Shopify.

use super::*;

#[cfg(unix)]
#[test]
fn sigterm_while_shopify_is_still_being_read_stops_serve_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", unused_port());
    let fixture = write(dir.path(), "fixture.json", SEED);
    let sandbox = SandboxProcess::start(&fixture, &[]);
    // Every Shopify answer takes a minute (the sandbox's longest): the start-up read is still running.
    sandbox.control(
        "POST",
        "/_sandbox/faults",
        Some(json!({"shopify": {"latency_ms": 60_000}})),
    );
    let config = sandbox.config(
        dir.path(),
        &format!("[server]\nlisten = \"{listen}\"\nreconcile_every = \"1h\"\n"),
    );
    let mut serve = Served::spawn(&config, &listen, dir.path().join("serve.stderr"));
    let health = reqwest::blocking::get(format!("{}/healthz", serve.url)).unwrap();
    assert_eq!(health.status().as_u16(), 503, "still reading at start-up");
    let asked = Instant::now();
    assert_eq!(
        serve.stop(Duration::from_secs(10)),
        Some(0),
        "{}",
        serve.stderr_text()
    );
    assert!(asked.elapsed() < Duration::from_secs(10));
    let state = dir.path().join("state.db");
    assert_eq!(
        count(
            &state,
            "SELECT COUNT(*) FROM runs WHERE outcome = 'running'"
        ),
        0,
        "the abandoned run is recorded as such"
    );
    assert_eq!(count(&state, "SELECT COUNT(*) FROM audit_log"), 0);
}
