//! Where the state lives, read from the `[state] url` setting.

use std::path::{Path, PathBuf};

use crate::error::SqliteError;

/// Where a [`SqliteStore`](crate::SqliteStore) keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreAddress {
    /// In memory, lost when the store is dropped (`sqlite::memory:`).
    Memory,
    /// A file (`sqlite://stockbridge.db`, `sqlite:data/state.db`, `sqlite:///var/lib/x.db`
    /// or a plain path).
    File(PathBuf),
}

impl StoreAddress {
    /// Reads `sqlite::memory:` (or `:memory:`), `sqlite://PATH`, `sqlite:PATH` or a plain path. In
    /// `sqlite://PATH` the path starts after the two slashes, so `sqlite:///abs.db` is absolute.
    pub fn parse(url_or_path: &str) -> Result<StoreAddress, SqliteError> {
        let text = url_or_path.trim();
        if text == "sqlite::memory:" || text == ":memory:" {
            return Ok(StoreAddress::Memory);
        }
        if let Some((scheme, _)) = text.split_once("://") {
            let is_scheme = !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if is_scheme && scheme != "sqlite" {
                return Err(SqliteError::UnsupportedScheme {
                    scheme: scheme.to_owned(),
                    given: StoreAddress::redact(text),
                });
            }
        }
        let path = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
            .unwrap_or(text);
        if path.is_empty() {
            return Err(SqliteError::EmptyAddress {
                given: url_or_path.to_owned(),
            });
        }
        Ok(StoreAddress::File(PathBuf::from(path)))
    }

    /// `url_or_path` with the password of any `scheme://user:password@host` masked, for
    /// messages: `postgres://u:pw@host/db` becomes `postgres://u:***@host/db`.
    pub fn redact(url_or_path: &str) -> String {
        let Some((scheme, rest)) = url_or_path.split_once("://") else {
            return url_or_path.to_owned();
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
                let masked = if userinfo.contains(':') {
                    format!("{user}:***")
                } else {
                    // A lone userinfo may be a token: mask it whole.
                    "***".to_owned()
                };
                format!("{scheme}://{masked}@{host}{tail}")
            }
            None => url_or_path.to_owned(),
        }
    }

    /// The file, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            StoreAddress::Memory => None,
            StoreAddress::File(path) => Some(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> StoreAddress {
        StoreAddress::File(PathBuf::from(path))
    }

    #[test]
    fn reads_the_default_url_as_a_relative_file() {
        assert_eq!(
            StoreAddress::parse("sqlite://stockbridge.db").unwrap(),
            file("stockbridge.db")
        );
    }

    #[test]
    fn reads_three_slashes_as_an_absolute_path() {
        assert_eq!(
            StoreAddress::parse("sqlite:///var/lib/stockbridge/state.db").unwrap(),
            file("/var/lib/stockbridge/state.db")
        );
    }

    #[test]
    fn reads_the_short_scheme_and_plain_paths() {
        assert_eq!(
            StoreAddress::parse("sqlite:data/state.db").unwrap(),
            file("data/state.db")
        );
        assert_eq!(
            StoreAddress::parse("/tmp/state.db").unwrap(),
            file("/tmp/state.db")
        );
        assert_eq!(StoreAddress::parse("state.db").unwrap(), file("state.db"));
    }

    #[test]
    fn reads_memory_as_no_file() {
        let address = StoreAddress::parse("sqlite::memory:").unwrap();
        assert_eq!(address, StoreAddress::Memory);
        assert_eq!(address.path(), None);
    }

    #[test]
    fn refuses_other_schemes_naming_the_value_without_its_password() {
        for given in [
            "postgres://u:pw@host/db",
            "mysql://host/db",
            "file:///tmp/x.db",
        ] {
            let err = StoreAddress::parse(given).unwrap_err();
            assert!(
                matches!(err, SqliteError::UnsupportedScheme { .. }),
                "{given:?}: {err}"
            );
        }
        let err = StoreAddress::parse("postgres://u:hunter2@host/db").unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("postgres://u:***@host/db"), "{text}");
        assert!(text.contains("sqlite://PATH"), "{text}");
    }

    #[test]
    fn masks_passwords_and_bare_userinfo_but_leaves_paths_alone() {
        assert_eq!(
            StoreAddress::redact("postgres://u:pw@host:5432/db?x=1"),
            "postgres://u:***@host:5432/db?x=1"
        );
        assert_eq!(
            StoreAddress::redact("redis://tok3n@host"),
            "redis://***@host"
        );
        assert_eq!(
            StoreAddress::redact("sqlite://data/a@b.db"),
            "sqlite://data/a@b.db"
        );
        assert_eq!(StoreAddress::redact("state.db"), "state.db");
    }

    #[test]
    fn refuses_an_empty_address_naming_what_was_given() {
        for given in ["", "sqlite://", "sqlite:", "  "] {
            let err = StoreAddress::parse(given).unwrap_err();
            assert!(
                matches!(err, SqliteError::EmptyAddress { .. }),
                "{given:?}: {err}"
            );
        }
        let err = StoreAddress::parse("sqlite://").unwrap_err();
        assert!(err.to_string().contains("\"sqlite://\""), "{err}");
    }
}
