//! What the fleet benchmark reads: the fleet's shops (owner, last reconciliation), the
//! database's own counters, percentiles.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use tokio_postgres::NoTls;

/// A shop as the measures see it: its owner (while its lease is unexpired) and its newest
/// finished reconciliation or sync.
#[derive(Debug, Clone)]
pub struct Seen {
    pub shop_domain: String,
    pub owner: Option<String>,
    pub last_reconcile_at: Option<SystemTime>,
}

/// A connection to the bench's database that reads what the measures need in one cheap
/// statement (not `shops list`'s, which asks several questions per shop: polled every half
/// second over 10,000 shops it would load the server the workers share).
pub struct Probe {
    client: tokio_postgres::Client,
}

impl Probe {
    pub async fn connect(url: &str) -> Probe {
        let (client, connection) = tokio_postgres::connect(url, NoTls)
            .await
            .expect("the bench database answers");
        tokio::spawn(connection);
        Probe { client }
    }

    /// Every shop, by domain; `last_reconcile_at` only when at or after `since`.
    pub async fn shops(&self, since: Option<SystemTime>) -> HashMap<String, Seen> {
        let since = since.unwrap_or(SystemTime::UNIX_EPOCH);
        let rows = self
            .client
            .query(
                "SELECT s.shop_domain, \
                        CASE WHEN l.expires_at > clock_timestamp() THEN l.owner END, r.last \
                 FROM shops s LEFT JOIN shop_leases l ON l.shop_id = s.id \
                 LEFT JOIN (SELECT shop_id, max(finished_at) AS last FROM runs \
                            WHERE outcome IN ('succeeded', 'partly_failed') \
                              AND finished_at >= $1 GROUP BY shop_id) r ON r.shop_id = s.id",
                &[&since],
            )
            .await
            .expect("the fleet's shops");
        rows.iter()
            .map(|row| {
                let seen = Seen {
                    shop_domain: row.get(0),
                    owner: row.get(1),
                    last_reconcile_at: row.get(2),
                };
                (seen.shop_domain.clone(), seen)
            })
            .collect()
    }
}

/// Whether a shop is owned and was reconciled after `since`.
pub fn settled(row: &Seen, since: SystemTime, not_by: Option<&str>) -> bool {
    let owner_ok = match (&row.owner, not_by) {
        (None, _) => false,
        (Some(owner), Some(dead)) => owner != dead,
        (Some(_), None) => true,
    };
    owner_ok && row.last_reconcile_at.is_some_and(|at| at >= since)
}

/// Polls (every half second) until every shop in `domains` is settled (see [`settled`]) or
/// `limit` passes; the time each one was first seen settled, from `start` (`None`: never).
pub async fn until_settled(
    probe: &Probe,
    domains: &[String],
    since: SystemTime,
    not_by: Option<&str>,
    start: Instant,
    limit: Duration,
) -> HashMap<String, Option<Duration>> {
    let mut seen: HashMap<String, Option<Duration>> =
        domains.iter().map(|d| (d.clone(), None)).collect();
    let mut last_report = Instant::now();
    loop {
        let rows = probe.shops(Some(since)).await;
        let elapsed = start.elapsed();
        for (domain, at) in seen.iter_mut() {
            if at.is_none() && rows.get(domain).is_some_and(|r| settled(r, since, not_by)) {
                *at = Some(elapsed);
            }
        }
        let done = seen.values().filter(|v| v.is_some()).count();
        if last_report.elapsed() > Duration::from_secs(15) {
            eprintln!("  {done}/{} settled after {elapsed:.0?}", seen.len());
            last_report = Instant::now();
        }
        if done == seen.len() || elapsed > limit {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Counters of the database, for rates between two readings.
#[derive(Debug, Clone, Copy, Default)]
pub struct DbCounters {
    /// Index and sequential scans started on the bench schema's tables: one or more per
    /// statement that reads or changes a table.
    pub scans: i64,
    /// Rows inserted, updated and deleted in the bench schema's tables.
    pub rows_written: i64,
    /// Transactions committed and rolled back in the whole database (other users included).
    pub transactions: i64,
    pub at: Option<Instant>,
}

pub async fn db_counters(server_url: &str, schema: &str) -> DbCounters {
    let (client, connection) = tokio_postgres::connect(server_url, NoTls)
        .await
        .expect("the database answers");
    let driver = tokio::spawn(connection);
    // The counters are flushed by each backend at most once a second; ask for fresh ones.
    let _ = client.simple_query("SELECT pg_stat_clear_snapshot()").await;
    let tables = client
        .query_one(
            "SELECT COALESCE(SUM(seq_scan + COALESCE(idx_scan, 0)), 0)::bigint, \
                    COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint \
             FROM pg_stat_user_tables WHERE schemaname = $1",
            &[&schema],
        )
        .await
        .expect("table counters");
    let database = client
        .query_one(
            "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database \
             WHERE datname = current_database()",
            &[],
        )
        .await
        .expect("database counters");
    drop(client);
    let _ = driver.await;
    DbCounters {
        scans: tables.get(0),
        rows_written: tables.get(1),
        transactions: database.get(0),
        at: Some(Instant::now()),
    }
}

/// Per-second rates between two readings: (scans, rows written, transactions).
pub fn rates(before: DbCounters, after: DbCounters) -> (f64, f64, f64) {
    let seconds = match (before.at, after.at) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64().max(0.001),
        _ => return (0.0, 0.0, 0.0),
    };
    (
        (after.scans - before.scans) as f64 / seconds,
        (after.rows_written - before.rows_written) as f64 / seconds,
        (after.transactions - before.transactions) as f64 / seconds,
    )
}

/// The `p`th percentile (0..=100) of sorted durations, nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
