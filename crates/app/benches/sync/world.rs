//! What the benchmarks run against: a `stockbridge sandbox` process (so its CPU and memory
//! are not counted as the app's) loaded with a generated fixture, a configuration file
//! pointing at it, and this process's CPU time and peak memory from /proc.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

/// The demo credentials' secrets, as the environment would carry them.
pub fn secrets() -> HashMap<String, String> {
    [
        (
            "STOCKBRIDGE__SHOPIFY__ACCESS_TOKEN",
            "shpat_sandbox_demo_token",
        ),
        (
            "STOCKBRIDGE__SHOPIFY__WEBHOOK_SECRET",
            "sandbox_webhook_secret",
        ),
        ("STOCKBRIDGE__TIKTOK__APP_SECRET", "sandbox_app_secret"),
        ("STOCKBRIDGE__TIKTOK__ACCESS_TOKEN", "sandbox_access_token"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The `stockbridge` binary the benchmarks run: `STOCKBRIDGE_BENCH_BIN` when set (an earlier
/// commit's build, to compare before and after in one session), else the one built with them.
pub fn binary() -> PathBuf {
    std::env::var_os("STOCKBRIDGE_BENCH_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_stockbridge")),
        PathBuf::from,
    )
}

/// The shape of a generated store.
pub struct Shape {
    /// Shopify variants, each with its own inventory item and SKU.
    pub variants: u64,
    /// Locations every variant is stocked at.
    pub locations: u64,
    /// TikTok SKUs per product (the variants are spread over `variants / skus_per_product`
    /// products).
    pub skus_per_product: u64,
    /// Whether TikTok starts at the Shopify sum (nothing to write) or at 0.
    pub tiktok_in_step: bool,
}

/// Variant `i`'s stock at location `l` (1-based).
pub fn available(i: u64, l: u64) -> i64 {
    ((i * 7 + l * 13) % 50) as i64
}

/// The fixture JSON: locations 1..=n, warehouse 7001 (default), SKUs `SKU-{i}` with ids
/// `70000000000 + i`.
pub fn fixture(shape: &Shape) -> String {
    let locations: Vec<Value> = (1..=shape.locations)
        .map(|l| json!({"id": l, "name": format!("Location {l}")}))
        .collect();
    let variants: Vec<Value> = (1..=shape.variants)
        .map(|i| {
            let levels: Vec<Value> = (1..=shape.locations)
                .map(|l| json!({"location_id": l, "available": available(i, l)}))
                .collect();
            json!({"id": 1_000_000 + i, "product_id": 500_000 + i / shape.skus_per_product,
                   "sku": format!("SKU-{i}"), "inventory_item_id": 2_000_000 + i, "levels": levels})
        })
        .collect();
    let products: Vec<Value> = (1..=shape.variants.div_ceil(shape.skus_per_product))
        .map(|p| {
            let first = (p - 1) * shape.skus_per_product + 1;
            let skus: Vec<Value> = (first..first + shape.skus_per_product)
                .filter(|&i| i <= shape.variants)
                .map(|i| {
                    let quantity = if shape.tiktok_in_step {
                        (1..=shape.locations).map(|l| available(i, l)).sum::<i64>()
                    } else {
                        0
                    };
                    json!({"id": format!("{}", 70_000_000_000u64 + i), "seller_sku": format!("SKU-{i}"),
                           "inventory": [{"warehouse_id": "7001", "quantity": quantity}]})
                })
                .collect();
            json!({"id": format!("{}", 1_729_000_000u64 + p), "skus": skus})
        })
        .collect();
    json!({
        "shopify": {"locations": locations, "variants": variants},
        "tiktok": {"warehouses": [{"id": "7001", "name": "Main", "is_default": true}],
                   "products": products},
    })
    .to_string()
}

/// A `stockbridge sandbox` process, killed when dropped.
pub struct SandboxProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    client: reqwest::Client,
}

impl SandboxProcess {
    /// Starts it on a free port with TikTok limited to `tiktok_rps` (Shopify's bucket at the
    /// Standard plan's defaults).
    pub fn start(
        fixture: &Path,
        tiktok_rps: u32,
        webhook_url: Option<&str>,
        extra: &[&str],
    ) -> SandboxProcess {
        let mut cmd = Command::new(binary());
        cmd.args(["sandbox", "--fixture", fixture.to_str().unwrap()])
            .args(["--listen", "127.0.0.1:0"])
            .args(["--tiktok-rps", &tiktok_rps.to_string()]);
        if let Some(url) = webhook_url {
            cmd.args(["--webhook-url", url]);
        }
        cmd.args(extra);
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the sandbox starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base_url = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                l.strip_prefix("TikTok Shop API:")
                    .map(|u| u.trim().to_owned())
            })
            .expect("the sandbox prints its base URL");
        std::thread::spawn(move || for _ in lines {});
        SandboxProcess {
            child,
            base_url,
            client: reqwest::Client::new(),
        }
    }

    /// A control API call.
    pub async fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base_url);
        let req = match method {
            "GET" => self.client.get(url),
            _ => self.client.post(url).json(&body.unwrap_or(Value::Null)),
        };
        let resp = req.send().await.expect("control API answers");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.expect("control API answers JSON")
    }

    /// A configuration file for this sandbox.
    pub fn config(&self, dir: &Path, tiktok_rps: u32, read_mode: &str, extra: &str) -> PathBuf {
        self.config_with(
            dir,
            dir,
            &format!("requests_per_second = {tiktok_rps}\n"),
            read_mode,
            extra,
        )
    }

    /// [`Self::config`] with the state file in `state_dir` and `tiktok` the `[tiktok]` lines
    /// after the sandbox's address and credentials (`requests_per_second`, `concurrency`).
    pub fn config_with(
        &self,
        dir: &Path,
        state_dir: &Path,
        tiktok: &str,
        read_mode: &str,
        extra: &str,
    ) -> PathBuf {
        let toml = format!(
            "[shopify]\nshop_domain = \"stockbridge-demo.myshopify.com\"\nbase_url = \"{base}\"\nread_mode = \"{read_mode}\"\n\
             [tiktok]\napp_key = \"sandbox_app_key\"\nbase_url = \"{base}\"\nauth_base_url = \"{base}\"\n\
             shop_cipher = \"SANDBOX_SHOP_CIPHER\"\n{tiktok}\
             [state]\nurl = \"sqlite://{state}\"\n{extra}\n",
            base = self.base_url,
            state = state_dir.join("state.db").display(),
        );
        let path = dir.join("stockbridge.toml");
        std::fs::write(&path, toml).unwrap();
        path
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fields of `/proc/self/stat` after the command name (field 3 onwards).
fn stat_fields() -> Vec<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after
        .split_whitespace()
        .map(|f| f.parse::<u64>().unwrap_or(0))
        .collect()
}

