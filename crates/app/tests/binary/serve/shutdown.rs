//! SIGTERM and Ctrl-C: a clean exit, with what was received written first.

use std::time::Instant;

use super::*;

/// Sends `signal` (`TERM`, `INT`) to serve and waits up to 20 s for its exit code.
#[cfg(unix)]
fn stop_with(serve: &mut ServeProcess, signal: &str) -> Option<i32> {
    let pid = serve.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = serve.child.try_wait().unwrap() {
            return status.code();
        }
        assert!(
            Instant::now() < deadline,
            "serve did not stop after SIG{signal}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[test]
fn sigterm_stops_cleanly_with_exit_0() {
    let w = world("");
    let mut serve = ServeProcess::start(&w.config);
    assert_eq!(stop_with(&mut serve, "TERM"), Some(0));
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_cleanly_with_exit_0_after_writing_a_change_received_just_before() {
    // A long coalescing window: the change is still waiting in it when SIGINT arrives.
    let w = world_with_window("2s", "");
    let mut serve = ServeProcess::start(&w.config);
    assert_eq!(w.sandbox.tiktok_quantity("90011", "7001"), Some(300));
    let writes_before = inventory_update_calls(&w.sandbox);
    set_level(&w.sandbox, 1001, 1, 40);
    let received = poll_until(Duration::from_secs(10), || {
        serve
            .metrics()
            .contains("stockbridge_webhooks_received_total 1\n")
    });
    assert!(received, "serve received the webhook");
    assert_eq!(
        inventory_update_calls(&w.sandbox),
        writes_before,
        "nothing written yet: the change waits in the window"
    );
    assert_eq!(stop_with(&mut serve, "INT"), Some(0));
    assert_eq!(
        w.sandbox.tiktok_quantity("90011", "7001"),
        Some(240),
        "40 + 200 was written before serve exited"
    );
}
