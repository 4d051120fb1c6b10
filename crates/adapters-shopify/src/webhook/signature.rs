//! `X-Shopify-Hmac-Sha256`: base64 of HMAC-SHA256 over the raw body, keyed with the app's
//! client secret. Compared in constant time; during a secret rotation either secret passes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use stockbridge_ports::Secret;

use super::WebhookError;

/// Checks a delivery's signature against one secret.
pub fn verify_webhook(secret: &Secret, body: &[u8], hmac_header: &str) -> Result<(), WebhookError> {
    verify_webhook_any(std::slice::from_ref(secret), body, hmac_header)
}

/// Checks a delivery's signature against several secrets (the new and the old one while a
/// rotation takes effect); passes when any matches. Empty secrets are skipped.
pub fn verify_webhook_any(
    secrets: &[Secret],
    body: &[u8],
    hmac_header: &str,
) -> Result<(), WebhookError> {
    let expected = STANDARD
        .decode(hmac_header.trim())
        .map_err(|_| WebhookError::MalformedSignature)?;
    if expected.len() != 32 {
        return Err(WebhookError::MalformedSignature);
    }
    let mut configured = false;
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        configured = true;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(body);
        if mac.verify_slice(&expected).is_ok() {
            return Ok(());
        }
    }
    if configured {
        Err(WebhookError::BadSignature)
    } else {
        Err(WebhookError::NoSecret)
    }
}

/// The header value Shopify would send for `body` (tests and the sandbox's counterpart).
#[cfg(test)]
pub(crate) fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"inventory_item_id":1001,"location_id":1,"available":5}"#;

    #[test]
    fn accepts_the_signature_of_the_raw_body() {
        let header = sign("s3cret", BODY);
        assert!(verify_webhook(&Secret::new("s3cret"), BODY, &header).is_ok());
    }

    #[test]
    fn refuses_a_changed_body_or_another_secret() {
        let header = sign("s3cret", BODY);
        let changed = br#"{"inventory_item_id":1001,"location_id":1,"available":6}"#;
        assert!(matches!(
            verify_webhook(&Secret::new("s3cret"), changed, &header),
            Err(WebhookError::BadSignature)
        ));
        assert!(matches!(
            verify_webhook(&Secret::new("other"), BODY, &header),
            Err(WebhookError::BadSignature)
        ));
    }

    #[test]
    fn accepts_either_secret_during_a_rotation() {
        let secrets = [Secret::new("new"), Secret::new("old")];
        assert!(verify_webhook_any(&secrets, BODY, &sign("old", BODY)).is_ok());
        assert!(verify_webhook_any(&secrets, BODY, &sign("new", BODY)).is_ok());
        assert!(verify_webhook_any(&secrets, BODY, &sign("older", BODY)).is_err());
    }

    #[test]
    fn refuses_a_header_that_is_not_a_base64_digest() {
        let secret = Secret::new("s3cret");
        for header in ["", "not base64!", "c2hvcnQ="] {
            assert!(matches!(
                verify_webhook(&secret, BODY, header),
                Err(WebhookError::MalformedSignature)
            ));
        }
    }

    #[test]
    fn refuses_everything_when_no_secret_is_configured() {
        let header = sign("", BODY);
        assert!(matches!(
            verify_webhook(&Secret::new(""), BODY, &header),
            Err(WebhookError::NoSecret)
        ));
    }
}
