//! The emulated stores' current state, with the indexes that keep every request O(page).

pub(crate) mod orders;
pub(crate) mod shopify;
pub(crate) mod tiktok;
pub(crate) mod writes;

use crate::credentials::Credentials;
use crate::fixture::Fixture;

/// How long a refresh token lives (TikTok reports far-future values; one year here).
pub(crate) const REFRESH_TOKEN_LIFETIME_SECONDS: i64 = 365 * 24 * 3600;

/// Everything both emulators know, behind one lock.
pub(crate) struct World {
    pub(crate) shopify: shopify::ShopifyStore,
    pub(crate) tiktok: tiktok::TikTokStore,
    pub(crate) tokens: tiktok::Tokens,
    pub(crate) orders: orders::OrderBook,
    pub(crate) credentials: Credentials,
    /// The TikTok inventory writes that changed stock, in arrival order.
    pub(crate) writes: Vec<writes::TikTokWrite>,
}

impl World {
    pub(crate) fn new(mut fixture: Fixture, now_millis: i64, token_lifetime_millis: i64) -> World {
        let orders = orders::OrderBook::new(
            std::mem::take(&mut fixture.shopify.orders),
            std::mem::take(&mut fixture.tiktok.orders),
            now_millis,
        );
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
            orders,
            credentials: fixture.credentials,
            writes: Vec::new(),
        }
    }

    /// The state in the fixture format, quantities as they are now.
    pub(crate) fn snapshot(&self) -> Fixture {
        let mut shopify = self.shopify.snapshot();
        shopify.orders = self.orders.shopify_orders().to_vec();
        let mut tiktok = self.tiktok.snapshot();
        tiktok.orders = self.orders.tiktok_orders().to_vec();
        Fixture {
            shopify,
            tiktok,
            credentials: self.credentials.clone(),
        }
    }
}
