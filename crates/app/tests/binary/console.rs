//! The merchant console in a real browser: headless Chromium driven through WebDriver
//! against `stockbridge serve` and `stockbridge sandbox` processes. Logging in, a stock
//! change reaching a SKU's page, the what-if preview against `stockbridge plan`, a breaker
//! trip approved from the overview, and what the console refuses.

mod browser;

use std::time::Duration;

use serde_json::json;

use crate::binary::breaker::drop_fixture;
use crate::binary::support::*;
use browser::Browser;

/// The console token the tests log in with.
const TOKEN: &str = "console-test-token-7f3a";

/// A sandbox and a `serve` with a console token, serving the sandbox's shop.
struct Shop {
    _dir: tempfile::TempDir,
    sandbox: SandboxProcess,
    serve: ServeLogged,
}

impl Shop {
    /// On loopback with the console token.
    fn start(fixture: &str, rules: &str) -> Shop {
        Shop::start_on("127.0.0.1", fixture, rules, Some(TOKEN))
    }

    /// Listening on `host`, with `token` as `[console] token` when given.
    fn start_on(host: &str, fixture: &str, rules: &str, token: Option<&str>) -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let port = unused_port();
        let fix = write(dir.path(), "fixture.json", fixture);
        let hook = format!("http://127.0.0.1:{port}/webhooks/shopify");
        let sandbox = SandboxProcess::start(&fix, &["--webhook-url", &hook]);
        let server = format!(
            "[server]\nlisten = \"{host}:{port}\"\nreconcile_every = \"1h\"\ncoalesce_window = \"50ms\"\n{rules}"
        );
        let config = sandbox.config(dir.path(), &server);
        let env: Vec<(&str, &str)> = token
            .map(|t| ("STOCKBRIDGE__CONSOLE__TOKEN", t))
            .into_iter()
            .collect();
        let serve = ServeLogged::spawn_healthy(&config, port, &env);
        Shop {
            _dir: dir,
            sandbox,
            serve,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.serve.url)
    }

    /// Logs the browser in with `token`.
    fn log_in(&self, browser: &Browser, token: &str) {
        browser.goto(&self.url("/login"));
        browser.fill("#token", token);
        browser.click("#login");
    }
}

fn health(shop: &Shop) -> serde_json::Value {
    reqwest::blocking::get(shop.url("/healthz"))
        .and_then(|r| r.json())
        .unwrap_or_default()
}

#[test]
fn the_console_asks_for_the_token_refuses_a_wrong_one_and_opens_with_the_right_one() {
    let Some(browser) = Browser::start("console_login") else {
        return;
    };
    let shop = Shop::start(SEED, "[rules]\nquantity_percent = 80\n");
    browser.run("console_login", |b| {
        b.goto(&shop.url("/"));
        assert_eq!(
            b.path(),
            "/login",
            "the overview sends a stranger to the login form"
        );
        shop.log_in(b, "not-the-token");
        assert_eq!(b.text("#login-error"), "Wrong token.");
        assert!(
            b.cookie("stockbridge_session").is_none(),
            "no session for a wrong token"
        );
        shop.log_in(b, TOKEN);
        assert_eq!(b.text("#status"), "ok");
        assert_eq!(b.path(), "/");
        assert!(
            !b.text("body").contains(TOKEN),
            "the token is never rendered"
        );
        assert!(b.cookie("stockbridge_session").is_some());
    });
    // Outside the login: health, metrics and the webhooks.
    assert_eq!(health(&shop)["status"], "ok");
    let metrics = reqwest::blocking::get(shop.url("/metrics")).unwrap();
    assert!(metrics.status().is_success());
}