/// User + system CPU time of this process's waited-for children, in seconds (`cutime` and
/// `cstime`, fields 16 and 17 of stat(5), in ticks of 1/100 s).
pub fn children_cpu_seconds() -> f64 {
    let fields = stat_fields();
    let ticks = |field: usize| fields.get(field - 3).copied().unwrap_or(0);
    (ticks(16) + ticks(17)) as f64 / 100.0
}

/// This process's user + system CPU time in seconds (`utime` and `stime`, fields 14, 15).
pub fn cpu_seconds() -> f64 {
    let fields = stat_fields();
    let ticks = |field: usize| fields.get(field - 3).copied().unwrap_or(0);
    (ticks(14) + ticks(15)) as f64 / 100.0
}

/// A `/proc/PID/status` value in MB (`VmHWM`, `VmRSS`); 0 once the process is gone.
pub fn status_mb_of(pid: u32, key: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The machine, for the report.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{cores} cores, {cpu}; load average at start {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// When and on which commit the figures were taken: the UTC date and `git describe`'s answer
/// (with `-dirty` when the tree has uncommitted changes), so a figure can be traced to its code.
pub fn provenance() -> String {
    let run = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|| "unknown".to_owned())
    };
    format!(
        "{} UTC, commit {}",
        run("date", &["-u", "+%Y-%m-%d %H:%M"]),
        run("git", &["describe", "--always", "--dirty", "--abbrev=12"])
    )
}
