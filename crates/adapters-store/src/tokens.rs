//! Platform tokens. They are secrets: bound as parameters (never part of SQL text, so never
//! in an error), and read back straight into [`Secret`]s.

use rusqlite::{params, Connection, OptionalExtension};
use stockbridge_ports::{PlatformTokens, Secret, StoreError};

use crate::error::store_error;
use crate::time::{from_optional_millis, to_optional_millis};

/// Saves both tokens of `platform` at once, replacing any saved before.
pub(crate) fn save(
    conn: &mut Connection,
    platform: &str,
    tokens: &PlatformTokens,
) -> Result<(), StoreError> {
    let access_expires_at = to_optional_millis(tokens.access_expires_at)?;
    let refresh_expires_at = to_optional_millis(tokens.refresh_expires_at)?;
    conn.prepare_cached(
        "INSERT INTO platform_tokens \
         (platform, access_token, refresh_token, access_expires_at, refresh_expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (platform) DO UPDATE SET \
         access_token = excluded.access_token, refresh_token = excluded.refresh_token, \
         access_expires_at = excluded.access_expires_at, \
         refresh_expires_at = excluded.refresh_expires_at",
    )
    .and_then(|mut upsert| {
        upsert.execute(params![
            platform,
            tokens.access_token.expose(),
            tokens.refresh_token.expose(),
            access_expires_at,
            refresh_expires_at,
        ])
    })
    .map(drop)
    .map_err(store_error)
}

/// The saved tokens of `platform`, if any.
pub(crate) fn load(
    conn: &mut Connection,
    platform: &str,
) -> Result<Option<PlatformTokens>, StoreError> {
    let stored = conn
        .prepare_cached(
            "SELECT access_token, refresh_token, access_expires_at, refresh_expires_at \
             FROM platform_tokens WHERE platform = ?1",
        )
        .and_then(|mut select| {
            select
                .query_row([platform], |row| {
                    Ok((
                        Secret::new(row.get::<_, String>(0)?),
                        Secret::new(row.get::<_, String>(1)?),
                        row.get::<_, Option<i64>>(2)?,
                        row.get::<_, Option<i64>>(3)?,
                    ))
                })
                .optional()
        })
        .map_err(store_error)?;
    stored
        .map(|(access_token, refresh_token, access, refresh)| {
            Ok(PlatformTokens {
                access_token,
                refresh_token,
                access_expires_at: from_optional_millis(access)?,
                refresh_expires_at: from_optional_millis(refresh)?,
            })
        })
        .transpose()
}
