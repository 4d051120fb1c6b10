//! `[safety]` (the mass-drop breaker, sync-rules.md §9) and `[console]` (the merchant
//! console's access token), checked.

use serde::Deserialize;
use stockbridge_domain::Breaker;

use super::{bounded_integer, values, ConfigError, SecretValue};

/// `[safety] max_zeroed_percent`: a share of lines, in percent.
pub const MAX_ZEROED_PERCENT: std::ops::RangeInclusive<i64> = 0..=100;

/// `[safety] min_lines`: the fewest zeroed lines that can trip the breaker.
pub const MIN_LINES: std::ops::RangeInclusive<i64> = 1..=1_000_000;

/// `[safety]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SafetySection {
    /// `true` by default.
    #[serde(default, deserialize_with = "values::boolean")]
    pub enabled: Option<bool>,
    /// 50 by default.
    #[serde(default, deserialize_with = "values::integer")]
    pub max_zeroed_percent: Option<i64>,
    /// 20 by default.
    #[serde(default, deserialize_with = "values::integer")]
    pub min_lines: Option<i64>,
}

/// `[console]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSection {
    /// The console's login token (prefer the environment). Without it, the console answers
    /// only when `serve` listens on a loopback address.
    pub token: Option<SecretValue>,
}

/// The breaker `[safety]` describes, with its defaults.
pub fn breaker(safety: &SafetySection) -> Result<Breaker, ConfigError> {
    let defaults = Breaker::default();
    let percent = bounded_integer(
        "safety.max_zeroed_percent",
        safety.max_zeroed_percent,
        MAX_ZEROED_PERCENT,
        i64::from(defaults.max_zeroed_percent()),
    )?;
    let min_lines = bounded_integer(
        "safety.min_lines",
        safety.min_lines,
        MIN_LINES,
        defaults.min_lines() as i64,
    )?;
    if safety.enabled == Some(false) {
        return Ok(Breaker::off());
    }
    Breaker::new(percent as u32, min_lines as usize).map_err(|e| ConfigError::Value {
        key: "safety.max_zeroed_percent".into(),
        value: percent.to_string(),
        allowed: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{err, load};

    #[test]
    fn safety_defaults_to_on_above_50_percent_with_20_lines() {
        let s = load("", &[]).unwrap();
        assert!(s.breaker.is_enabled());
        assert_eq!(
            (s.breaker.max_zeroed_percent(), s.breaker.min_lines()),
            (50, 20)
        );
    }

    #[test]
    fn safety_reads_its_three_keys_from_the_file_and_the_environment() {
        let s = load(
            "[safety]\nmax_zeroed_percent = 10\nmin_lines = 3\n",
            &[("STOCKBRIDGE__SAFETY__ENABLED", "false")],
        )
        .unwrap();
        assert!(!s.breaker.is_enabled());
        let s = load("[safety]\nmax_zeroed_percent = 10\nmin_lines = 3\n", &[]).unwrap();
        assert_eq!(
            (s.breaker.max_zeroed_percent(), s.breaker.min_lines()),
            (10, 3)
        );
    }

    #[test]
    fn safety_values_out_of_range_or_of_the_wrong_type_are_refused_naming_the_key() {
        for (toml, expected) in [
            (
                "[safety]\nmax_zeroed_percent = 101\n",
                "configuration key safety.max_zeroed_percent = 101: an integer from 0 to 100",
            ),
            (
                "[safety]\nmin_lines = 0\n",
                "configuration key safety.min_lines = 0: an integer from 1 to 1000000",
            ),
            ("[safety]\nenabled = \"yes\"\n", "expected true or false"),
            (
                "[safety]\nmax_zeroed_percent = 12.5\n",
                "expected an integer",
            ),
            ("[safety]\nlimit = 3\n", "unknown field `limit`"),
        ] {
            let e = err(toml);
            assert!(e.contains(expected), "{toml}: {e}");
        }
        assert!(err("[safety]\nenabled = \"yes\"\n").contains("safety.enabled"));
    }

    #[test]
    fn the_console_token_is_a_secret_that_never_prints() {
        let s = load("[console]\ntoken = \"console-secret-1\"\n", &[]).unwrap();
        assert!(!format!("{s:?}").contains("console-secret-1"));
        let token = s.file.console.token.unwrap();
        assert_eq!(token.0.expose(), "console-secret-1");
        assert!(err("[console]\npassword = \"x\"\n").contains("unknown field `password`"));
    }
}
