//! The fleet benchmark of BENCHMARKS.md (issue 16): N shops (10,000 by default) on 4
//! `stockbridge serve` fleet workers sharing one PostgreSQL, against one multi-shop
//! `stockbridge sandbox` process (`--shops N`) and a second sandbox holding a whale shop.
//!
//! 1. own and reconcile: the shops are stored, the workers start; the time until every shop is
//!    owned and reconciled once;
//! 2. real time: a few busy shops get a Shopify change each per second, or `..._BUSY_RATE`
//!    (webhooks to worker 1);
//!    the time from each change to the TikTok write that carries it (the sandbox's write log),
//!    first with the fleet quiet, then while the whale shop (100,000 variants) is added and
//!    runs its first full sync; p50, p99, max;
//! 3. steady state: PostgreSQL activity per second and the workers' memory per shop (their
//!    resident memory beyond an idle worker's, over the shops they hold);
//! 4. the schedule: once every shop had time for a scheduled reconciliation, how many were
//!    not reconciled within their `reconcile_every` (and a grace of 30 s);
//! 5. failover: `kill -9` of worker 4; for each of its shops, the time until another worker
//!    owns it and has reconciled it; p50, max.
//!
//! `cargo bench -p stockbridge-app --bench fleet`. Environment: `STOCKBRIDGE_BENCH_FLEET_SHOPS`
//! (default 10000), `..._WORKERS` (4), `..._WHALE_VARIANTS` (100000), `..._BUSY` (busy shops,
//! 10), `..._BUSY_RATE` (changes per busy shop per second, over its items in turn, 1),
//! `..._VARIANTS` (variants of each small shop, 5),
//! `..._BASELINE_SECONDS` (30), `..._LIMIT_SECONDS` (bound of each wait, 1800),
//! `..._RECONCILE_SECONDS` (each small shop's `reconcile_every`, 300), `..._TIKTOK_RPS` (every
//! shop's `tiktok.requests_per_second` and the sandboxes' TikTok limit per shop, 200: TikTok's
//! limit, as the sync bench uses),
//! `STOCKBRIDGE_BENCH_DATABASE_URL` (the server; default `postgres://postgres@127.0.0.1:5432/test`;
//! the bench works in a database `stockbridge_fleet_bench` of its own on that server, dropped
//! and made again at start, so that the database's counters are its own).

mod measure;
mod procs;
mod realtime;
mod setup;

use std::time::{Duration, Instant, SystemTime};

use measure::{percentile, secs};

fn env_number<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(format!("STOCKBRIDGE_BENCH_FLEET_{key}"))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The sizes of one run.
pub struct Sizes {
    pub shops: usize,
    pub workers: usize,
    pub whale_variants: u64,
    pub busy: usize,
    /// Variants (and TikTok SKUs) of each small shop: item ids `5001..`, SKUs `900001..`.
    pub variants: u64,
    /// Changes per busy shop per second, over its items in turn.
    pub busy_rate: usize,
    pub baseline: Duration,
    pub limit: Duration,
    /// Each small shop's `reconcile_every`.
    pub reconcile_every: Duration,
    /// Every shop's `tiktok.requests_per_second`, and each sandbox shop's TikTok limit.
    pub tiktok_rps: u32,
}

fn main() {
    let sizes = Sizes {
        shops: env_number("SHOPS", 10_000),
        workers: env_number("WORKERS", 4),
        whale_variants: env_number("WHALE_VARIANTS", 100_000),
        busy: env_number("BUSY", 10),
        variants: env_number("VARIANTS", 5),
        busy_rate: env_number("BUSY_RATE", 1),
        baseline: Duration::from_secs(env_number("BASELINE_SECONDS", 30)),
        limit: Duration::from_secs(env_number("LIMIT_SECONDS", 1800)),
        reconcile_every: Duration::from_secs(env_number("RECONCILE_SECONDS", 300)),
        tiktok_rps: env_number("TIKTOK_RPS", 200),
    };
    println!(
        "fleet bench: {} shops, {} workers, whale of {} variants, {} busy shops at {} changes/s each, TikTok at {} requests/s per shop; load average at start: {}",
        sizes.shops,
        sizes.workers,
        sizes.whale_variants,
        sizes.busy,
        sizes.busy_rate,
        sizes.tiktok_rps,
        procs::load_average()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run(&sizes));
}

