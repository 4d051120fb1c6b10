//! The processes the fleet benchmark drives: `stockbridge sandbox` and `stockbridge serve`
//! workers, each killed when dropped, and what /proc says about them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process, killed (SIGKILL) and reaped when dropped.
pub struct Proc {
    child: Child,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`, as a crash would.
    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether it is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill_9();
    }
}

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stockbridge"))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `stockbridge sandbox --fixture F --listen ADDR ARGS...`; waits for its base URL.
pub fn sandbox(fixture: &Path, args: &[&str], log: &Path) -> (Proc, String) {
    let mut child = bin()
        .args(["sandbox", "--fixture"])
        .arg(fixture)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).expect("log file"))
        .spawn()
        .expect("the sandbox starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut base = None;
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(url) = line.strip_prefix("TikTok Shop API:") {
            base = Some(url.trim().to_owned());
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let base = base.unwrap_or_else(|| panic!("the sandbox printed no base URL; see {log:?}"));
    (Proc { child }, base)
}

/// `stockbridge serve --config FILE` with the fleet's secret key, logs to `log`.
pub fn worker(config: &Path, secret_key: &str, log: &Path) -> Proc {
    let log_file = std::fs::File::create(log).expect("log file");
    let child = bin()
        .args(["serve", "--config"])
        .arg(config)
        .env("STOCKBRIDGE__FLEET__SECRET_KEY", secret_key)
        .stdout(log_file.try_clone().expect("log file"))
        .stderr(log_file)
        .spawn()
        .expect("the worker starts");
    Proc { child }
}

/// Resident memory of a process in KiB (`VmRSS`), 0 when gone.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// How many files a process has open (its sockets included), 0 when gone.
pub fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// The machine's load average, as `/proc/loadavg` says.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// Waits until `GET url` answers 200, up to `limit`.
pub async fn wait_healthy(url: &str, limit: Duration) -> bool {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}
