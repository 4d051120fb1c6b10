//! Shop secrets sealed at rest with ChaCha20-Poly1305 under the fleet's key
//! (`STOCKBRIDGE__FLEET__SECRET_KEY`): a database dump alone reveals no token. The shop's
//! identity is the associated data, so a sealed blob moved to another shop does not open.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use stockbridge_ports::Secret;

use crate::error::PostgresError;

const NONCE_LEN: usize = 12;

/// The fleet's 256-bit key. Never printed.
#[derive(Clone)]
pub struct SecretKey(Key);

impl SecretKey {
    /// Reads a key written as 32 bytes in standard base64 (44 characters, as
    /// `openssl rand -base64 32` prints) or as 64 hexadecimal digits.
    ///
    /// # Errors
    ///
    /// [`PostgresError::SecretKey`], saying what is allowed and never repeating the text.
    pub fn parse(text: &str) -> Result<SecretKey, PostgresError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .ok()
        } else {
            base64::engine::general_purpose::STANDARD.decode(text).ok()
        };
        match bytes {
            Some(bytes) if bytes.len() == 32 => Ok(SecretKey(*Key::from_slice(&bytes))),
            _ => Err(PostgresError::SecretKey {
                reason: "expected 32 random bytes as base64 (44 characters) or as 64 hexadecimal \
                         digits"
                    .into(),
            }),
        }
    }

    /// Seals `secrets` for the shop named by `identity`.
    pub(crate) fn seal(&self, identity: &str, secrets: &BTreeMap<String, Secret>) -> Vec<u8> {
        let plain: BTreeMap<&str, &str> = secrets
            .iter()
            .map(|(name, value)| (name.as_str(), value.expose()))
            .collect();
        let plain = serde_json::to_vec(&plain).unwrap_or_default();
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = ChaCha20Poly1305::new(&self.0)
            .encrypt(
                &nonce,
                Payload {
                    msg: &plain,
                    aad: identity.as_bytes(),
                },
            )
            .unwrap_or_default();
        [nonce.as_slice(), &sealed].concat()
    }

    /// Opens what [`SecretKey::seal`] sealed for the same shop.
    ///
    /// # Errors
    ///
    /// [`PostgresError::Unseal`] when the key is not the one that sealed it, the blob was
    /// changed, or it was sealed for another shop.
    pub(crate) fn open(
        &self,
        identity: &str,
        sealed: &[u8],
    ) -> Result<BTreeMap<String, Secret>, PostgresError> {
        let unseal = || PostgresError::Unseal {
            shop: identity.to_owned(),
        };
        if sealed.len() < NONCE_LEN {
            return Err(unseal());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let plain = ChaCha20Poly1305::new(&self.0)
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: identity.as_bytes(),
                },
            )
            .map_err(|_| unseal())?;
        let map: BTreeMap<String, String> = serde_json::from_slice(&plain).map_err(|_| unseal())?;
        Ok(map
            .into_iter()
            .map(|(name, value)| (name, Secret::new(value)))
            .collect())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretKey {
        SecretKey::parse(&format!("{byte:02x}").repeat(32)).unwrap()
    }

    fn secrets() -> BTreeMap<String, Secret> {
        BTreeMap::from([(
            "shopify.access_token".to_owned(),
            Secret::new("shpat_TOKEN"),
        )])
    }

    #[test]
    fn seals_and_opens_for_the_same_shop_and_hides_the_token() {
        let sealed = key(1).seal("a.myshopify.com SHOP", &secrets());
        let text = String::from_utf8_lossy(&sealed);
        assert!(!text.contains("shpat_TOKEN"));
        assert_eq!(
            key(1).open("a.myshopify.com SHOP", &sealed).unwrap(),
            secrets()
        );
    }

    #[test]
    fn another_key_or_another_shop_does_not_open_it() {
        let sealed = key(1).seal("a.myshopify.com SHOP", &secrets());
        assert!(key(2).open("a.myshopify.com SHOP", &sealed).is_err());
        assert!(key(1).open("b.myshopify.com SHOP", &sealed).is_err());
    }

    #[test]
    fn reads_base64_and_hex_keys_and_refuses_others_without_repeating_them() {
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert!(SecretKey::parse(&b64).is_ok());
        assert!(SecretKey::parse(&"07".repeat(32)).is_ok());
        let err = SecretKey::parse("hunter2").unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("32 random bytes"), "{err}");
        assert_eq!(format!("{:?}", key(1)), "SecretKey([redacted])");
    }
}
