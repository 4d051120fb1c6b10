//! The adapter's own errors, and the one function that turns a TikTok answer into a
//! [`SinkError`] (and so decides, through [`SinkError::retry`], what is retried).

use std::time::Duration;

use stockbridge_ports::SinkError;

/// Why the adapter could not be built or could not make sense of TikTok. Reaches callers of
/// the sink inside [`SinkError::Other`].
#[derive(Debug, thiserror::Error)]
pub enum TikTokError {
    /// A configuration value is missing or out of range.
    #[error("invalid TikTok Shop configuration: {0}")]
    InvalidConfig(String),
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
    /// The access token covers several shops and no `shop_cipher` picks one.
    #[error(
        "the access token is authorized for {} shops ({}); set shop_cipher to one of their ciphers",
        .shops.len(), .shops.join(", ")
    )]
    AmbiguousShop {
        /// `name (cipher)` of each authorized shop.
        shops: Vec<String>,
    },
    /// The access token covers no shop.
    #[error("the access token is authorized for no shop; authorize the app in Seller Center")]
    NoShop,
    /// An answer that does not parse.
    #[error("TikTok Shop sent an answer that does not parse ({endpoint})")]
    MalformedAnswer {
        /// The path called.
        endpoint: String,
        /// What did not parse.
        #[source]
        source: serde_json::Error,
    },
    /// The caller's send gate stopped a write before it was sent (a fleet worker whose lease
    /// on the shop is no longer trusted); nothing reached TikTok.
    #[error("write to {endpoint} not sent: {reason}")]
    NotSent {
        /// The path that would have been called.
        endpoint: String,
        /// Why, as the gate said.
        reason: String,
    },
}

impl From<TikTokError> for SinkError {
    /// A token that covers no shop, or several and no `shop_cipher` picks one, is a shop
    /// cipher problem the merchant fixes in the configuration: `Unauthorized` (the port's
    /// contract), which the application reports as a configuration error.
    fn from(err: TikTokError) -> Self {
        match err {
            TikTokError::AmbiguousShop { .. } | TikTokError::NoShop => SinkError::Unauthorized {
                message: err.to_string(),
            },
            other => SinkError::Other(Box::new(other)),
        }
    }
}

/// TikTok's code for an expired access token: refreshed once, then retried.
pub(crate) const ACCESS_TOKEN_EXPIRED: i64 = 105_002;
/// TikTok's code for an access token it does not know, which is what a token replaced by a
/// refresh becomes: repeated with the newer token, or refreshed once, then retried.
pub(crate) const ACCESS_TOKEN_INVALID: i64 = 105_001;

/// Whether TikTok refused the access token itself (expired, or replaced by a refresh), so
/// that a newer token may succeed where this one failed.
pub(crate) fn refuses_the_token(code: Option<i64>) -> bool {
    matches!(code, Some(ACCESS_TOKEN_EXPIRED | ACCESS_TOKEN_INVALID))
}
/// TikTok's code for a path that matches no endpoint.
pub(crate) const NO_SUCH_ENDPOINT: i64 = 36_009_009;
/// TikTok's code for an API version that does not exist.
pub(crate) const NO_SUCH_VERSION: i64 = 36_009_014;
/// TikTok's code for a product search page past the most results one search serves.
pub(crate) const SEARCH_RESULTS_CAPPED: i64 = 12_052_180;

/// What a failed call looked like on the wire. Messages must already be free of secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer<'a> {
    /// The HTTP status.
    pub status: u16,
    /// TikTok's `code`, when the body carried an envelope.
    pub code: Option<i64>,
    /// TikTok's `message`, or what went wrong.
    pub message: &'a str,
    /// The `Retry-After` header, when sent.
    pub retry_after: Option<Duration>,
}

