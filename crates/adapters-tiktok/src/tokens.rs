//! The access and refresh tokens in use: loaded from the token store at the first call when it
//! holds newer ones, refreshed once when TikTok says the access token expired (or ahead of a
//! known expiry), and saved to the store after every refresh.
//!
//! The refresh URL carries the app secret in its query: it is never logged, and transport
//! errors lose their URL before they travel up.

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use stockbridge_ports::{PlatformTokens, Secret, SinkError, StateStore};
use tokio::sync::{Mutex, OnceCell};

use crate::error::{classify, redact, transport, Answer, TikTokError};

/// The platform name tokens are saved under.
pub const TOKEN_PLATFORM: &str = "tiktok";

/// The state-store key of the tokens grown from one configured pair: `tiktok:` and a short
/// SHA-256 fingerprint of the configured access and refresh tokens. When the merchant
/// re-authorises and configures new tokens, the key changes, so the configured tokens are
/// used instead of ones refreshed from the old grant. The fingerprint is one-way; no secret is
/// stored in the key.
pub fn token_key(access_token: &Secret, refresh_token: Option<&Secret>) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(access_token.expose().as_bytes());
    hash.update(b"\n");
    hash.update(refresh_token.map_or("", |t| t.expose()).as_bytes());
    let digest = hex::encode(hash.finalize());
    format!("{TOKEN_PLATFORM}:{}", &digest[..16])
}
/// An access token this close to its known expiry is refreshed before use.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);
const REFRESH_PATH: &str = "/api/v2/token/refresh";

/// The access token a request was sent with, and which generation of tokens it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    pub(crate) access_token: Secret,
    pub(crate) generation: u64,
}

#[derive(Debug)]
struct Held {
    tokens: PlatformTokens,
    has_refresh_token: bool,
    generation: u64,
}

/// Where and how to refresh.
#[derive(Debug)]
pub(crate) struct RefreshEndpoint {
    pub(crate) http: crate::client::ShopHttp,
    pub(crate) auth_base_url: String,
    pub(crate) app_key: String,
    pub(crate) app_secret: Secret,
}

/// The tokens of one sink.
pub(crate) struct TokenKeeper {
    held: RwLock<Held>,
    refreshing: Mutex<()>,
    loaded: OnceCell<()>,
    store: Option<Arc<dyn StateStore>>,
    /// Where in the store these tokens live (see [`token_key`]).
    key: String,
    endpoint: RefreshEndpoint,
}

impl TokenKeeper {
    pub(crate) fn new(
        access_token: Secret,
        refresh_token: Option<Secret>,
        endpoint: RefreshEndpoint,
    ) -> Self {
        let has_refresh_token = refresh_token.as_ref().is_some_and(|t| !t.is_empty());
        let key = token_key(&access_token, refresh_token.as_ref());
        TokenKeeper {
            held: RwLock::new(Held {
                tokens: PlatformTokens {
                    access_token,
                    refresh_token: refresh_token.unwrap_or_default(),
                    access_expires_at: None,
                    refresh_expires_at: None,
                },
                has_refresh_token,
                generation: 0,
            }),
            refreshing: Mutex::new(()),
            loaded: OnceCell::new(),
            store: None,
            key,
            endpoint,
        }
    }

    pub(crate) fn set_store(&mut self, store: Arc<dyn StateStore>) {
        self.store = Some(store);
    }

    /// The app's signing secret.
    pub(crate) fn app_secret(&self) -> &Secret {
        &self.endpoint.app_secret
    }

