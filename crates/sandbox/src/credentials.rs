//! The credentials both emulators accept: well-known demo values unless a fixture replaces them.

use serde::{Deserialize, Serialize};

/// Default `shop_domain`.
pub const SHOP_DOMAIN: &str = "stockbridge-demo.myshopify.com";
/// Default Shopify Admin API access token (`X-Shopify-Access-Token`).
pub const SHOPIFY_ACCESS_TOKEN: &str = "shpat_sandbox_demo_token";
/// Default secret the emulator signs webhooks with (`X-Shopify-Hmac-Sha256`).
pub const SHOPIFY_WEBHOOK_SECRET: &str = "sandbox_webhook_secret";
/// The scopes the Shopify token holds, as `currentAppInstallation { accessScopes { handle } }`
/// reports them: what a stock sync reads with.
/// `read_orders` lets Stockbridge see the Shopify copies of TikTok orders (sync-rules.md §7).
pub const SHOPIFY_ACCESS_SCOPES: [&str; 4] = [
    "read_products",
    "read_inventory",
    "read_locations",
    "read_orders",
];
/// Default TikTok Shop `app_key`.
pub const TIKTOK_APP_KEY: &str = "sandbox_app_key";
/// Default TikTok Shop `app_secret` (signing key).
pub const TIKTOK_APP_SECRET: &str = "sandbox_app_secret";
/// Default TikTok Shop access token (`x-tts-access-token`).
pub const TIKTOK_ACCESS_TOKEN: &str = "sandbox_access_token";
/// Default TikTok Shop refresh token.
pub const TIKTOK_REFRESH_TOKEN: &str = "sandbox_refresh_token";
/// Default TikTok Shop `shop_cipher`.
pub const TIKTOK_SHOP_CIPHER: &str = "SANDBOX_SHOP_CIPHER";
/// Default TikTok shop id: what the authorized shops call answers as `id`, and what TikTok
/// webhooks name the shop by (`shop_id`).
pub const TIKTOK_SHOP_ID: &str = "7494049642642441621";

/// What the emulators accept. Every key is optional in a fixture; missing keys take the demo values.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Credentials {
    /// The shop's `*.myshopify.com` domain, sent as `X-Shopify-Shop-Domain` on webhooks.
    pub shop_domain: String,
    /// The only Shopify access token the GraphQL endpoint accepts.
    pub shopify_access_token: String,
    /// The key of the webhook HMAC.
    pub shopify_webhook_secret: String,
    /// The only TikTok `app_key` accepted.
    pub tiktok_app_key: String,
    /// The TikTok signing secret.
    pub tiktok_app_secret: String,
    /// The TikTok access token valid at start.
    pub tiktok_access_token: String,
    /// The TikTok refresh token accepted by `/api/v2/token/refresh`.
    pub tiktok_refresh_token: String,
    /// The cipher of the one authorized TikTok shop.
    pub tiktok_shop_cipher: String,
    /// The id of that shop (not a secret): `id` in the authorized shops answer, `shop_id` in
    /// its webhooks.
    pub tiktok_shop_id: String,
    /// The Shopify scopes the access token holds; [`SHOPIFY_ACCESS_SCOPES`] when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            shop_domain: SHOP_DOMAIN.to_owned(),
            shopify_access_token: SHOPIFY_ACCESS_TOKEN.to_owned(),
            shopify_webhook_secret: SHOPIFY_WEBHOOK_SECRET.to_owned(),
            tiktok_app_key: TIKTOK_APP_KEY.to_owned(),
            tiktok_app_secret: TIKTOK_APP_SECRET.to_owned(),
            tiktok_access_token: TIKTOK_ACCESS_TOKEN.to_owned(),
            tiktok_refresh_token: TIKTOK_REFRESH_TOKEN.to_owned(),
            tiktok_shop_cipher: TIKTOK_SHOP_CIPHER.to_owned(),
            tiktok_shop_id: TIKTOK_SHOP_ID.to_owned(),
            scopes: None,
        }
    }
}

/// Secrets are redacted: a secret never appears in a log line.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("shop_domain", &self.shop_domain)
            .field("shopify_access_token", &"[redacted]")
            .field("shopify_webhook_secret", &"[redacted]")
            .field("tiktok_app_key", &self.tiktok_app_key)
            .field("tiktok_app_secret", &"[redacted]")
            .field("tiktok_access_token", &"[redacted]")
            .field("tiktok_refresh_token", &"[redacted]")
            .field("tiktok_shop_cipher", &self.tiktok_shop_cipher)
            .field("tiktok_shop_id", &self.tiktok_shop_id)
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl Credentials {
    /// The Shopify scopes the access token holds.
    pub fn shopify_scopes(&self) -> Vec<String> {
        match &self.scopes {
            Some(scopes) => scopes.clone(),
            None => SHOPIFY_ACCESS_SCOPES.map(str::to_owned).to_vec(),
        }
    }

    /// Whether the Shopify access token holds `scope`.
    pub fn has_shopify_scope(&self, scope: &str) -> bool {
        match &self.scopes {
            Some(scopes) => scopes.iter().any(|s| s == scope),
            None => SHOPIFY_ACCESS_SCOPES.contains(&scope),
        }
    }

    /// The same credentials with every secret left out (only `shop_domain`, `tiktok_app_key` and
    /// `tiktok_shop_cipher` kept, and only where they differ from the defaults), as written by
    /// [`crate::Fixture::to_json_pretty`]: a secret never appears in a state dump.
    pub(crate) fn public_part(&self) -> serde_json::Map<String, serde_json::Value> {
        let defaults = Credentials::default();
        let mut out = serde_json::Map::new();
        let pairs = [
            ("shop_domain", &self.shop_domain, &defaults.shop_domain),
            (
                "tiktok_app_key",
                &self.tiktok_app_key,
                &defaults.tiktok_app_key,
            ),
            (
                "tiktok_shop_cipher",
                &self.tiktok_shop_cipher,
                &defaults.tiktok_shop_cipher,
            ),
            (
                "tiktok_shop_id",
                &self.tiktok_shop_id,
                &defaults.tiktok_shop_id,
            ),
        ];
        for (key, value, default) in pairs {
            if value != default {
                out.insert(key.to_owned(), serde_json::Value::String(value.clone()));
            }
        }
        if let Some(scopes) = &self.scopes {
            out.insert("scopes".to_owned(), serde_json::json!(scopes));
        }
        out
    }
}
