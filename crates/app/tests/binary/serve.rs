//! `stockbridge serve` as an operator runs it, against `stockbridge sandbox` in another
//! process: webhooks delivered over HTTP, TikTok read back through the control API. Changes
//! reaching TikTok (`realtime`), what the webhook endpoint refuses (`webhooks`), stopping on
//! a signal (`shutdown`) and the metrics (`metrics`).

mod connections;
mod metrics;
mod realtime;
mod replays;
mod shutdown;
mod webhooks;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::binary::support::*;

/// A `stockbridge serve` process, killed when dropped.
struct ServeProcess {
    child: Child,
    url: String,
}

impl ServeProcess {
    fn start(config: &Path) -> ServeProcess {
        let child = bin()
            .args(["serve", "--config", config.to_str().unwrap()])
            .envs(SECRETS)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let toml = std::fs::read_to_string(config).unwrap();
        let listen = toml
            .lines()
            .find_map(|l| l.strip_prefix("listen = "))
            .unwrap()
            .trim_matches('"')
            .to_owned();
        let server = ServeProcess {
            child,
            url: format!("http://{listen}"),
        };
        let ready = poll_until(Duration::from_secs(30), || {
            reqwest::blocking::get(format!("{}/healthz", server.url))
                .is_ok_and(|r| r.status().is_success())
        });
        assert!(ready, "serve became healthy (start-up reconcile done)");
        server
    }

    fn metrics(&self) -> String {
        reqwest::blocking::get(format!("{}/metrics", self.url))
            .unwrap()
            .text()
            .unwrap()
    }

    fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

struct World {
    _dir: tempfile::TempDir,
    sandbox: SandboxProcess,
    config: std::path::PathBuf,
}

fn world(rules: &str) -> World {
    world_with_window("150ms", rules)
}

/// A world whose serve coalesces changes for `window`.
fn world_with_window(window: &str, rules: &str) -> World {
    world_from(SEED, window, rules)
}

/// A world whose sandbox starts from `fixture`.
fn world_from(fixture: &str, window: &str, rules: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let port = unused_port();
    let fix = write(dir.path(), "fixture.json", fixture);
    let hook = format!("http://127.0.0.1:{port}/webhooks/shopify");
    let sandbox = SandboxProcess::start(&fix, &["--webhook-url", &hook]);
    let server = format!("[server]\nlisten = \"127.0.0.1:{port}\"\nreconcile_every = \"1h\"\ncoalesce_window = \"{window}\"\n{rules}");
    let config = sandbox.config(dir.path(), &server);
    World {
        _dir: dir,
        sandbox,
        config,
    }
}

fn set_level(sandbox: &SandboxProcess, item: u64, location: u64, available: i64) {
    sandbox.control(
        "POST",
        "/_sandbox/shopify/inventory_levels",
        Some(json!({"inventory_item_id": item, "location_id": location, "available": available})),
    );
}

fn inventory_update_calls(sandbox: &SandboxProcess) -> u64 {
    sandbox.control("GET", "/_sandbox/stats", None)["inventory_updates"]["calls"]
        .as_u64()
        .unwrap()
}