    /// The secrets a server's message must never echo back to a caller.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let held = self.held.read().expect("token lock");
        vec![
            self.endpoint.app_secret.expose().to_owned(),
            held.tokens.access_token.expose().to_owned(),
            held.tokens.refresh_token.expose().to_owned(),
        ]
    }

    /// The access token to send now. When `may_refresh` and the token is known to be about
    /// to expire, it is refreshed first; the flag says whether that happened.
    pub(crate) async fn lease(&self, may_refresh: bool) -> Result<(Lease, bool), SinkError> {
        self.loaded.get_or_init(|| self.load_stored()).await;
        let (lease, expiring) = {
            let held = self.held.read().expect("token lock");
            let expiring = may_refresh
                && held.has_refresh_token
                && held
                    .tokens
                    .access_expires_at
                    .is_some_and(|at| at <= SystemTime::now() + EXPIRY_MARGIN);
            (held.lease(), expiring)
        };
        if !expiring {
            return Ok((lease, false));
        }
        self.refresh_after(lease.generation).await?;
        Ok((self.held.read().expect("token lock").lease(), true))
    }

    /// Whether the tokens were replaced since the lease of `generation` was taken.
    pub(crate) fn renewed_since(&self, generation: u64) -> bool {
        self.held.read().expect("token lock").generation != generation
    }

    /// Whether a refresh is possible at all.
    pub(crate) fn can_refresh(&self) -> bool {
        self.held.read().expect("token lock").has_refresh_token
    }

    /// Refreshes the tokens, unless another call already did since `seen` was leased.
    pub(crate) async fn refresh_after(&self, seen: u64) -> Result<(), SinkError> {
        let _guard = self.refreshing.lock().await;
        let refresh_token = {
            let held = self.held.read().expect("token lock");
            if held.generation != seen {
                return Ok(());
            }
            held.tokens.refresh_token.clone()
        };
        let fresh = self.request_refresh(&refresh_token).await?;
        {
            let mut held = self.held.write().expect("token lock");
            held.tokens = fresh.clone();
            held.has_refresh_token = !fresh.refresh_token.is_empty();
            held.generation += 1;
        }
        tracing::info!(platform = TOKEN_PLATFORM, "access token refreshed");
        if let Some(store) = &self.store {
            if let Err(err) = store.save_tokens(&self.key, &fresh).await {
                tracing::error!(
                    platform = TOKEN_PLATFORM,
                    error = %err,
                    "refreshed tokens could not be saved; a restart will use the older ones"
                );
            }
        }
        Ok(())
    }

    async fn load_stored(&self) {
        let Some(store) = &self.store else { return };
        match store.load_tokens(&self.key).await {
            Ok(Some(stored)) if !stored.access_token.is_empty() => {
                let mut held = self.held.write().expect("token lock");
                held.has_refresh_token = !stored.refresh_token.is_empty();
                held.tokens = stored;
                held.generation += 1;
                tracing::debug!(
                    platform = TOKEN_PLATFORM,
                    "using tokens from the state store"
                );
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(
                platform = TOKEN_PLATFORM,
                error = %err,
                "saved tokens could not be read; using the configured ones"
            ),
        }
    }

    async fn request_refresh(&self, refresh_token: &Secret) -> Result<PlatformTokens, SinkError> {
        let e = &self.endpoint;
        let url = format!(
            "{}{REFRESH_PATH}?app_key={}&app_secret={}&refresh_token={}&grant_type=refresh_token",
            e.auth_base_url,
            urlencoding::encode(&e.app_key),
            urlencoding::encode(e.app_secret.expose()),
            urlencoding::encode(refresh_token.expose()),
        );
        let response = e
            .http
            .request(reqwest::Method::GET, url)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(transport)?;
        let secrets = [e.app_secret.expose(), refresh_token.expose()];
        let answer: RefreshAnswer = match serde_json::from_slice(&body) {
            Ok(answer) => answer,
            Err(_) if !(200..300).contains(&status) => {
                return Err(refresh_refused(status, None, "the token endpoint failed"));
            }
            Err(source) => {
                return Err(TikTokError::MalformedAnswer {
                    endpoint: REFRESH_PATH.to_owned(),
                    source,
                }
                .into())
            }
        };
        let message = redact(&answer.message, &secrets);
        let data = match answer.data {
            Some(data) if answer.code == 0 && !data.access_token.is_empty() => data,
            _ => return Err(refresh_refused(status, Some(answer.code), &message)),
        };
        let refresh_token = if data.refresh_token.is_empty() {
            refresh_token.clone()
        } else {
            Secret::new(data.refresh_token)
        };
        Ok(PlatformTokens {
            access_token: Secret::new(data.access_token),
            refresh_token,
            access_expires_at: unix_time(data.access_token_expire_in),
            refresh_expires_at: unix_time(data.refresh_token_expire_in),
        })
    }
}

impl Held {
    fn lease(&self) -> Lease {
        Lease {
            access_token: self.tokens.access_token.clone(),
            generation: self.generation,
        }
    }
}

/// A failed refresh: transient failures stay transient, anything else needs a person.
fn refresh_refused(status: u16, code: Option<i64>, message: &str) -> SinkError {
    let classified = classify(&Answer {
        status,
        code,
        message,
        retry_after: None,
    });
    match classified {
        SinkError::Transient { .. } | SinkError::RateLimited { .. } => classified,
        _ => SinkError::Unauthorized {
            message: format!(
                "refreshing the access token was refused (TikTok {}: {message}): re-authorize the app and set new tokens",
                code.map_or_else(|| format!("HTTP {status}"), |c| c.to_string())
            ),
        },
    }
}

/// TikTok's `*_expire_in` are absolute Unix seconds.
fn unix_time(seconds: i64) -> Option<SystemTime> {
    u64::try_from(seconds)
        .ok()
        .filter(|s| *s > 0)
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

#[derive(Deserialize)]
struct RefreshAnswer {
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: Option<RefreshData>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RefreshData {
    access_token: String,
    access_token_expire_in: i64,
    refresh_token: String,
    refresh_token_expire_in: i64,
}
