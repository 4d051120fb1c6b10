//! SKU patterns for overrides: `*` matches any run of characters (also none), `?` exactly one.
//! Matching is case-sensitive, allocation-free, and linear in practice.

use std::fmt;

/// A compiled SKU pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuPattern {
    source: String,
    chars: Vec<char>,
}

/// An empty pattern, which would match nothing useful.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmptyPattern;

impl fmt::Display for EmptyPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an empty SKU pattern (allowed: text with optional * and ? wildcards)")
    }
}

impl std::error::Error for EmptyPattern {}

impl SkuPattern {
    /// Compiles a pattern, trimmed like SKUs are.
    pub fn new(pattern: &str) -> Result<Self, EmptyPattern> {
        let trimmed = pattern.trim();
        if trimmed.is_empty() {
            return Err(EmptyPattern);
        }
        Ok(SkuPattern {
            source: trimmed.to_owned(),
            chars: trimmed.chars().collect(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `sku` matches the whole pattern.
    pub fn matches(&self, sku: &str) -> bool {
        // Two-pointer wildcard matching; on a mismatch the last `*` swallows one more char.
        let p = &self.chars;
        let (mut pi, mut si) = (0, 0);
        let mut star: Option<(usize, usize)> = None; // (index of `*` in p, byte index in sku)
        while let Some(c) = sku[si..].chars().next() {
            if pi < p.len() && (p[pi] == '?' || p[pi] == c) {
                pi += 1;
                si += c.len_utf8();
            } else if pi < p.len() && p[pi] == '*' {
                star = Some((pi, si));
                pi += 1;
            } else if let Some((star_pi, star_si)) = star {
                let swallowed = sku[star_si..].chars().next().map_or(1, char::len_utf8);
                star = Some((star_pi, star_si + swallowed));
                pi = star_pi + 1;
                si = star_si + swallowed;
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|&c| c == '*')
    }
}

impl fmt::Display for SkuPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        SkuPattern::new(p).unwrap().matches(s)
    }

    #[test]
    fn star_matches_any_run_including_none() {
        assert!(m("TEE-*", "TEE-RED-S"));
        assert!(m("TEE-*", "TEE-"));
        assert!(m("*-S", "TEE-RED-S"));
        assert!(m("T*E*S", "TEE-RED-S"));
        assert!(!m("TEE-*", "SHIRT-RED"));
    }

    #[test]
    fn question_mark_matches_exactly_one_character() {
        assert!(m("TEE-RED-?", "TEE-RED-S"));
        assert!(!m("TEE-RED-?", "TEE-RED-XL"));
        assert!(m("??", "ÄÖ"));
    }

    #[test]
    fn pattern_without_wildcards_is_exact_and_case_sensitive() {
        assert!(m("TEE-RED-S", "TEE-RED-S"));
        assert!(!m("TEE-RED-S", "tee-red-s"));
        assert!(!m("TEE", "TEE-RED"));
    }

    #[test]
    fn backtracking_finds_a_later_match() {
        assert!(m("*AB", "AAAB"));
        assert!(m("A*B*C", "AXBXXBYC"));
        assert!(!m("A*B*C", "AXBXXBY"));
    }

    #[test]
    fn empty_pattern_is_refused() {
        assert_eq!(SkuPattern::new("  "), Err(EmptyPattern));
    }
}
