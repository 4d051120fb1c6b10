//! Running the binary and the emulators from tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The seed's example store: Location A 100 and B 200 of a T-shirt stocked in α and β, 985
/// mugs, an untracked e-book and a continue-selling candle.
pub const SEED: &str = include_str!("../../src/demo/fixture.json");

/// A store with bundles (sync-rules.md §8): MUG 7 (also listed on its own) and TEE 4 + 5;
/// BOX is 2 × MUG + 1 × TEE; READER is an untracked e-book and 3 × TEE; GIFTSET is made
/// only of untracked and continue-selling items; MYSTERY's component is not in the shop.
pub const BUNDLES: &str = r#"{
  "shopify": {
    "locations": [{"id": 1, "name": "Location A"}, {"id": 2, "name": "Location B"}],
    "variants": [
      {"id": 201, "product_id": 20, "sku": "MUG", "inventory_item_id": 2001,
       "levels": [{"location_id": 1, "available": 7}]},
      {"id": 202, "product_id": 21, "sku": "TEE", "inventory_item_id": 2002,
       "levels": [{"location_id": 1, "available": 4}, {"location_id": 2, "available": 5}]},
      {"id": 203, "product_id": 22, "sku": "EBOOK", "inventory_item_id": 2003, "tracked": false},
      {"id": 204, "product_id": 23, "sku": "CANDLE", "inventory_item_id": 2004,
       "inventory_policy": "CONTINUE"},
      {"id": 301, "product_id": 30, "sku": "BOX", "inventory_item_id": 3001,
       "components": [{"variant_id": 201, "quantity": 2}, {"variant_id": 202, "quantity": 1}]},
      {"id": 302, "product_id": 31, "sku": "READER", "inventory_item_id": 3002,
       "components": [{"variant_id": 203, "quantity": 1}, {"variant_id": 202, "quantity": 3}]},
      {"id": 303, "product_id": 32, "sku": "GIFTSET", "inventory_item_id": 3003,
       "components": [{"variant_id": 203, "quantity": 1}, {"variant_id": 204, "quantity": 2}]},
      {"id": 304, "product_id": 33, "sku": "MYSTERY", "inventory_item_id": 3004,
       "components": [{"variant_id": 999, "quantity": 1}]}
    ]
  },
  "tiktok": {
    "warehouses": [{"id": "7001", "name": "α", "is_default": true}],
    "products": [
      {"id": "9201", "skus": [{"id": "92011", "seller_sku": "MUG",
        "inventory": [{"warehouse_id": "7001", "quantity": 0}]}]},
      {"id": "9301", "skus": [{"id": "93011", "seller_sku": "BOX",
        "inventory": [{"warehouse_id": "7001", "quantity": 0}]}]},
      {"id": "9302", "skus": [{"id": "93021", "seller_sku": "READER",
        "inventory": [{"warehouse_id": "7001", "quantity": 0}]}]},
      {"id": "9303", "skus": [{"id": "93031", "seller_sku": "GIFTSET",
        "inventory": [{"warehouse_id": "7001", "quantity": 0}]}]},
      {"id": "9304", "skus": [{"id": "93041", "seller_sku": "MYSTERY",
        "inventory": [{"warehouse_id": "7001", "quantity": 5}]}]}
    ]
  }
}"#;

pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stockbridge"));
    cmd.env_remove("STOCKBRIDGE_LOG");
    for (key, _) in std::env::vars() {
        if key.starts_with("STOCKBRIDGE__") {
            cmd.env_remove(key);
        }
    }
    cmd
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

pub fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = bin();
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs").into()
}

pub fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// A `stockbridge sandbox` process, killed when dropped.
pub struct SandboxProcess {
    child: Child,
    pub base_url: String,
    stderr: Option<PathBuf>,
}

impl SandboxProcess {
    pub fn start(fixture: &Path, extra: &[&str]) -> SandboxProcess {
        Self::spawn(fixture, extra, None)
    }

    /// Like `start`, with the sandbox's stderr kept in `stderr` (see `stderr_text`).
    pub fn start_logged(fixture: &Path, extra: &[&str], stderr: PathBuf) -> SandboxProcess {
        Self::spawn(fixture, extra, Some(stderr))
    }

    /// What the sandbox wrote to stderr (empty unless started with `start_logged`).
    pub fn stderr_text(&self) -> String {
        self.stderr
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    }

