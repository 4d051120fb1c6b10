//! `[fleet]`: a worker's file names the fleet's database, and may name the worker and its
//! lease timing. The fleet's secret key comes from `STOCKBRIDGE__FLEET__SECRET_KEY`.

use std::time::Duration;

use serde::Deserialize;
use stockbridge_ports::Secret;

use super::ranges::{parse_bounded_duration, DurationRange};
use super::{ConfigError, SecretValue};

/// `[fleet]` as written.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FleetSection {
    /// The fleet's PostgreSQL database.
    pub database_url: Option<String>,
    /// This worker's name, unique in the fleet (default `HOST-PID`).
    pub worker_id: Option<String>,
    /// How long a lease lasts unless renewed, `15s` by default.
    pub lease_ttl: Option<String>,
    /// How often leases are renewed, `10s` by default.
    pub heartbeat: Option<String>,
    /// The key sealing shop secrets (set it as `STOCKBRIDGE__FLEET__SECRET_KEY`).
    pub secret_key: Option<SecretValue>,
}

/// `[fleet]`, checked.
#[derive(Debug, Clone)]
pub struct FleetSettings {
    /// The fleet's PostgreSQL database.
    pub database_url: String,
    /// This worker's name.
    pub worker_id: String,
    /// How long a lease lasts unless renewed.
    pub lease_ttl: Duration,
    /// How often leases are renewed.
    pub heartbeat: Duration,
    /// The key sealing shop secrets, when set.
    pub secret_key: Option<Secret>,
}

/// `[fleet] lease_ttl`.
pub const LEASE_TTL: DurationRange = DurationRange {
    min: Duration::from_secs(3),
    max: Duration::from_secs(600),
    allowed: "a duration from 3s to 10m, such as \"15s\"",
};

/// `[fleet] heartbeat`.
pub const HEARTBEAT: DurationRange = DurationRange {
    min: Duration::from_secs(1),
    max: Duration::from_secs(200),
    allowed: "a duration from 1s to 200s and at most a third of lease_ttl, such as \"5s\"",
};

/// `[fleet]` checked; `None` when the file has no `database_url` (not a worker's file).
pub fn fleet_settings(section: &FleetSection) -> Result<Option<FleetSettings>, ConfigError> {
    let Some(url) = section.database_url.as_deref() else {
        return Ok(None);
    };
    if !crate::state::is_postgres(url) || crate::state::check(url).is_err() {
        return Err(ConfigError::Value {
            key: "fleet.database_url".into(),
            value: format!("{:?}", crate::state::redact(url)),
            allowed:
                "a PostgreSQL URL, \"postgres://USER@HOST:PORT/DATABASE\" (no sslmode=require)"
                    .into(),
        });
    }
    let worker_id = match section.worker_id.as_deref().map(str::trim) {
        None => default_worker_id(),
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) =>
        {
            id.to_owned()
        }
        Some(id) => {
            return Err(ConfigError::Value {
                key: "fleet.worker_id".into(),
                value: format!("{id:?}"),
                allowed: "1 to 64 letters, digits, '-', '_' or '.'".into(),
            })
        }
    };
    let lease_ttl = match &section.lease_ttl {
        Some(text) => parse_bounded_duration("fleet.lease_ttl", text, LEASE_TTL)?,
        // A killed worker's shops are owned again within a lease and a heartbeat (20 s),
        // and reconciled within fleet.md's 30 s.
        None => Duration::from_secs(15),
    };
    let heartbeat = match &section.heartbeat {
        Some(text) => parse_bounded_duration("fleet.heartbeat", text, HEARTBEAT)?,
        None => (lease_ttl / 3).min(Duration::from_secs(10)),
    };
    if heartbeat * 3 > lease_ttl {
        return Err(ConfigError::Value {
            key: "fleet.heartbeat".into(),
            value: format!("{:?}", humantime::format_duration(heartbeat).to_string()),
            allowed: format!(
                "at most a third of fleet.lease_ttl ({}), so a lease survives two missed beats",
                humantime::format_duration(lease_ttl)
            ),
        });
    }
    Ok(Some(FleetSettings {
        database_url: url.to_owned(),
        worker_id,
        lease_ttl,
        heartbeat,
        secret_key: section
            .secret_key
            .as_ref()
            .map(|s| s.0.clone())
            .filter(|s| !s.is_empty()),
    }))
}

fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned());
    format!("{host}-{}", std::process::id())
}
