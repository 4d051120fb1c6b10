//! How numeric keys are read. The environment gives every value as text, and text keys must
//! stay exactly as given (a secret `0123` is not the number 123), so nothing is guessed
//! from the text: a numeric key takes a number from the file or a numeric string from the
//! environment, and an integer key refuses `2.7`, `true` or `"1e3"` rather than rounding.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Deserializer, Unexpected, Visitor};

/// How an error shows a text value it refuses: quoted when it is short and does not look
/// like a secret; otherwise only its length, since a value put under the wrong key may be a
/// token or a password.
pub fn shown(text: &str) -> String {
    let chars = text.chars().count();
    if chars <= 64 && !looks_secret(text) {
        format!("{text:?}")
    } else {
        format!("a text of {chars} characters (not shown: it may be a secret)")
    }
}

/// A known token prefix (Shopify's `shp..._`, TikTok's), or 16 or more characters of one
/// token alphabet mixing letters and digits.
fn looks_secret(text: &str) -> bool {
    const PREFIXES: [&str; 6] = ["shpat_", "shpca_", "shppa_", "shpss_", "TTP_", "ROW_"];
    let token_like = text.len() >= 16
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-+/=".contains(c))
        && text.chars().any(|c| c.is_ascii_digit())
        && text.chars().any(|c| c.is_ascii_alphabetic());
    token_like || PREFIXES.iter().any(|p| text.starts_with(p))
}

/// `text` with every quoted string value in it (`string "..."`, as serde writes a refused
/// text) shown as [`shown`] would.
pub fn without_secret_values(text: &str) -> String {
    const MARK: &str = "string \"";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at + MARK.len() - 1]);
        let quoted = &rest[at + MARK.len()..];
        let mut end = None;
        let mut escaped = false;
        for (i, c) in quoted.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            out.push_str(&rest[at + MARK.len() - 1..]);
            return out;
        };
        let value = &quoted[..end];
        if value.chars().count() <= 64 && !looks_secret(value) {
            out.push('"');
            out.push_str(value);
            out.push('"');
        } else {
            out.push_str(&shown(value));
        }
        rest = &quoted[end + 1..];
    }
    out.push_str(rest);
    out
}

/// An integer key: a TOML integer, or text that is an integer (from the environment).
pub fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(NumericVisitor(PhantomData))
}

/// A number key: a TOML integer or float, or text that is a number (from the environment).
pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    d.deserialize_any(NumericVisitor(PhantomData))
}

/// A yes/no key: a TOML boolean, or the text `true` or `false` (from the environment).
pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    struct BooleanVisitor;
    impl<'de> Visitor<'de> for BooleanVisitor {
        type Value = Option<bool>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("true or false")
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            match v.trim() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(E::invalid_value(Unexpected::Str(v), &self)),
            }
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(BooleanVisitor)
}

/// What a numeric key holds, and which of the values a deserializer gives fit it.
trait Numeric: FromStr {
    /// Named in errors: "expected an integer".
    const EXPECTED: &'static str;
    /// The integer, when it fits.
    fn from_integer(v: i128) -> Option<Self>;
    /// The float, when a float is accepted at all.
    fn from_float(v: f64) -> Option<Self>;
}

impl Numeric for i64 {
    const EXPECTED: &'static str = "an integer";

    fn from_integer(v: i128) -> Option<i64> {
        i64::try_from(v).ok()
    }

    fn from_float(_: f64) -> Option<i64> {
        None
    }
}

impl Numeric for f64 {
    const EXPECTED: &'static str = "a number";

    fn from_integer(v: i128) -> Option<f64> {
        Some(v as f64)
    }

    fn from_float(v: f64) -> Option<f64> {
        Some(v)
    }
}

struct NumericVisitor<T>(PhantomData<T>);

impl<T: Numeric> NumericVisitor<T> {
    fn fit<E: de::Error>(&self, v: Option<i128>, shown: Unexpected<'_>) -> Result<Option<T>, E> {
        v.and_then(T::from_integer)
            .map(Some)
            .ok_or_else(|| E::invalid_value(shown, self))
    }
}

impl<'de, T: Numeric> Visitor<'de> for NumericVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTED)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.fit(Some(v.into()), Unexpected::Signed(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.fit(Some(v.into()), Unexpected::Unsigned(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        self.fit(Some(v), Unexpected::Other("an integer out of range"))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
        self.fit(
            i128::try_from(v).ok(),
            Unexpected::Other("an integer out of range"),
        )
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        T::from_float(v)
            .map(Some)
            .ok_or_else(|| E::invalid_type(Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        v.trim()
            .parse()
            .map(Some)
            .map_err(|_| E::invalid_value(Unexpected::Str(v), &self))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::{shown, without_secret_values};

    #[test]
    fn a_short_plain_text_is_shown_and_a_token_only_by_its_length() {
        assert_eq!(shown("bluk"), "\"bluk\"");
        assert_eq!(shown("http://127.0.0.1:7300"), "\"http://127.0.0.1:7300\"");
        for secret in [
            "shpat_0123456789abcdef0123456789abcdef",
            "9f86d081884c7d659a2feaa0c55ad015",
            "TTP_x",
        ] {
            let text = shown(secret);
            assert!(!text.contains(secret), "{text}");
            assert!(text.contains("characters (not shown"), "{text}");
        }
        assert!(shown(&"a".repeat(65)).starts_with("a text of 65 characters"));
    }

    #[test]
    fn refused_string_values_in_a_message_are_shown_only_when_safe() {
        let message = "invalid type: string \"shpat_0123456789abcdef0123456789abcdef\", expected a boolean for key `x`";
        assert_eq!(
            without_secret_values(message),
            "invalid type: string a text of 38 characters (not shown: it may be a secret), expected a boolean for key `x`"
        );
        let plain = "invalid value: string \"abc\", expected a number";
        assert_eq!(without_secret_values(plain), plain);
        assert_eq!(without_secret_values("string \"open"), "string \"open");
    }

    #[derive(Debug, Deserialize)]
    struct Keys {
        #[serde(default, deserialize_with = "super::integer")]
        integer: Option<i64>,
        #[serde(default, deserialize_with = "super::number")]
        number: Option<f64>,
    }

    fn keys(json: &str) -> Result<(Option<i64>, Option<f64>), String> {
        serde_json::from_str::<Keys>(json)
            .map(|k| (k.integer, k.number))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn integers_and_numbers_come_from_numbers_or_their_text_and_null_is_unset() {
        assert_eq!(
            keys(r#"{"integer": 42, "number": 3}"#),
            Ok((Some(42), Some(3.0)))
        );
        assert_eq!(
            keys(r#"{"integer": " -7 ", "number": "2.5"}"#),
            Ok((Some(-7), Some(2.5)))
        );
        assert_eq!(
            keys(r#"{"integer": null, "number": null}"#),
            Ok((None, None))
        );
    }

    #[test]
    fn an_integer_refuses_a_fraction_text_that_is_no_integer_and_one_beyond_i64() {
        for (json, shown) in [
            (
                r#"{"integer": 2.5}"#,
                "floating point `2.5`, expected an integer",
            ),
            (
                r#"{"integer": "1e3"}"#,
                "string \"1e3\", expected an integer",
            ),
            (
                r#"{"integer": 18446744073709551615}"#,
                "integer `18446744073709551615`, expected an integer",
            ),
            (
                r#"{"number": "many"}"#,
                "string \"many\", expected a number",
            ),
        ] {
            let e = keys(json).unwrap_err();
            assert!(e.contains(shown), "{json}: {e}");
        }
    }
}