async fn run(sizes: &Sizes) {
    let mut world = setup::World::start(sizes).await;
    let mut report = Vec::new();

    // 1. Own and reconcile every shop.
    let idle_rss = world.idle_worker_rss().await;
    let sandbox_rss_before = procs::rss_kib(world.sandbox.pid());
    let since = SystemTime::now();
    let start = Instant::now();
    world.start_workers();
    let domains = world.domains();
    let settled =
        measure::until_settled(&world.probe, &domains, since, None, start, sizes.limit).await;
    let owned_at = Instant::now();
    let mut times: Vec<Duration> = settled.values().filter_map(|t| *t).collect();
    times.sort();
    let unsettled = settled.len() - times.len();
    report.push(format!(
        "| own and reconcile {} shops on {} workers | all: {} ({} not within the limit); half: {} |",
        sizes.shops,
        sizes.workers,
        secs(times.last().copied().unwrap_or_default()),
        unsettled,
        secs(percentile(&times, 50.0)),
    ));

    // 3. Steady state, before anything else moves.
    let before = measure::db_counters(&world.server_url, setup::SCHEMA).await;
    tokio::time::sleep(sizes.baseline).await;
    let after = measure::db_counters(&world.server_url, setup::SCHEMA).await;
    let (scans, rows, transactions) = measure::rates(before, after);
    report.push(format!(
        "| PostgreSQL, steady state ({} s) | {transactions:.0} transactions/s (a statement outside a transaction counts one); {scans:.0} table scans/s, {rows:.0} rows written/s |",
        sizes.baseline.as_secs()
    ));
    let held = world.held_per_worker().await;
    let mut worker_rss = 0;
    let mut worker_files = 0;
    for (i, proc) in world.workers.iter().enumerate() {
        let rss = procs::rss_kib(proc.pid());
        let files = procs::open_files(proc.pid());
        worker_rss += rss;
        worker_files += files;
        println!(
            "  worker {}: {} shops, {} MiB resident, {files} files open",
            i + 1,
            held.get(i).copied().unwrap_or(0),
            rss / 1024
        );
    }
    let beyond_idle = worker_rss.saturating_sub(idle_rss * sizes.workers as u64);
    report.push(format!(
        "| worker memory | {} MiB resident over {} workers (an idle worker: {} MiB); {:.1} KiB per shop beyond idle; {worker_files} files open (connections included) |",
        worker_rss / 1024,
        sizes.workers,
        idle_rss / 1024,
        beyond_idle as f64 / sizes.shops as f64
    ));
    let sandbox_rss = procs::rss_kib(world.sandbox.pid());
    report.push(format!(
        "| sandbox memory | {} MiB with {} shops built ({} MiB with one): {:.1} KiB per shop; {} files open (its connections included) |",
        sandbox_rss / 1024,
        sizes.shops,
        sandbox_rss_before / 1024,
        sandbox_rss.saturating_sub(sandbox_rss_before) as f64 / sizes.shops as f64,
        procs::open_files(world.sandbox.pid())
    ));

    // 2. Real time, quiet then beside the whale's full sync.
    let quiet = realtime::run(&world, sizes, sizes.baseline, None).await;
    report.push(quiet.row("real time, fleet quiet"));
    let whale_since = SystemTime::now();
    world.add_whale().await;
    let whale_start = Instant::now();
    let busy = realtime::run(&world, sizes, sizes.limit, Some(whale_since)).await;
    report.push(busy.row("real time, whale full sync running"));
    let whale = measure::until_settled(
        &world.probe,
        &[setup::WHALE_DOMAIN.to_owned()],
        whale_since,
        None,
        whale_start,
        sizes.limit,
    )
    .await;
    report.push(format!(
        "| whale ({} variants) owned and reconciled | {} |",
        sizes.whale_variants,
        whale[setup::WHALE_DOMAIN].map_or("not within the limit".to_owned(), secs)
    ));

    // The schedule: every shop reconciled again within its `reconcile_every` (and a grace
    // for the reconciliation itself), looked at once every shop had time for one.
    let grace = Duration::from_secs(30);
    let due = owned_at + sizes.reconcile_every + grace;
    if let Some(wait) = due.checked_duration_since(Instant::now()) {
        println!("  waiting {wait:.0?} for every shop's scheduled reconciliation");
        tokio::time::sleep(wait).await;
    }
    let now = SystemTime::now();
    let rows = world.probe.shops(None).await;
    let mut ages: Vec<Duration> = rows
        .values()
        .filter(|r| r.shop_domain != setup::WHALE_DOMAIN)
        .map(|r| {
            r.last_reconcile_at
                .and_then(|at| now.duration_since(at).ok())
                .unwrap_or(Duration::MAX)
        })
        .collect();
    ages.sort();
    let overdue = ages
        .iter()
        .filter(|a| **a > sizes.reconcile_every + grace)
        .count();
    report.push(format!(
        "| reconcile schedule (every {} s) | {} of {} shops overdue (last reconciliation over {} s ago); p50 {}, oldest {} ago |",
        sizes.reconcile_every.as_secs(),
        overdue,
        ages.len(),
        (sizes.reconcile_every + grace).as_secs(),
        secs(percentile(&ages, 50.0)),
        ages.last().map_or("none".to_owned(), |a| if *a == Duration::MAX { "never".to_owned() } else { secs(*a) }),
    ));

    // 4. Failover after kill -9.
    let victim = format!("{}{}", setup::WORKER_PREFIX, sizes.workers);
    let rows = world.probe.shops(None).await;
    let orphans: Vec<String> = rows
        .values()
        .filter(|r| r.owner.as_deref() == Some(victim.as_str()))
        .map(|r| r.shop_domain.clone())
        .collect();
    let killed_at = SystemTime::now();
    let kill_start = Instant::now();
    world.workers[sizes.workers - 1].kill_9();
    let moved = measure::until_settled(
        &world.probe,
        &orphans,
        killed_at,
        Some(&victim),
        kill_start,
        sizes.limit,
    )
    .await;
    let mut failover: Vec<Duration> = moved.values().filter_map(|t| *t).collect();
    failover.sort();
    report.push(format!(
        "| failover after kill -9 of a worker holding {} shops | p50 {}, max {} ({} not within the limit) |",
        orphans.len(),
        secs(percentile(&failover, 50.0)),
        secs(failover.last().copied().unwrap_or_default()),
        orphans.len() - failover.len()
    ));

    println!("\n| measure | result |\n|---|---|");
    for row in &report {
        println!("{row}");
    }
    println!("\nload average at the end: {}", procs::load_average());
    let mut alive = 0;
    for worker in world.workers.iter_mut() {
        if worker.alive() {
            alive += 1;
        }
    }
    println!("workers still running at the end: {alive}");
}