    fn spawn(fixture: &Path, extra: &[&str], stderr: Option<PathBuf>) -> SandboxProcess {
        let errors = match &stderr {
            Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
            None => Stdio::null(),
        };
        let mut child = bin()
            .args([
                "sandbox",
                "--fixture",
                fixture.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(errors)
            .spawn()
            .expect("the sandbox starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut base_url = None;
        while Instant::now() < deadline {
            let Some(Ok(line)) = lines.next() else { break };
            if let Some(url) = line.strip_prefix("TikTok Shop API:") {
                base_url = Some(url.trim().to_owned());
                break;
            }
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let base_url = base_url.expect("the sandbox prints its base URL");
        SandboxProcess {
            child,
            base_url,
            stderr,
        }
    }

    pub fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let client = reqwest::blocking::Client::new();
        let url = format!("{}{path}", self.base_url);
        let req = match method {
            "GET" => client.get(url),
            _ => client.post(url).json(&body.unwrap_or(Value::Null)),
        };
        let resp = req.send().expect("control API answers");
        assert!(
            resp.status().is_success(),
            "control API {path}: {}",
            resp.status()
        );
        resp.json().unwrap_or(Value::Null)
    }

    /// With `true`, every TikTok inventory write fails as in an outage (`unavailable`); with
    /// `false`, every fault is cleared.
    pub fn fail_tiktok_writes(&self, fail: bool) {
        let faults = if fail {
            serde_json::json!({"tiktok": {"error_rate": 1.0, "endpoints": ["inventory_update"]}})
        } else {
            serde_json::json!({})
        };
        self.control("POST", "/_sandbox/faults", Some(faults));
    }

    /// The quantity TikTok holds for a SKU in a warehouse.
    pub fn tiktok_quantity(&self, sku_id: &str, warehouse: &str) -> Option<i64> {
        quantity_in_state(
            &self.control("GET", "/_sandbox/state", None),
            sku_id,
            warehouse,
        )
    }

    /// A config file pointing both adapters at this sandbox with its demo credentials.
    pub fn config(&self, dir: &Path, rules: &str) -> PathBuf {
        let toml = format!(
            "[shopify]\nshop_domain = \"stockbridge-demo.myshopify.com\"\nbase_url = \"{base}\"\nread_mode = \"paged\"\n\
             [tiktok]\napp_key = \"sandbox_app_key\"\nbase_url = \"{base}\"\nauth_base_url = \"{base}\"\nshop_cipher = \"SANDBOX_SHOP_CIPHER\"\n\
             [state]\nurl = \"sqlite://{state}\"\n{rules}\n",
            base = self.base_url,
            state = dir.join("state.db").display(),
        );
        write(dir, "stockbridge.toml", &toml)
    }
}

/// The demo credentials' secrets, passed through the environment as documented.
pub const SECRETS: [(&str, &str); 4] = [
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
];

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn quantity_in_state(state: &Value, sku_id: &str, warehouse: &str) -> Option<i64> {
    state["tiktok"]["products"]
        .as_array()?
        .iter()
        .flat_map(|p| p["skus"].as_array().cloned().unwrap_or_default())
        .find(|s| s["id"] == sku_id)
        .and_then(|s| {
            s["inventory"]
                .as_array()?
                .iter()
                .find(|i| i["warehouse_id"] == warehouse)
                .and_then(|i| i["quantity"].as_i64())
        })
}

/// A loopback port free right now.
pub fn unused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `done` every 20 ms until it holds or `limit` has passed; whether it held.
pub fn poll_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

/// The base64 HMAC-SHA256 Shopify puts in `X-Shopify-Hmac-Sha256`, with the demo secret.
pub fn sandbox_webhook_signature(body: &str) -> String {
    use base64::Engine as _;
    use hmac::{Mac, SimpleHmac};
    let mut mac = <SimpleHmac<sha2::Sha256>>::new_from_slice(b"sandbox_webhook_secret").unwrap();
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A `stockbridge serve` process whose standard output and error are kept (off a terminal,
/// so its logs are JSON lines); killed when dropped.
pub struct ServeLogged {
    pub child: Child,
    pub url: String,
    stdout: Option<std::thread::JoinHandle<String>>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

fn collect(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

impl ServeLogged {
    /// Starts `serve --config config` listening on `port` (the config's `[server] listen`)
    /// with the demo secrets and `env`; does not wait for it to be ready.
    pub fn spawn(config: &Path, port: u16, env: &[(&str, &str)]) -> ServeLogged {
        let mut child = bin()
            .args(["serve", "--config", config.to_str().unwrap()])
            .envs(SECRETS)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        ServeLogged {
            child,
            url: format!("http://127.0.0.1:{port}"),
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }

    /// Starts serve as [`ServeLogged::spawn`] does and waits up to 30 s for `/healthz` to
    /// answer 200 (the start-up reconciliation done); panics if it does not.
    pub fn spawn_healthy(config: &Path, port: u16, env: &[(&str, &str)]) -> ServeLogged {
        let serve = ServeLogged::spawn(config, port, env);
        assert!(
            serve.wait_healthy(Duration::from_secs(30)),
            "serve became healthy (start-up reconcile done)"
        );
        serve
    }

    /// The Prometheus text of `/metrics`.
    pub fn metrics(&self) -> String {
        reqwest::blocking::get(format!("{}/metrics", self.url))
            .and_then(|r| r.text())
            .expect("/metrics answers")
    }

    /// Whether `/healthz` answered 200 (start-up reconciliation done) within `limit`.
    pub fn wait_healthy(&self, limit: Duration) -> bool {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        poll_until(limit, || {
            client
                .get(format!("{}/healthz", self.url))
                .send()
                .is_ok_and(|r| r.status().is_success())
        })
    }

    /// Sends `signal` (`TERM`, `KILL`) with `kill(1)`.
    #[cfg(unix)]
    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{signal}");
    }

    /// Waits up to `limit` for the process to end; its exit status, or `None` (by signal or
    /// still running).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let mut status = None;
        poll_until(limit, || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        status
    }

    /// Everything it printed, once it has ended: (stdout, stderr).
    pub fn output(&mut self) -> (String, String) {
        let take = |h: &mut Option<std::thread::JoinHandle<String>>| {
            h.take().map(|h| h.join().unwrap()).unwrap_or_default()
        };
        (take(&mut self.stdout), take(&mut self.stderr))
    }
}

impl Drop for ServeLogged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
