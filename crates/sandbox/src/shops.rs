//! Many shops in one sandbox: which fixture each shop starts from, how a request finds its
//! shop, and building a shop's emulators lazily on its first request, so that 10,000 mostly
//! idle shops cost a few bytes each until used.
//!
//! A request finds its shop, first match wins:
//!
//! 1. a path under `/shops/{domain}/` (a Shopify `base_url` of `http://ADDR/shops/{domain}`);
//! 2. the `shop` query parameter (`?shop=DOMAIN`, every control call);
//! 3. TikTok's `shop_cipher` query parameter, when a shop has it;
//! 4. TikTok's `app_key` query parameter (the calls without a cipher: authorized shops, token
//!    endpoints), when a shop has it; among shops sharing an app key, the one whose access
//!    token (`x-tts-access-token`) or refresh token (`refresh_token`) matches;
//! 5. the `X-Shopify-Shop-Domain` header, then the `Host` header, when a shop has that domain;
//! 6. otherwise shop 1.
//!
//! Rules 1 and 2 are strict: an unknown domain is 404. The others fall back to shop 1, whose
//! own checks then refuse the call as the real service would (an unknown cipher is TikTok's
//! "no authorized shop has it").

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;

use crate::credentials::Credentials;
use crate::fixture::{Fixture, FixtureError};
use crate::server::SandboxError;

/// The shops a sandbox serves: one fixture, `N` copies of one, or a list.
#[derive(Debug, Clone)]
pub struct Shops {
    source: Source,
    /// Read from a `{"shops": [...]}` file (even of one shop): not to be copied.
    listed: bool,
}

#[derive(Debug, Clone)]
enum Source {
    /// Explicit fixtures (one for a one-shop sandbox), each with its own credentials.
    List(Vec<Fixture>),
    /// `count` copies of `template`, shop `k` renamed by [`copy_credentials`].
    Copies {
        template: Box<Fixture>,
        count: usize,
    },
}

/// A `{"shops": [...]}` file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShopList {
    shops: Vec<Fixture>,
}

/// Most shops one sandbox serves (`--shops`).
pub const MAX_SHOPS: usize = 1_000_000;

impl Shops {
    /// One shop: the fixture as it is (the one-shop sandbox of old).
    pub fn one(fixture: Fixture) -> Shops {
        Shops {
            source: Source::List(vec![fixture]),
            listed: false,
        }
    }

    /// `count` copies of `template`: shop `k` (1..=count) has domain `shop-k.myshopify.com`,
    /// cipher `SHOP_k` and every other credential of the template with `-k` appended.
    pub fn copies(template: Fixture, count: usize) -> Result<Shops, SandboxError> {
        if !(1..=MAX_SHOPS).contains(&count) {
            return Err(SandboxError::InvalidOption {
                option: "shops",
                value: count.to_string(),
                allowed: "1 to 1000000",
            });
        }
        Ok(Shops {
            source: Source::Copies {
                template: Box::new(template),
                count,
            },
            listed: false,
        })
    }

    /// Explicit shops, each its own fixture; domains and ciphers must be unique.
    pub fn list(shops: Vec<Fixture>) -> Result<Shops, FixtureError> {
        if shops.is_empty() {
            return Err(FixtureError::Invalid {
                path: "shops".to_owned(),
                message: "is empty; allowed: at least one shop".to_owned(),
            });
        }
        let mut domains = HashMap::new();
        let mut ciphers = HashMap::new();
        for (i, shop) in shops.iter().enumerate() {
            let c = &shop.credentials;
            if let Some(first) = domains.insert(c.shop_domain.clone(), i) {
                return Err(duplicate(i, "shop_domain", &c.shop_domain, first));
            }
            if let Some(first) = ciphers.insert(c.tiktok_shop_cipher.clone(), i) {
                return Err(duplicate(
                    i,
                    "tiktok_shop_cipher",
                    &c.tiktok_shop_cipher,
                    first,
                ));
            }
        }
        Ok(Shops {
            source: Source::List(shops),
            listed: true,
        })
    }