#[test]
fn a_post_without_its_csrf_token_or_with_another_is_refused_even_with_a_session() {
    let Some(browser) = Browser::start("console_csrf") else {
        return;
    };
    let shop = Shop::start(SEED, "");
    let mut session = None;
    browser.run("console_csrf", |b| {
        shop.log_in(b, TOKEN);
        assert_eq!(b.text("#status"), "ok");
        session = b.cookie("stockbridge_session");
    });
    let cookie = format!("stockbridge_session={}", session.expect("a session cookie"));
    let client = reqwest::blocking::Client::new();
    let post = |path: &str, body: &str| {
        client
            .post(shop.url(path))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .unwrap()
    };
    for (path, body) in [
        ("/approve", ""),
        ("/approve", "csrf=0000"),
        ("/what-if", "rules=%5Brules%5D"),
        ("/logout", ""),
    ] {
        let answer = post(path, body);
        assert_eq!(answer.status().as_u16(), 403, "POST {path} {body:?}");
        assert!(answer.text().unwrap().contains("CSRF token"));
    }
    let stranger = client.post(shop.url("/approve")).send().unwrap();
    assert_eq!(stranger.status().as_u16(), 403, "no session, no POST");
}

#[test]
fn after_a_stock_change_the_sku_page_shows_the_new_number_and_one_more_history_point() {
    let Some(browser) = Browser::start("console_sku") else {
        return;
    };
    let shop = Shop::start(SEED, "[rules]\nquantity_percent = 80\n");
    browser.run("console_sku", |b| {
        shop.log_in(b, TOKEN);
        b.goto(&shop.url("/skus/TEE-RED-S"));
        assert_eq!(b.text(".hold-quantity"), "240");
        let before: usize = b
            .attribute("#history", "data-points")
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(b.count("#history circle.point"), before);
        shop.sandbox.control(
            "POST",
            "/_sandbox/shopify/inventory_levels",
            Some(json!({"inventory_item_id": 1001, "location_id": 1, "available": 50})),
        );
        let shown = b.reload_until(Duration::from_secs(10), |b| {
            b.text(".hold-quantity") == "200"
        });
        assert!(shown, "(50 + 200) x 80% = 200 shows as what TikTok holds");
        assert_eq!(shop.sandbox.tiktok_quantity("90011", "7001"), Some(200));
        assert_eq!(b.count("#history circle.point"), before + 1);
        assert!(b
            .text("#entries")
            .contains("webhook:inventory_levels/update"));
        b.goto(&shop.url("/"));
        assert_eq!(
            b.count("#lag circle.point"),
            1,
            "the overview's lag chart has this hour's longest lag"
        );
    });
}

