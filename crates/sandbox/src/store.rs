//! The emulated stores' current state, with the indexes that keep every request O(page).

pub(crate) mod shopify;
pub(crate) mod tiktok;

use crate::credentials::Credentials;
use crate::fixture::Fixture;

/// How long a refresh token lives (TikTok reports far-future values; one year here).
pub(crate) const REFRESH_TOKEN_LIFETIME_SECONDS: i64 = 365 * 24 * 3600;

/// Everything both emulators know, behind one lock.
pub(crate) struct World {
    pub(crate) shopify: shopify::ShopifyStore,
    pub(crate) tiktok: tiktok::TikTokStore,
    pub(crate) tokens: tiktok::Tokens,
    pub(crate) credentials: Credentials,
}

impl World {
    pub(crate) fn new(fixture: Fixture, now_millis: i64, token_lifetime_millis: i64) -> World {
        let tokens = tiktok::Tokens {
            access_token: fixture.credentials.tiktok_access_token.clone(),
            access_expires_at: now_millis.saturating_add(token_lifetime_millis),
            refresh_token: fixture.credentials.tiktok_refresh_token.clone(),
            refresh_expires_at: now_millis / 1000 + REFRESH_TOKEN_LIFETIME_SECONDS,
        };
        World {
            shopify: shopify::ShopifyStore::new(fixture.shopify, now_millis),
            tiktok: tiktok::TikTokStore::new(fixture.tiktok, now_millis),
            tokens,
            credentials: fixture.credentials,
        }
    }

    /// The state in the fixture format, quantities as they are now.
    pub(crate) fn snapshot(&self) -> Fixture {
        Fixture {
            shopify: self.shopify.snapshot(),
            tiktok: self.tiktok.snapshot(),
            credentials: self.credentials.clone(),
        }
    }
}
