//! The `serve` process the chaos tests drive, its standard error kept in a file.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::binary::support::*;

/// A `serve` process whose standard error goes to a file; killed when dropped.
pub(super) struct Served {
    child: Child,
    pub(super) url: String,
    stderr: PathBuf,
}

impl Served {
    /// Starts serve and waits until its start-up reconciliation is done.
    pub(super) fn start(config: &Path, listen: &str, stderr: PathBuf) -> Served {
        let served = Served::spawn(config, listen, stderr);
        let ready = poll_until(Duration::from_secs(60), || {
            reqwest::blocking::get(format!("{}/healthz", served.url))
                .is_ok_and(|r| r.status().is_success())
        });
        assert!(ready, "serve became healthy:\n{}", served.stderr_text());
        served
    }

    /// Starts serve and waits until it answers at all (`/healthz` may still say starting).
    pub(super) fn spawn(config: &Path, listen: &str, stderr: PathBuf) -> Served {
        let child = bin()
            .args(["serve", "--config", config.to_str().unwrap()])
            .envs(SECRETS)
            .env("STOCKBRIDGE__TIKTOK__REQUESTS_PER_SECOND", "80")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("serve starts");
        let served = Served {
            child,
            url: format!("http://{listen}"),
            stderr,
        };
        let listening = poll_until(Duration::from_secs(60), || {
            reqwest::blocking::get(format!("{}/healthz", served.url)).is_ok()
        });
        assert!(listening, "serve listens:\n{}", served.stderr_text());
        served
    }

    pub(super) fn metric(&self, name: &str) -> u64 {
        let text = reqwest::blocking::get(format!("{}/metrics", self.url))
            .unwrap()
            .text()
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
    }

    pub(super) fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// SIGTERM, then the exit code; fails when serve takes longer than `limit`.
    #[cfg(unix)]
    pub(super) fn stop(&mut self, limit: Duration) -> Option<i32> {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                let stderr = self.stderr_text();
                let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
                panic!(
                    "serve did not stop after SIGTERM; the end of its log:\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