#[test]
fn the_what_if_preview_of_a_rule_gives_the_counts_stockbridge_plan_gives() {
    let Some(browser) = Browser::start("console_what_if") else {
        return;
    };
    let shop = Shop::start(SEED, "[rules]\nquantity_percent = 80\n");
    let rule = "[rules]\nquantity_percent = 50\nreserve_units = 10\n\n[[rules.location_mapping]]\nshopify_locations = [\"Location A\"]\ntiktok_warehouse = \"α\"\n";
    let mut shown = Vec::new();
    browser.run("console_what_if", |b| {
        shop.log_in(b, TOKEN);
        b.goto(&shop.url("/what-if"));
        assert!(
            b.text("#rules").contains("quantity_percent = 80"),
            "pre-filled"
        );
        b.fill("#rules", "[rules]\nquantity_percent = 150\n");
        b.click("#preview");
        assert!(
            b.text("#error").contains("rules.quantity_percent = 150"),
            "an error names the key as the command line does"
        );
        b.fill("#rules", rule);
        b.click("#preview");
        for id in [
            "preview-lines",
            "changed",
            "up",
            "down",
            "zeroed",
            "units-before",
            "units-after",
        ] {
            shown.push(b.text(&format!("#{id}")).parse::<u64>().unwrap());
        }
        assert_eq!(b.text("#toml"), rule.trim_end());
    });
    let dir = tempfile::tempdir().unwrap();
    let config = shop.sandbox.config(dir.path(), rule);
    let plan = run(
        &[
            "plan",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
        &SECRETS,
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let s = &plan.json()["summary"];
    let expected: Vec<u64> = [
        "lines",
        "changed",
        "up",
        "down",
        "zeroed",
        "units_before",
        "units_after",
    ]
    .iter()
    .map(|k| s[k].as_u64().unwrap())
    .collect();
    assert_eq!(shown, expected, "what-if and plan agree: {s}");
    assert!(
        expected[2] + expected[3] > 0,
        "the rule changes something: {s}"
    );
}

#[test]
fn a_breaker_trip_shows_on_the_overview_and_approve_sends_the_held_writes() {
    let Some(browser) = Browser::start("console_breaker") else {
        return;
    };
    let shop = Shop::start(&drop_fixture(true), "");
    shop.sandbox.control(
        "POST",
        "/_sandbox/shopify/locations/1",
        Some(json!({"active": false})),
    );
    assert!(
        poll_until(Duration::from_secs(10), || health(&shop)["status"]
            == "degraded"),
        "the reconciliation after the deactivation trips"
    );
    browser.run("console_breaker", |b| {
        shop.log_in(b, TOKEN);
        assert_eq!(b.text("#status"), "degraded");
        assert!(b.text("#problem").contains("held 24 writes to 0"));
        assert_eq!(b.count("#held .held-row"), 24);
        assert_eq!(
            shop.sandbox.tiktok_quantity("8001", "7001"),
            Some(10),
            "held"
        );
        b.click("#approve");
        assert!(b.text("#approved").starts_with("Approved"));
        assert!(
            poll_until(Duration::from_secs(10), || shop
                .sandbox
                .tiktok_quantity("8001", "7001")
                == Some(0)),
            "the held writes went out"
        );
        let cleared = b.reload_until(Duration::from_secs(10), |b| {
            b.count("#breaker") == 0 && b.text("#status") == "ok"
        });
        assert!(cleared, "the overview no longer shows held writes");
    });
    assert!(shop.sandbox.tiktok_quantity("8231", "7001") == Some(0));
}

fn get(shop: &Shop, path: &str) -> (u16, String) {
    let answer = reqwest::blocking::get(shop.url(path)).unwrap();
    (answer.status().as_u16(), answer.text().unwrap())
}

#[test]
fn without_a_token_the_console_opens_on_loopback_and_refuses_beyond_it() {
    let open = Shop::start_on("127.0.0.1", SEED, "", None);
    let (status, page) = get(&open, "/");
    assert_eq!(status, 200);
    assert!(page.contains("id=\"status\""), "{page}");
    assert!(!page.contains("Log out"), "no login without a token");
    let wide = Shop::start_on("0.0.0.0", SEED, "", None);
    for path in ["/", "/plan", "/login", "/what-if"] {
        let (status, page) = get(&wide, path);
        assert_eq!(status, 403, "{path}");
        assert!(page.contains("console.token"), "{path}: {page}");
    }
    assert_eq!(
        health(&wide)["status"],
        "ok",
        "/healthz stays outside the console"
    );
}

#[test]
fn the_plan_page_filters_changed_and_zeroing_lines_and_pages_them() {
    // 24 lines stay at 10, 2 go from 3 up to 7.
    let shop = Shop::start_on("127.0.0.1", &drop_fixture(true), "", None);
    let matching = |query: &str| {
        let (status, page) = get(&shop, &format!("/plan{query}"));
        assert_eq!(status, 200, "{query}");
        let start = page.find("id=\"matching\">").expect("a count") + "id=\"matching\">".len();
        let rows = page.matches("<tr><td><a href=\"/skus/").count();
        (page[start..].split(' ').next().unwrap().to_owned(), rows)
    };
    assert_eq!(matching(""), ("26".into(), 26));
    assert_eq!(matching("?filter=changed"), ("2".into(), 2));
    assert_eq!(matching("?filter=zero"), ("0".into(), 0));
    assert_eq!(
        matching("?sku=Z-1"),
        ("11".into(), 11),
        "Z-1 and Z-10..Z-19"
    );
    assert_eq!(matching("?filter=changed&sku=U-0"), ("1".into(), 1));
    assert_eq!(
        matching("?page=1"),
        ("26".into(), 0),
        "one page of 100 holds them all"
    );
}
