//! Processed webhooks: ids remembered so that a redelivered webhook is handled once. Any
//! worker of a fleet answers webhooks for any shop, so these rows are not fenced by a lease.

use std::time::SystemTime;

use stockbridge_ports::StoreError;
use tokio_postgres::{Client, GenericClient};

use crate::error::store_error;
use crate::store::ShopScope;

/// Remembers every id in one transaction; `true` when none was remembered yet. A seen id
/// keeps its first time.
pub(crate) async fn remember_all(
    client: &mut Client,
    scope: ShopScope,
    ids: &[String],
    at: SystemTime,
) -> Result<bool, StoreError> {
    let tx = client.transaction().await.map_err(store_error)?;
    let new = remember(&tx, scope, ids, at).await?;
    tx.commit().await.map_err(store_error)?;
    Ok(new)
}

/// Remembers the ids in one statement; `true` when none was remembered yet.
pub(crate) async fn remember(
    client: &impl GenericClient,
    scope: ShopScope,
    ids: &[String],
    at: SystemTime,
) -> Result<bool, StoreError> {
    let inserted = client
        .execute(
            "INSERT INTO processed_webhooks (shop_id, id, received_at) \
             SELECT $1, id, $3 FROM unnest($2::text[]) AS id \
             ON CONFLICT (shop_id, id) DO NOTHING",
            &[&scope.shop_id, &ids, &at],
        )
        .await
        .map_err(store_error)?;
    let distinct = ids.iter().collect::<std::collections::BTreeSet<_>>().len();
    Ok(inserted as usize == distinct)
}

/// Forgets ids received before `before`; returns how many.
pub(crate) async fn forget_before(
    client: &Client,
    scope: ShopScope,
    before: SystemTime,
) -> Result<u64, StoreError> {
    client
        .execute(
            "DELETE FROM processed_webhooks WHERE shop_id = $1 AND received_at < $2",
            &[&scope.shop_id, &before],
        )
        .await
        .map_err(store_error)
}
