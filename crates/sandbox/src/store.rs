//! The emulated stores' current state, with the indexes that keep every request O(page).

pub(crate) mod shopify;
pub(crate) mod tiktok;

use crate::credentials::Credentials;
use crate::fixture::Fixture;

/// Everything both emulators know, behind one lock.
pub(crate) struct World {
    pub(crate) shopify: shopify::ShopifyStore,
    pub(crate) tiktok: tiktok::TikTokStore,
    pub(crate) credentials: Credentials,
}

impl World {
    pub(crate) fn new(fixture: Fixture, now_millis: i64) -> World {
        World {
            shopify: shopify::ShopifyStore::new(fixture.shopify, now_millis),
            tiktok: tiktok::TikTokStore::new(fixture.tiktok, now_millis),
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
