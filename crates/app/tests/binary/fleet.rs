//! The fleet test of fleet.md, through the real binary: 4 worker processes share 1,000 shops
//! of one multi-shop sandbox process and one PostgreSQL; a stream of changes runs over many
//! shops while one worker is killed (`kill -9`) and another paused past its lease
//! (`SIGSTOP`) then resumed (`SIGCONT`). At the end every shop's TikTok stock equals its
//! plan, the sandbox saw no write under an older epoch arrive after one under a newer epoch,
//! and no webhook a worker answered was lost (the shops' scheduled reconciliation is an hour
//! away: only webhooks and takeovers bring TikTok to the plan). Failover times are printed.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use stockbridge_adapters_postgres::testing::TestDatabase;
use stockbridge_adapters_postgres::{Fleet, NewShop, PostgresStore, SecretKey};
use stockbridge_ports::Secret;

use crate::binary::support::*;

const KEY: &str = "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=";
const SHOPS: usize = 1_000;
const WORKERS: usize = 4;
/// A lease lasts 8 s, renewed every 2 s: a killed worker's shops are free within 8 s, and a
/// TikTok request may take (8 - 1 - 2) / 2 = 2.5 s.
const LEASE_TTL: &str = "8s";
const HEARTBEAT: &str = "2s";
/// TEE-RED-S (inventory item 1001): Location A + Location B (200), at 80%, into α.
const SKU: &str = "90011";
const ALPHA: &str = "7001";

fn domain(k: usize) -> String {
    format!("shop-{k}.myshopify.com")
}

/// Shop `k` of `stockbridge sandbox --shops N`, as `shops add` would store it.
fn new_shop(k: usize, sandbox: &str) -> NewShop {
    let settings = format!(
        "[shopify]\nshop_domain = \"{d}\"\nbase_url = \"{sandbox}/shops/{d}\"\nread_mode = \"paged\"\n\
         [tiktok]\napp_key = \"sandbox_app_key-{k}\"\nshop_cipher = \"SHOP_{k}\"\n\
         base_url = \"{sandbox}\"\nauth_base_url = \"{sandbox}\"\nrequest_timeout = \"5s\"\n\
         [server]\ncoalesce_window = \"100ms\"\nreconcile_every = \"1h\"\n\
         [rules]\nquantity_percent = 80\n",
        d = domain(k)
    );
    let secrets = [
        ("shopify.access_token", "shpat_sandbox_demo_token"),
        ("shopify.webhook_secret", "sandbox_webhook_secret"),
        ("tiktok.app_secret", "sandbox_app_secret"),
        ("tiktok.access_token", "sandbox_access_token"),
        ("tiktok.refresh_token", "sandbox_refresh_token"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), Secret::new(format!("{value}-{k}"))))
    .collect::<BTreeMap<_, _>>();
    NewShop {
        shop_domain: domain(k),
        tiktok_shop_cipher: format!("SHOP_{k}"),
        settings,
        secrets,
    }
}