    /// Parses a fixture file's text: one shop's fixture, or `{"shops": [{"credentials",
    /// "shopify", "tiktok"}, ...]}`.
    pub fn from_json(text: &str) -> Result<Shops, FixtureError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|err| FixtureError::Format {
                path: "(root)".to_owned(),
                message: err.to_string(),
            })?;
        if value.get("shops").is_none() {
            return Fixture::from_json(text).map(Shops::one);
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let list: ShopList =
            serde_path_to_error::deserialize(&mut de).map_err(|err| FixtureError::Format {
                path: err.path().to_string(),
                message: err.inner().to_string(),
            })?;
        let mut shops = Vec::with_capacity(list.shops.len());
        for (i, shop) in list.shops.into_iter().enumerate() {
            // Each shop passes the one-shop checks; their paths get the shop's place.
            shops.push(shop.checked().map_err(|err| within_shop(i, err))?);
        }
        Shops::list(shops)
    }

    /// Reads a fixture file (see [`Shops::from_json`]).
    pub fn load(path: &Path) -> Result<Shops, FixtureError> {
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Shops::from_json(&text)
    }

    /// The fixture of a one-shop set, for `--shops N` to copy; `None` for a `shops` list
    /// (even of one) or copies already.
    pub fn into_single(self) -> Option<Fixture> {
        match self.source {
            Source::List(mut list) if list.len() == 1 && !self.listed => list.pop(),
            _ => None,
        }
    }

    /// How many shops.
    pub fn len(&self) -> usize {
        match &self.source {
            Source::List(list) => list.len(),
            Source::Copies { count, .. } => *count,
        }
    }

    /// Never true: a set holds at least one shop.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Shop `index`'s (0-based) credentials, without building it.
    pub fn credentials(&self, index: usize) -> Option<Credentials> {
        match &self.source {
            Source::List(list) => list.get(index).map(|f| f.credentials.clone()),
            Source::Copies { template, count } => {
                (index < *count).then(|| copy_credentials(&template.credentials, index + 1))
            }
        }
    }
}

fn duplicate(i: usize, key: &str, value: &str, first: usize) -> FixtureError {
    FixtureError::Invalid {
        path: format!("shops[{i}].credentials.{key}"),
        message: format!("`{value}` is also shop {first}'s; allowed: one shop per {key}"),
    }
}

fn within_shop(i: usize, err: FixtureError) -> FixtureError {
    match err {
        FixtureError::Format { path, message } => FixtureError::Format {
            path: format!("shops[{i}].{path}"),
            message,
        },
        FixtureError::Invalid { path, message } => FixtureError::Invalid {
            path: format!("shops[{i}].{path}"),
            message,
        },
        other => other,
    }
}

/// Shop `k`'s (1-based) credentials among copies of a fixture with `template`'s.
pub fn copy_credentials(template: &Credentials, k: usize) -> Credentials {
    let suffix = |value: &str| format!("{value}-{k}");
    Credentials {
        shop_domain: format!("shop-{k}.myshopify.com"),
        shopify_access_token: suffix(&template.shopify_access_token),
        shopify_webhook_secret: suffix(&template.shopify_webhook_secret),
        tiktok_app_key: suffix(&template.tiktok_app_key),
        tiktok_app_secret: suffix(&template.tiktok_app_secret),
        tiktok_access_token: suffix(&template.tiktok_access_token),
        tiktok_refresh_token: suffix(&template.tiktok_refresh_token),
        tiktok_shop_cipher: format!("SHOP_{k}"),
        // Numeric like TikTok's: the template's id counted up (shop 1 keeps it).
        tiktok_shop_id: template
            .tiktok_shop_id
            .parse::<u64>()
            .ok()
            .and_then(|id| id.checked_add(k as u64 - 1))
            .map_or_else(|| suffix(&template.tiktok_shop_id), |id| id.to_string()),
        scopes: template.scopes.clone(),
    }
}

/// What a request offers to find its shop by (see the module docs).
#[derive(Default)]
pub(crate) struct Keys<'a> {
    pub(crate) path_domain: Option<&'a str>,
    pub(crate) shop: Option<&'a str>,
    pub(crate) shop_cipher: Option<&'a str>,
    pub(crate) app_key: Option<&'a str>,
    pub(crate) access_token: Option<&'a str>,
    pub(crate) refresh_token: Option<&'a str>,
    pub(crate) domain_header: Option<&'a str>,
    pub(crate) host: Option<&'a str>,
}

/// A domain named by the path or `?shop=` that no shop has.
#[derive(Debug)]
pub(crate) struct UnknownShop(pub(crate) String);

/// The shops' indexes and their emulators, each built on first use by `build`.
pub(crate) struct Registry<T> {
    shops: Shops,
    built: Vec<OnceLock<T>>,
    /// Fixtures of a list not built yet (taken when built).
    pending: Vec<Mutex<Option<Fixture>>>,
    by_domain: HashMap<String, usize>,
    by_cipher: HashMap<String, usize>,
    by_app_key: HashMap<String, Vec<usize>>,
}

