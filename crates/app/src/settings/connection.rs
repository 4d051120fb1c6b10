//! Where the stores and the state live: `[shopify]` and `[tiktok]` addresses and
//! `[state] url`, checked so that an error names the full key, the value and what is
//! allowed. Values are shown with any password masked.

use stockbridge_adapters_store::StoreAddress;

use super::{ConfigError, FileConfig};

/// Checks the connection keys of `[shopify]` and `[tiktok]` that are set (the adapters
/// check the rest). Not run with `--sandbox`, which ignores both sections.
pub fn check_connections(file: &FileConfig) -> Result<(), ConfigError> {
    let shopify = &file.shopify;
    if let Some(domain) = &shopify.shop_domain {
        if !is_shop_domain(domain) {
            return Err(refused(
                "shopify.shop_domain",
                domain,
                "the shop's *.myshopify.com domain, such as \"example.myshopify.com\"",
            ));
        }
    }
    if let Some(version) = &shopify.api_version {
        if !is_api_version(version) {
            return Err(refused(
                "shopify.api_version",
                version,
                "an Admin API version YYYY-MM, such as \"2026-10\"",
            ));
        }
    }
    for (key, url) in [
        ("shopify.base_url", &shopify.base_url),
        ("tiktok.base_url", &file.tiktok.base_url),
        ("tiktok.auth_base_url", &file.tiktok.auth_base_url),
    ] {
        if let Some(url) = url {
            if !is_http_url(url) {
                return Err(refused(
                    key,
                    url,
                    "an http:// or https:// URL with a host and no user or password, such as \"http://127.0.0.1:7300\"",
                ));
            }
        }
    }
    Ok(())
}

/// Checks `[state] url`: `sqlite::memory:`, `sqlite://PATH`, `sqlite:PATH`, a path, or a
/// PostgreSQL URL (see [`crate::state`]).
pub fn check_state_url(url: Option<&str>) -> Result<(), ConfigError> {
    match url.map(|u| (u, crate::state::check(u))) {
        Some((url, Err(why))) => Err(refused(
            "state.url",
            url,
            &format!("{} ({why})", crate::state::ALLOWED),
        )),
        _ => Ok(()),
    }
}

fn refused(key: &str, value: &str, allowed: &str) -> ConfigError {
    ConfigError::Value {
        key: key.into(),
        value: super::values::shown(&StoreAddress::redact(value)),
        allowed: allowed.into(),
    }
}

fn is_host_label(label: &str) -> bool {
    !label.is_empty()
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

fn is_shop_domain(domain: &str) -> bool {
    let lower = domain.to_ascii_lowercase();
    lower
        .strip_suffix(".myshopify.com")
        .is_some_and(|shop| shop.split('.').all(is_host_label))
}

fn is_api_version(version: &str) -> bool {
    let bytes = version.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes[..4].iter().chain(&bytes[5..]).all(u8::is_ascii_digit)
        && matches!(version[5..].parse::<u8>(), Ok(1..=12))
}

fn is_http_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if url.chars().any(char::is_whitespace) || authority.contains('@') {
        return false;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, _)) if !h.ends_with(']') && h.contains(':') => (authority, None),
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let host_ok = if let Some(inner) = host.strip_prefix('[') {
        inner
            .strip_suffix(']')
            .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
    } else {
        host.split('.').all(is_host_label)
    };
    host_ok && port.is_none_or(|p| p.parse::<u16>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_http_and_https_urls_with_a_host_and_refuses_the_rest() {
        for good in [
            "http://127.0.0.1:7300",
            "https://open-api.tiktokglobalshop.com",
            "http://localhost:8080/base/",
            "http://[::1]:7300",
        ] {
            assert!(is_http_url(good), "{good}");
        }
        for bad in [
            "ftp://x",
            "http://",
            "https:///path",
            "http://u:pw@host",
            "http://host:99999",
            "http://ho st",
            "127.0.0.1:7300",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }

    #[test]
    fn shop_domains_end_in_myshopify_com_and_versions_are_year_month() {
        assert!(is_shop_domain("example.myshopify.com"));
        assert!(is_shop_domain("Stockbridge-Demo.myshopify.com"));
        assert!(!is_shop_domain("example.com"));
        assert!(!is_shop_domain(".myshopify.com"));
        assert!(!is_shop_domain("https://example.myshopify.com"));
        assert!(is_api_version("2026-10"));
        assert!(!is_api_version("2026-13"));
        assert!(!is_api_version("2026/10"));
        assert!(!is_api_version("latest"));
    }
}
