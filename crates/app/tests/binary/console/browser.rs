//! A headless Chromium driven through WebDriver (`chromedriver`), with a blocking API so the
//! console's tests read like the others. A failing test's last page is kept as a screenshot
//! under the target directory (`tmp/browser-screenshots/`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::binary::support::{poll_until, unused_port};

/// How long a page may take to show an element.
const WAIT: Duration = Duration::from_secs(15);

/// Where Debian's `chromium` and `chromium-driver` put the browser and its driver; `PATH`
/// is searched too.
fn find(name: &str) -> Option<PathBuf> {
    let debian = PathBuf::from("/usr/bin").join(name);
    if debian.is_file() {
        return Some(debian);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// A browser session, closed (and its driver stopped) when dropped.
pub struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile. `None`, after saying
    /// so loudly on standard error, when either is not installed: the caller skips its test.
    pub fn start(test: &str) -> Option<Browser> {
        let (Some(chromium), Some(chromedriver)) = (find("chromium"), find("chromedriver")) else {
            eprintln!(
                "\n*** SKIPPED {test}: the console's browser tests need chromium and chromedriver \
                 (Debian: apt-get install chromium chromium-driver), and neither /usr/bin nor \
                 PATH has them ***\n"
            );
            return None;
        };
        let port = unused_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let up = poll_until(Duration::from_secs(20), || {
            reqwest::blocking::get(format!("{url}/status")).is_ok_and(|r| r.status().is_success())
        });
        assert!(up, "chromedriver answers on {url}");
        let profile = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.path().display()),
                    "--window-size=1280,1000",
                ],
            }),
        );
        let client = runtime
            .block_on(async {
                let connector = hyper_util::client::legacy::connect::HttpConnector::new();
                ClientBuilder::new(connector)
                    .capabilities(capabilities)
                    .connect(&url)
                    .await
            })
            .expect("a Chromium session starts");
        Some(Browser {
            runtime,
            client: Some(client),
            driver,
            _profile: profile,
        })
    }

    fn client(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    /// Runs `steps`; when they fail, keeps a screenshot of the page as `{test}.png` first.
    pub fn run(&self, test: &str, steps: impl FnOnce(&Browser)) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| steps(self)));
        if let Err(panic) = outcome {
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots");
            let path = dir.join(format!("{test}.png"));
            let saved = std::fs::create_dir_all(&dir).is_ok()
                && self
                    .runtime
                    .block_on(self.client().screenshot())
                    .is_ok_and(|png| std::fs::write(&path, png).is_ok());
            if saved {
                eprintln!("screenshot of the failing page: {}", path.display());
            }
            std::panic::resume_unwind(panic);
        }
    }

    /// Opens a URL.
    pub fn goto(&self, url: &str) {
        self.runtime
            .block_on(self.client().goto(url))
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// The page's current path.
    pub fn path(&self) -> String {
        let url = self.runtime.block_on(self.client().current_url()).unwrap();
        url.path().to_owned()
    }

    /// The text of the first element matching `css`, waiting for it.
    pub fn text(&self, css: &str) -> String {
        self.runtime.block_on(async {
            let element = self
                .client()
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no element {css}: {e}"));
            element.text().await.unwrap()
        })
    }

    /// An attribute of the first element matching `css`, waiting for it.
    pub fn attribute(&self, css: &str, name: &str) -> Option<String> {
        self.runtime.block_on(async {
            let element = self
                .client()
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no element {css}: {e}"));
            element.attr(name).await.unwrap()
        })
    }

    /// How many elements match `css` now.
    pub fn count(&self, css: &str) -> usize {
        self.runtime
            .block_on(self.client().find_all(Locator::Css(css)))
            .map(|all| all.len())
            .unwrap_or(0)
    }

    /// Sets the value of a field (a textarea's newlines included).
    pub fn fill(&self, css: &str, value: &str) {
        self.runtime.block_on(async {
            let element = self
                .client()
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no element {css}: {e}"));
            let element = serde_json::to_value(element).unwrap();
            self.client()
                .execute(
                    "arguments[0].value = arguments[1];",
                    vec![element, json!(value)],
                )
                .await
                .unwrap();
        });
    }

    /// Clicks the first element matching `css` and waits for the next page to load.
    pub fn click(&self, css: &str) {
        self.runtime.block_on(async {
            let element = self
                .client()
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no element {css}: {e}"));
            element.click().await.unwrap();
        });
    }

    /// The value of a cookie the console set.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.runtime
            .block_on(self.client().get_named_cookie(name))
            .ok()
            .map(|c| c.value().to_owned())
    }

    /// Reloads the page until `done` holds or `limit` passes; whether it held.
    pub fn reload_until(&self, limit: Duration, mut done: impl FnMut(&Browser) -> bool) -> bool {
        poll_until(limit, || {
            self.runtime.block_on(self.client().refresh()).unwrap();
            done(self)
        })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