impl<T> Registry<T> {
    pub(crate) fn new(mut shops: Shops) -> Registry<T> {
        let mut by_domain = HashMap::new();
        let mut by_cipher = HashMap::new();
        let mut by_app_key: HashMap<String, Vec<usize>> = HashMap::new();
        let mut pending = Vec::new();
        if let Source::List(list) = &mut shops.source {
            for (i, fixture) in list.iter().enumerate() {
                let c = &fixture.credentials;
                by_domain.insert(c.shop_domain.clone(), i);
                by_cipher.insert(c.tiktok_shop_cipher.clone(), i);
                by_app_key
                    .entry(c.tiktok_app_key.clone())
                    .or_default()
                    .push(i);
            }
            // The fixtures move into the shops as they are built; only credentials stay.
            pending = list
                .iter_mut()
                .map(|f| {
                    let credentials = f.credentials.clone();
                    let fixture = std::mem::replace(
                        f,
                        Fixture {
                            credentials,
                            ..Fixture::default()
                        },
                    );
                    Mutex::new(Some(fixture))
                })
                .collect();
        }
        let built = (0..shops.len()).map(|_| OnceLock::new()).collect();
        Registry {
            shops,
            built,
            pending,
            by_domain,
            by_cipher,
            by_app_key,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.built.len()
    }

    /// How many shops have been built (served at least one request).
    pub(crate) fn built(&self) -> usize {
        self.built.iter().filter(|b| b.get().is_some()).count()
    }

    /// Shop `index`, built now if it was not yet: `build(index, fixture)`.
    pub(crate) fn get(&self, index: usize, build: impl FnOnce(usize, Fixture) -> T) -> &T {
        self.built[index].get_or_init(|| build(index, self.fixture(index)))
    }

    fn fixture(&self, index: usize) -> Fixture {
        match &self.shops.source {
            Source::List(_) => self.pending[index]
                .lock()
                .expect("pending lock")
                .take()
                .expect("a shop is built once"),
            Source::Copies { template, .. } => Fixture {
                shopify: template.shopify.clone(),
                tiktok: template.tiktok.clone(),
                credentials: copy_credentials(&template.credentials, index + 1),
            },
        }
    }

    /// The index of the shop with this domain.
    pub(crate) fn by_domain(&self, domain: &str) -> Option<usize> {
        match &self.shops.source {
            Source::List(_) => self.by_domain.get(domain).copied(),
            Source::Copies { count, .. } => {
                let k = domain
                    .strip_prefix("shop-")?
                    .strip_suffix(".myshopify.com")?;
                numbered(k, *count)
            }
        }
    }

    fn by_cipher(&self, cipher: &str) -> Option<usize> {
        match &self.shops.source {
            Source::List(_) => self.by_cipher.get(cipher).copied(),
            Source::Copies { count, .. } => numbered(cipher.strip_prefix("SHOP_")?, *count),
        }
    }

    /// The shops with this app key, in order.
    fn by_app_key(&self, app_key: &str) -> Vec<usize> {
        match &self.shops.source {
            Source::List(_) => self.by_app_key.get(app_key).cloned().unwrap_or_default(),
            Source::Copies { template, count } => app_key
                .strip_prefix(template.credentials.tiktok_app_key.as_str())
                .and_then(|rest| rest.strip_prefix('-'))
                .and_then(|k| numbered(k, *count))
                .into_iter()
                .collect(),
        }
    }

    /// The shop a request is for; `tokens(index)` gives a shop's current access and refresh
    /// tokens (building it) to choose among shops sharing an app key.
    pub(crate) fn route(
        &self,
        keys: &Keys<'_>,
        tokens: impl Fn(usize) -> (String, String),
    ) -> Result<usize, UnknownShop> {
        if let Some(strict) = keys.path_domain.or(keys.shop) {
            return self
                .by_domain(strict)
                .ok_or_else(|| UnknownShop(strict.to_owned()));
        }
        if let Some(index) = keys.shop_cipher.and_then(|c| self.by_cipher(c)) {
            return Ok(index);
        }
        if let Some(app_key) = keys.app_key {
            let candidates = self.by_app_key(app_key);
            if candidates.len() > 1 {
                let chosen = candidates.iter().copied().find(|&i| {
                    let (access, refresh) = tokens(i);
                    keys.access_token == Some(access.as_str())
                        || keys.refresh_token == Some(refresh.as_str())
                });
                return Ok(chosen.unwrap_or(candidates[0]));
            }
            if let Some(&index) = candidates.first() {
                return Ok(index);
            }
        }
        let host = keys.host.map(|h| h.split(':').next().unwrap_or(h));
        for domain in [keys.domain_header, host].into_iter().flatten() {
            if let Some(index) = self.by_domain(domain) {
                return Ok(index);
            }
        }
        Ok(0)
    }

    /// Whether the set is a one-shop sandbox (no `?shop=` in the URLs it hands out).
    pub(crate) fn is_single(&self) -> bool {
        matches!(&self.shops.source, Source::List(list) if list.len() == 1)
    }

    /// The domains served, for an error message: the first and the last.
    pub(crate) fn range(&self) -> String {
        let domain = |i| {
            self.shops
                .credentials(i)
                .map(|c| c.shop_domain)
                .unwrap_or_default()
        };
        match self.len() {
            1 => domain(0),
            n => format!("{} to {} ({n} shops)", domain(0), domain(n - 1)),
        }
    }
}

/// `k` as a 0-based index when it is a plain number in 1..=count.
fn numbered(k: &str, count: usize) -> Option<usize> {
    if k.starts_with('0') || !k.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let k: usize = k.parse().ok()?;
    (1..=count).contains(&k).then(|| k - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copies(n: usize) -> Registry<()> {
        Registry::new(Shops::copies(Fixture::default(), n).expect("valid count"))
    }

    #[test]
    fn copies_are_found_by_domain_cipher_and_app_key() {
        let shops = copies(10_000);
        assert_eq!(shops.by_domain("shop-1.myshopify.com"), Some(0));
        assert_eq!(shops.by_domain("shop-10000.myshopify.com"), Some(9_999));
        assert_eq!(shops.by_domain("shop-10001.myshopify.com"), None);
        assert_eq!(shops.by_domain("shop-01.myshopify.com"), None);
        assert_eq!(shops.by_cipher("SHOP_42"), Some(41));
        assert_eq!(shops.by_cipher("SHOP_0"), None);
        assert_eq!(shops.by_app_key("sandbox_app_key-7"), vec![6]);
        assert!(shops.by_app_key("sandbox_app_key").is_empty());
        assert_eq!(shops.built(), 0);
    }

    #[test]
    fn a_strict_key_naming_no_shop_is_unknown() {
        let shops = copies(3);
        let keys = Keys {
            shop: Some("shop-4.myshopify.com"),
            ..Keys::default()
        };
        let routed = shops.route(&keys, |_| unreachable!());
        assert_eq!(routed.expect_err("unknown").0, "shop-4.myshopify.com");
    }

    #[test]
    fn shops_sharing_an_app_key_are_told_apart_by_their_access_token() {
        let mut a = Fixture::default();
        a.credentials.shop_domain = "a.myshopify.com".into();
        a.credentials.tiktok_shop_cipher = "A".into();
        a.credentials.tiktok_access_token = "token-a".into();
        let mut b = a.clone();
        b.credentials.shop_domain = "b.myshopify.com".into();
        b.credentials.tiktok_shop_cipher = "B".into();
        b.credentials.tiktok_access_token = "token-b".into();
        let shops: Registry<()> = Registry::new(Shops::list(vec![a, b]).expect("unique"));
        let tokens = |i: usize| (["token-a", "token-b"][i].to_owned(), String::new());
        let keys = Keys {
            app_key: Some("sandbox_app_key"),
            access_token: Some("token-b"),
            ..Keys::default()
        };
        assert_eq!(shops.route(&keys, tokens).expect("known"), 1);
    }

    #[test]
    fn only_a_one_shop_fixture_is_copied_not_a_list_of_one() {
        let listed = Shops::from_json(r#"{"shops": [{}]}"#).expect("a list of one");
        assert_eq!(listed.len(), 1);
        assert!(listed.into_single().is_none());
        let one = Shops::from_json("{}").expect("a one-shop fixture");
        assert_eq!(one.into_single(), Some(Fixture::default()));
    }

    #[test]
    fn the_copy_count_is_checked() {
        let err = Shops::copies(Fixture::default(), 0).expect_err("zero shops");
        assert_eq!(err.to_string(), "shops is 0; allowed: 1 to 1000000");
    }
}
