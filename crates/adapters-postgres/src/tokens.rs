//! Platform tokens. They are secrets: bound as parameters (never part of SQL text, so never
//! in an error), and read back straight into [`Secret`]s.

use stockbridge_ports::{PlatformTokens, Secret, StoreError};
use tokio_postgres::Client;

use crate::error::store_error;
use crate::row::unreadable_row;
use crate::store::{begin_write, ShopScope};

/// Saves both tokens of `platform` at once, replacing any saved before.
pub(crate) async fn save(
    client: &mut Client,
    scope: ShopScope,
    platform: &str,
    tokens: &PlatformTokens,
) -> Result<(), StoreError> {
    let tx = begin_write(client, scope).await?;
    tx.execute(
        "INSERT INTO platform_tokens (shop_id, platform, access_token, refresh_token, \
         access_expires_at, refresh_expires_at, epoch) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (shop_id, platform) DO UPDATE SET \
         access_token = excluded.access_token, refresh_token = excluded.refresh_token, \
         access_expires_at = excluded.access_expires_at, \
         refresh_expires_at = excluded.refresh_expires_at, epoch = excluded.epoch",
        &[
            &scope.shop_id,
            &platform,
            &tokens.access_token.expose(),
            &tokens.refresh_token.expose(),
            &tokens.access_expires_at,
            &tokens.refresh_expires_at,
            &scope.epoch,
        ],
    )
    .await
    .map_err(store_error)?;
    tx.commit().await.map_err(store_error)
}

/// The saved tokens of `platform`, if any.
pub(crate) async fn load(
    client: &Client,
    scope: ShopScope,
    platform: &str,
) -> Result<Option<PlatformTokens>, StoreError> {
    let row = client
        .query_opt(
            "SELECT access_token, refresh_token, access_expires_at, refresh_expires_at \
             FROM platform_tokens WHERE shop_id = $1 AND platform = $2",
            &[&scope.shop_id, &platform],
        )
        .await
        .map_err(store_error)?;
    row.map(|row| {
        Ok(PlatformTokens {
            access_token: Secret::new(row.try_get::<_, String>(0).map_err(unreadable_row)?),
            refresh_token: Secret::new(row.try_get::<_, String>(1).map_err(unreadable_row)?),
            access_expires_at: row.try_get(2).map_err(unreadable_row)?,
            refresh_expires_at: row.try_get(3).map_err(unreadable_row)?,
        })
    })
    .transpose()
}
