//! `currentAppInstallation`: the app behind the access token and the scopes it was granted.

use async_graphql::{Object, ID};

use async_graphql::Context;

use crate::shopify::gid::gid;

/// `AppInstallation` of the one app the emulator knows.
pub(crate) struct AppInstallation;

#[Object]
impl AppInstallation {
    async fn id(&self) -> ID {
        ID(gid("AppInstallation", 1))
    }
    /// The fixture's `credentials.scopes`, or every scope Stockbridge needs.
    async fn access_scopes(&self, ctx: &Context<'_>) -> Vec<AccessScope> {
        super::shared(ctx)
            .credentials
            .shopify_scopes()
            .into_iter()
            .map(|handle| AccessScope { handle })
            .collect()
    }
}

/// `AccessScope`.
pub(crate) struct AccessScope {
    handle: String,
}

#[Object]
impl AccessScope {
    async fn handle(&self) -> &str {
        &self.handle
    }
    async fn description(&self) -> String {
        let (verb, what) = self
            .handle
            .split_once('_')
            .unwrap_or(("read", &self.handle));
        let verb = if verb == "write" { "Modify" } else { "Read" };
        format!("{verb} {what}")
    }
}