/// The project's single classification of TikTok failures.
pub(crate) fn classify(answer: &Answer<'_>) -> SinkError {
    let Answer {
        status,
        code,
        message,
        retry_after,
    } = *answer;
    let unauthorized = |fix: &str| SinkError::Unauthorized {
        message: format!("{fix} (TikTok {}: {message})", code_text(code, status)),
    };
    match code {
        Some(36_009_002) => return SinkError::RateLimited { retry_after },
        Some(106_001) => {
            return unauthorized("the request signature was refused: check that app_secret belongs to app_key")
        }
        Some(36_009_004) if is_about_the_request(message) => {
            return SinkError::Rejected {
                code: code_text(code, status),
                message: message.to_owned(),
            }
        }
        Some(36_009_004) => return unauthorized(fix_for_bad_parameter(message)),
        Some(106_013) => {
            return unauthorized("shop_cipher is required: set it, or let the adapter look it up")
        }
        Some(ACCESS_TOKEN_INVALID) => {
            return unauthorized("the authorization is invalid or expired: re-authorize the app in Seller Center and set new tokens")
        }
        Some(ACCESS_TOKEN_EXPIRED) => {
            return unauthorized("the access token expired and could not be refreshed: set a valid refresh_token or re-authorize the app")
        }
        Some(105_005) => {
            return unauthorized("the app lacks the permission this call needs: grant the scope in Partner Center and re-authorize")
        }
        Some(101_000) => {
            return unauthorized("the access token was refused: set a valid access_token or refresh_token")
        }
        Some(36_009_033) => {
            return unauthorized("this machine's IP address is not on the app's allow-list in Partner Center")
        }
        Some(36_009_003) | Some(36_009_007) => {
            return SinkError::Transient {
                message: format!("TikTok {}: {message}", code_text(code, status)),
            }
        }
        Some(12_019_150) | Some(12_052_032) | Some(12_052_048) => {
            return SinkError::NotFound {
                what: format!("{message} (TikTok {})", code_text(code, status)),
            }
        }
        _ => {}
    }
    match status {
        429 => SinkError::RateLimited { retry_after },
        408 | 500..=599 => SinkError::Transient {
            message: format!("TikTok {}: {message}", code_text(code, status)),
        },
        401 | 403 if code.is_none() => {
            unauthorized("the credentials were refused: check app_key, app_secret and access_token")
        }
        _ => SinkError::Rejected {
            code: code_text(code, status),
            message: message.to_owned(),
        },
    }
}

/// A transport failure (timeout, refused connection) is always worth retrying.
pub(crate) fn transport(err: reqwest::Error) -> SinkError {
    let err = err.without_url();
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    SinkError::Transient { message }
}

/// Whether a 36009004 message is about the request's own parameters or body ("Invalid param:
/// page_size", "Invalid request body", "param body.address is missing") rather than a
/// credential, the clock or the shop: such a request is refused for its content.
fn is_about_the_request(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    let about_request = [
        "invalid param",
        "param body",
        "request body",
        "invalid body",
    ]
    .iter()
    .any(|p| lower.contains(p))
        || lower.starts_with("param ");
    about_request && !names_a_credential(&lower)
}

/// Whether a (lowercase) message names a credential, the timestamp or the shop.
fn names_a_credential(lower: &str) -> bool {
    const NAMES: [&str; 11] = [
        "credential",
        "timestamp",
        "app_key",
        "app key",
        "shop_cipher",
        "shop_id",
        "cipher",
        "access token",
        "access_token",
        "access-token",
        "signature",
    ];
    NAMES.iter().any(|n| lower.contains(n))
        || lower
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|word| word == "sign")
}

/// 36009004 covers many parameter problems; its message says which.
fn fix_for_bad_parameter(message: &str) -> &'static str {
    let lower = message.to_ascii_lowercase();
    if lower.contains("timestamp") {
        "the request timestamp was refused: check that this machine's clock is right (UTC, synchronised)"
    } else if lower.contains("app_key") || lower.contains("app key") {
        "the app_key was refused: check app_key in the configuration"
    } else if lower.contains("shop_cipher") || lower.contains("shop_id") || lower.contains("cipher")
    {
        "the shop was refused: check shop_cipher, or leave it out to look it up"
    } else if lower.contains("token") {
        "the access token was refused: set a valid access_token or refresh_token"
    } else if lower.contains("sign") {
        "the request signature was refused: check that app_secret belongs to app_key"
    } else {
        "TikTok refused the request's common parameters: check app_key, shop_cipher and the clock"
    }
}

/// `text` with every occurrence of a secret replaced, for messages built from what a server said.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret, "[redacted]");
    }
    out
}

