//! The token endpoints (`/api/v2/token/get`, `/api/v2/token/refresh`; unsigned, secret in the
//! query). Each issues a new access token and invalidates the previous one.

use axum::http::{StatusCode, Uri};
use axum::response::Response;
use rand::Rng;
use serde_json::json;

use super::{finish, query_pairs, Reply};
use crate::clock;
use crate::server::{Shared, ShopOf};

pub(crate) async fn token_get(ShopOf(shared): ShopOf, uri: Uri) -> Response {
    let reply = exchange(&shared, &uri, "authorized_code", "auth_code");
    finish(&shared, "token_get", reply)
}

pub(crate) async fn token_refresh(ShopOf(shared): ShopOf, uri: Uri) -> Response {
    let reply = exchange(&shared, &uri, "refresh_token", "refresh_token");
    finish(&shared, "token_refresh", reply)
}

fn exchange(shared: &Shared, uri: &Uri, grant_type: &str, grant_key: &str) -> Reply {
    let query = query_pairs(uri);
    let param = |key: &str| {
        query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let credentials = &shared.credentials;
    if param("app_key") != Some(credentials.tiktok_app_key.as_str())
        || param("app_secret") != Some(credentials.tiktok_app_secret.as_str())
    {
        return Reply::invalid(
            StatusCode::UNAUTHORIZED,
            "Invalid credentials. The app_key or app_secret is invalid.",
        );
    }
    if param("grant_type") != Some(grant_type) {
        return Reply::invalid(
            StatusCode::BAD_REQUEST,
            format!("Invalid grant_type. It must be {grant_type}."),
        );
    }
    let mut world = shared.world();
    let grant = param(grant_key).unwrap_or("");
    let accepted = match grant_key {
        "refresh_token" => grant == world.tokens.refresh_token,
        // Any non-empty authorization code is accepted: there is no consent page to get one.
        _ => !grant.is_empty(),
    };
    if !accepted {
        return Reply::error(
            StatusCode::BAD_REQUEST,
            36004004,
            format!("Invalid {grant_key}."),
        );
    }
    let now = clock::now_millis();
    let lifetime =
        i64::try_from(shared.options.tiktok_token_lifetime.as_millis()).unwrap_or(i64::MAX);
    let token: [u8; 16] = rand::thread_rng().gen();
    world.tokens.access_token = format!("TTP_{}", hex::encode(token));
    world.tokens.access_expires_at = now.saturating_add(lifetime);
    Reply::ok(json!({
        "access_token": world.tokens.access_token,
        "access_token_expire_in": world.tokens.access_expires_at.div_euclid(1000),
        "refresh_token": world.tokens.refresh_token,
        "refresh_token_expire_in": world.tokens.refresh_expires_at,
        "open_id": "sandbox_open_id",
        "seller_name": "Stockbridge Sandbox Shop",
        "seller_base_region": "US",
        "user_type": 0,
        "granted_scopes": ["seller.authorization.info", "seller.product.basic", "seller.product.write", "seller.logistics"],
    }))
}
