//! TikTok Shop as Stockbridge's inventory sink: the signed 202309 client (signing, pacing,
//! retries, token refresh), TikTok's JSON shapes and their translation into domain types, and
//! the honest reading of partial failures inside a successful answer.
//!
//! This crate knows TikTok's wire format and nothing of Shopify, the sync rules or how the
//! application stores state beyond the `StateStore` port it may be given for tokens.

mod catalog;
mod client;
mod config;
mod error;
mod gate;
mod orders;
mod outcome;
mod rate_limit;
mod shop;
pub mod signing;
mod sink;
mod tokens;
pub mod webhook;
mod wire;

pub use config::{
    http_client, TikTokConfig, DEFAULT_AUTH_BASE_URL, DEFAULT_BASE_URL,
    DEFAULT_REQUESTS_PER_SECOND, MAX_PAGE_SIZE, PACING_SHARE,
};
pub use error::TikTokError;
pub use gate::SendGate;
pub use shop::TikTokHealth;
pub use sink::{TikTokSink, EMPTY_WRITE};
pub use tokens::{token_key, TOKEN_PLATFORM};