/// What `shops list --format json` says, by domain.
fn listed(worker_file: &Path) -> HashMap<String, Value> {
    let run = run(
        &[
            "shops",
            "list",
            "--config",
            worker_file.to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()["shops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["shop_domain"].as_str().unwrap().to_owned(), s.clone()))
        .collect()
}

fn reconciled_after(shop: &Value, at: SystemTime) -> bool {
    shop["last_reconcile_at"]
        .as_str()
        .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
        .is_some_and(|t| t > at)
}

/// A worker that went at `at` (`wall` by the clock), with the shops it held.
struct Gone<'a> {
    owner: &'a str,
    shops: &'a [String],
    at: Instant,
    wall: SystemTime,
}

/// How long after each worker went every shop it held was owned by another worker and
/// reconciled since (polled, up to `limit`); `None` for one where that did not happen.
fn failovers(worker_file: &Path, gone: &[Gone<'_>], limit: Duration) -> Vec<Option<Duration>> {
    let mut times = vec![None; gone.len()];
    poll_until(limit, || {
        let now = listed(worker_file);
        for (time, g) in times.iter_mut().zip(gone) {
            if time.is_none()
                && g.shops.iter().all(|d| {
                    let s = &now[d];
                    s["owner"].as_str().is_some_and(|o| o != g.owner) && reconciled_after(s, g.wall)
                })
            {
                *time = Some(g.at.elapsed());
            }
        }
        times.iter().all(Option::is_some)
    });
    times
}

fn plan(location_a: i64) -> i64 {
    (location_a.max(0) + 200) * 80 / 100
}

#[test]
#[cfg(unix)]
fn four_workers_keep_a_thousand_shops_at_their_plan_through_a_kill_and_a_pause() {
    let Some(db) = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(TestDatabase::new())
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..WORKERS).map(|_| unused_port()).collect();
    // Shopify delivers to the two workers that neither die nor pause: every webhook is
    // answered by a worker that may not own the shop.
    let fixture = write(dir.path(), "fixture.json", SEED);
    let shops_arg = SHOPS.to_string();
    let mut args = vec!["--shops", shops_arg.as_str()];
    let hooks: Vec<String> = ports[2..]
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}/webhooks/shopify"))
        .collect();
    for hook in &hooks {
        args.extend(["--webhook-url", hook.as_str()]);
    }
    let sandbox = SandboxProcess::start(&fixture, &args);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = PostgresStore::connect(db.url()).await.unwrap();
        let fleet = Fleet::new(&store);
        let key = SecretKey::parse(KEY).unwrap();
        for k in 1..=SHOPS {
            fleet
                .put_shop(&key, &new_shop(k, &sandbox.base_url))
                .await
                .unwrap();
        }
    });

    let files: Vec<_> = (0..WORKERS)
        .map(|i| {
            write(
                dir.path(),
                &format!("worker-{i}.toml"),
                &format!(
                    "[fleet]\ndatabase_url = \"{}\"\nworker_id = \"w{i}\"\nlease_ttl = \"{LEASE_TTL}\"\nheartbeat = \"{HEARTBEAT}\"\n\
                     [server]\nlisten = \"127.0.0.1:{}\"\ncoalesce_window = \"200ms\"\n",
                    db.url(),
                    ports[i]
                ),
            )
        })
        .collect();
    let started = Instant::now();
    let mut workers: Vec<ServeLogged> = (0..WORKERS)
        .map(|i| {
            ServeLogged::spawn(
                &files[i],
                ports[i],
                &[("STOCKBRIDGE__FLEET__SECRET_KEY", KEY)],
            )
        })
        .collect();

    // Every shop owned and reconciled, by all four workers.
    let all_reconciled = poll_until(Duration::from_secs(600), || {
        let now = listed(&files[0]);
        now.len() == SHOPS
            && now
                .values()
                .all(|s| !s["owner"].is_null() && !s["last_reconcile_at"].is_null())
    });
    assert!(
        all_reconciled,
        "every shop owned and reconciled; {:?}",
        listed(&files[0])
            .values()
            .filter(|s| s["last_reconcile_at"].is_null())
            .take(3)
            .collect::<Vec<_>>()
    );
    println!(
        "fleet test: {SHOPS} shops owned and reconciled by {WORKERS} workers in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let before = listed(&files[0]);
    let held_by = |w: &str| -> Vec<String> {
        before
            .iter()
            .filter(|(_, s)| s["owner"] == w)
            .map(|(d, _)| d.clone())
            .collect()
    };
    let (killed, paused) = (held_by("w0"), held_by("w1"));
    assert!(
        !killed.is_empty() && !paused.is_empty(),
        "the fair share gave w0 and w1 shops"
    );

    // A stream of changes over many shops (item 1001 at Location A), with a shop of each
    // doomed worker changed just before it goes.
    let mut expected: BTreeMap<usize, i64> = BTreeMap::new();
    let mut seed: u64 = 0x5eed_f1ee7;
    let mut random = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let number = |d: &str| -> usize {
        d.trim_start_matches("shop-")
            .trim_end_matches(".myshopify.com")
            .parse()
            .unwrap()
    };
    let change = |expected: &mut BTreeMap<usize, i64>, k: usize, value: i64| {
        sandbox.control(
            "POST",
            &format!("/_sandbox/shopify/inventory_levels?shop={}", domain(k)),
            Some(serde_json::json!({"inventory_item_id": 1001, "location_id": 1, "available": value})),
        );
        expected.insert(k, value);
    };
    let mut killed_at = None;
    let mut paused_at = None;
    for round in 0..300 {
        let k = 1 + random(SHOPS as u64) as usize;
        change(&mut expected, k, random(500) as i64);
        if round == 50 {
            change(&mut expected, number(&killed[0]), 7);
            workers[0].signal("KILL");
            killed_at = Some((Instant::now(), SystemTime::now()));
        }
        if round == 100 {
            change(&mut expected, number(&paused[0]), 9);
            workers[1].signal("STOP");
            paused_at = Some((Instant::now(), SystemTime::now()));
        }
    }
    let (killed_at, killed_wall) = killed_at.unwrap();
    let (paused_at, paused_wall) = paused_at.unwrap();
    let times = failovers(
        &files[2],
        &[
            Gone {
                owner: "w0",
                shops: &killed,
                at: killed_at,
                wall: killed_wall,
            },
            Gone {
                owner: "w1",
                shops: &paused,
                at: paused_at,
                wall: paused_wall,
            },
        ],
        Duration::from_secs(300),
    );
    let (kill_failover, pause_failover) = (times[0], times[1]);
    println!(
        "fleet test: kill -9 of w0 ({} shops): owned again and reconciled {:.1} s after the kill",
        killed.len(),
        kill_failover.map_or(f64::NAN, |d| d.as_secs_f64())
    );
    println!(
        "fleet test: SIGSTOP of w1 ({} shops): owned again and reconciled {:.1} s after the pause",
        paused.len(),
        pause_failover.map_or(f64::NAN, |d| d.as_secs_f64())
    );
    assert!(
        kill_failover.is_some(),
        "the killed worker's shops moved on"
    );
    assert!(
        pause_failover.is_some(),
        "the paused worker's shops moved on"
    );
    // The paused worker wakes up: its leases are gone, it must write nothing under them, and
    // it rejoins (the others give it its share back). More changes meanwhile, on its
    // former shops too.
    workers[1].signal("CONT");
    for round in 0..100 {
        let k = if round % 4 == 0 {
            number(&paused[round % paused.len()])
        } else {
            1 + random(SHOPS as u64) as usize
        };
        change(&mut expected, k, random(500) as i64);
    }

    // Every shop at its plan: the changed ones at their last change, the others untouched.
    let quantity = |k: usize| {
        quantity_in_state(
            &sandbox.control("GET", &format!("/_sandbox/state?shop={}", domain(k)), None),
            SKU,
            ALPHA,
        )
    };
    let converged = poll_until(Duration::from_secs(300), || {
        expected
            .iter()
            .all(|(k, value)| quantity(*k) == Some(plan(*value)))
    });
    let wrong: Vec<_> = (1..=SHOPS)
        .filter_map(|k| {
            let want = plan(expected.get(&k).copied().unwrap_or(100));
            let got = quantity(k);
            (got != Some(want)).then_some((k, want, got))
        })
        .collect();
    assert!(
        converged && wrong.is_empty(),
        "{} shops off their plan (shop, plan, TikTok): {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(10)]
    );

    // The writer of every write, in arrival order: never an older epoch after a newer one.
    let mut writes = 0;
    let mut stale = Vec::new();
    for k in 1..=SHOPS {
        let list = sandbox.control(
            "GET",
            &format!("/_sandbox/writes?shop_cipher=SHOP_{k}"),
            None,
        );
        let mut newest = 0i64;
        for write in list.as_array().unwrap() {
            writes += 1;
            let lease = write["lease"]
                .as_str()
                .unwrap_or_else(|| panic!("a write without a lease: {write}"));
            let epoch: i64 = lease.rsplit(';').next().unwrap().parse().unwrap();
            if epoch < newest {
                stale.push((k, lease.to_owned(), newest));
            }
            newest = newest.max(epoch);
        }
    }
    println!(
        "fleet test: {} changes over {} shops, {writes} TikTok writes, {} under a stale epoch",
        400 + 2,
        expected.len(),
        stale.len()
    );
    assert!(
        stale.is_empty(),
        "writes under an older epoch after a newer one: {stale:?}"
    );
    for worker in &mut workers[1..] {
        worker.signal("TERM");
    }
}
