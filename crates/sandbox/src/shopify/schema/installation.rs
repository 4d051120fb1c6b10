//! `currentAppInstallation`: the app behind the access token and the scopes it was granted.

use async_graphql::{Object, ID};

use crate::credentials::SHOPIFY_ACCESS_SCOPES;
use crate::shopify::gid::gid;

/// `AppInstallation` of the one app the emulator knows.
pub(crate) struct AppInstallation;

#[Object]
impl AppInstallation {
    async fn id(&self) -> ID {
        ID(gid("AppInstallation", 1))
    }
    /// Always [`SHOPIFY_ACCESS_SCOPES`].
    async fn access_scopes(&self) -> Vec<AccessScope> {
        SHOPIFY_ACCESS_SCOPES
            .into_iter()
            .map(|handle| AccessScope { handle })
            .collect()
    }
}

/// `AccessScope`.
pub(crate) struct AccessScope {
    handle: &'static str,
}

#[Object]
impl AccessScope {
    async fn handle(&self) -> &str {
        self.handle
    }
    async fn description(&self) -> String {
        let (verb, what) = self.handle.split_once('_').unwrap_or(("read", self.handle));
        let verb = if verb == "write" { "Modify" } else { "Read" };
        format!("{verb} {what}")
    }
}