fn code_text(code: Option<i64>, status: u16) -> String {
    match code {
        Some(code) => code.to_string(),
        None => format!("HTTP {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stockbridge_ports::Retry;

    fn answer(status: u16, code: Option<i64>, message: &str) -> SinkError {
        classify(&Answer {
            status,
            code,
            message,
            retry_after: None,
        })
    }

    #[test]
    fn redact_removes_every_secret_it_is_given() {
        assert_eq!(
            redact("bad app_secret=s3cr3t for s3cr3t", &["s3cr3t", ""]),
            "bad app_secret=[redacted] for [redacted]"
        );
    }

    #[test]
    fn throttling_by_code_or_status_is_rate_limited_with_the_wait() {
        let err = classify(&Answer {
            status: 429,
            code: Some(36_009_002),
            message: "Too many requests",
            retry_after: Some(Duration::from_secs(3)),
        });
        assert_eq!(err.retry(), Retry::After(Duration::from_secs(3)));
        assert!(matches!(
            answer(429, None, ""),
            SinkError::RateLimited { retry_after: None }
        ));
        assert!(matches!(
            answer(200, Some(36_009_002), "slow down"),
            SinkError::RateLimited { .. }
        ));
    }

    #[test]
    fn credential_problems_are_unauthorized_and_never_retried() {
        for code in [
            106_001, 36_009_004, 106_013, 105_001, 105_002, 105_005, 101_000,
        ] {
            let err = answer(401, Some(code), "refused");
            assert!(
                matches!(err, SinkError::Unauthorized { .. }),
                "{code}: {err:?}"
            );
            assert_eq!(err.retry(), Retry::Never);
        }
    }

    #[test]
    fn a_stale_timestamp_says_to_check_the_clock() {
        let err = answer(200, Some(36_009_004), "Invalid timestamp: expired");
        assert!(err.to_string().contains("clock"), "{err}");
        let err = answer(200, Some(36_009_004), "Invalid app_key");
        assert!(
            err.to_string().contains("app_key in the configuration"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_parameter_or_body_is_rejected_not_unauthorized() {
        for message in [
            "Invalid param: page_size is required and must be between 1 and 100.",
            "Invalid param: page_token.",
            "Invalid request body: expected value at line 1 column 1",
            "param body.address is missing",
        ] {
            match answer(400, Some(36_009_004), message) {
                SinkError::Rejected { code, message: got } => {
                    assert_eq!(code, "36009004");
                    assert_eq!(got, message);
                }
                other => panic!("{message}: expected Rejected, got {other:?}"),
            }
            assert_eq!(answer(400, Some(36_009_004), message).retry(), Retry::Never);
        }
    }

    #[test]
    fn a_bad_parameter_naming_a_credential_stays_unauthorized() {
        for message in [
            "Invalid credentials. The app_key query parameter is missing.",
            "Invalid param: shop_cipher",
            "Invalid param: sign",
            "Invalid timestamp. The timestamp query parameter must be Unix seconds.",
            "Invalid credentials. The signature is invalid.",
        ] {
            let err = answer(400, Some(36_009_004), message);
            assert!(
                matches!(err, SinkError::Unauthorized { .. }),
                "{message}: {err:?}"
            );
        }
    }

    #[test]
    fn internal_errors_timeouts_and_5xx_are_transient() {
        for (status, code) in [
            (200, Some(36_009_003)),
            (200, Some(36_009_007)),
            (503, None),
        ] {
            let err = answer(status, code, "busy");
            assert!(matches!(err, SinkError::Transient { .. }), "{err:?}");
            assert_eq!(err.retry(), Retry::Backoff);
        }
    }

    #[test]
    fn unknown_products_are_not_found() {
        for code in [12_019_150, 12_052_032, 12_052_048] {
            assert!(matches!(
                answer(200, Some(code), "product does not exist"),
                SinkError::NotFound { .. }
            ));
        }
    }

    #[test]
    fn other_product_errors_are_rejected_with_code_and_message() {
        match answer(
            200,
            Some(12_019_024),
            "The SKU stock must be between [0,999999]",
        ) {
            SinkError::Rejected { code, message } => {
                assert_eq!(code, "12019024");
                assert!(message.contains("999999"));
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
        match answer(404, None, "no such page") {
            SinkError::Rejected { code, .. } => assert_eq!(code, "HTTP 404"),
            other => panic!("expected Rejected, got {other:?}"),
        }
    }

    #[test]
    fn a_token_for_several_shops_is_a_configuration_problem_listing_the_ciphers() {
        let err = SinkError::from(TikTokError::AmbiguousShop {
            shops: vec!["Shop A (ciph-a)".into(), "Shop B (ciph-b)".into()],
        });
        let SinkError::Unauthorized { message } = &err else {
            panic!("expected Unauthorized, got {err:?}");
        };
        assert!(
            message.contains("ciph-a") && message.contains("ciph-b"),
            "{message}"
        );
        assert!(message.contains("shop_cipher"), "{message}");
        assert!(matches!(
            SinkError::from(TikTokError::NoShop),
            SinkError::Unauthorized { .. }
        ));
        assert!(matches!(
            SinkError::from(TikTokError::InvalidConfig("x".into())),
            SinkError::Other(_)
        ));
    }
}
