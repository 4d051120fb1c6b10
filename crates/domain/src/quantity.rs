//! Quantities and percentages, the two numbers every rule works with.

use std::fmt;

/// Why a number is not a valid quantity or percentage.
#[derive(Debug, Clone, PartialEq)]
pub enum NumberError {
    /// A quantity outside `0..=999999`.
    QuantityOutOfRange(i128),
    /// A percentage outside `0..=100`.
    PercentOutOfRange(String),
    /// A percentage with more than two decimals.
    PercentTooPrecise(String),
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberError::QuantityOutOfRange(v) => {
                write!(f, "{v} is not a valid quantity (allowed: 0 to {})", Quantity::MAX.0)
            }
            NumberError::PercentOutOfRange(v) => {
                write!(f, "{v} is not a valid percentage (allowed: 0 to 100)")
            }
            NumberError::PercentTooPrecise(v) => write!(
                f,
                "{v} has more than 2 decimals (allowed: 0 to 100 with at most 2 decimals, e.g. 33.33)"
            ),
        }
    }
}

impl std::error::Error for NumberError {}

/// A stock quantity as TikTok Shop accepts it: an integer in `0..=999999`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Quantity(u32);

impl Quantity {
    /// Zero units.
    pub const ZERO: Quantity = Quantity(0);
    /// The largest quantity ever pushed: 999,999.
    pub const MAX: Quantity = Quantity(999_999);

    /// Builds a quantity, refusing anything outside `0..=999999`.
    pub fn new(value: i64) -> Result<Self, NumberError> {
        if (0..=i64::from(Self::MAX.0)).contains(&value) {
            Ok(Quantity(value as u32))
        } else {
            Err(NumberError::QuantityOutOfRange(i128::from(value)))
        }
    }

    /// Clamps any integer into `0..=999999`.
    pub fn clamped(value: i64) -> Self {
        Quantity(value.clamp(0, i64::from(Self::MAX.0)) as u32)
    }

    /// The number of units.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A percentage held exactly, in hundredths of a percent (`80%` is 8000, `33.33%` is 3333).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Percent(u16);

impl Percent {
    /// One hundred percent.
    pub const FULL: Percent = Percent(10_000);

    /// Builds a percentage from hundredths (`0..=10000`).
    pub fn from_hundredths(hundredths: u32) -> Result<Self, NumberError> {
        if hundredths > 10_000 {
            return Err(NumberError::PercentOutOfRange(format_hundredths(
                hundredths,
            )));
        }
        Ok(Percent(hundredths as u16))
    }

    /// Builds a percentage from a number as written in a configuration file (`80`, `33.33`).
    /// More than two decimals, NaN, or a value outside `0..=100` is an error.
    pub fn from_f64(value: f64) -> Result<Self, NumberError> {
        if !value.is_finite() || !(0.0..=100.0).contains(&value) {
            return Err(NumberError::PercentOutOfRange(value.to_string()));
        }
        let scaled = value * 100.0;
        let rounded = scaled.round();
        if (scaled - rounded).abs() > 1e-6 {
            return Err(NumberError::PercentTooPrecise(value.to_string()));
        }
        Self::from_hundredths(rounded as u32)
    }

    /// The percentage in hundredths of a percent.
    pub fn hundredths(self) -> u32 {
        u32::from(self.0)
    }

    /// `floor(amount × self / 100)` in exact integer arithmetic.
    pub fn apply_floor(self, amount: u64) -> u64 {
        (u128::from(amount) * u128::from(self.0) / 10_000) as u64
    }
}

fn format_hundredths(h: u32) -> String {
    if h.is_multiple_of(100) {
        format!("{}", h / 100)
    } else if h.is_multiple_of(10) {
        format!("{}.{}", h / 100, (h % 100) / 10)
    } else {
        format!("{}.{:02}", h / 100, h % 100)
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", format_hundredths(u32::from(self.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_accepts_zero_and_999999_only_in_range() {
        assert_eq!(Quantity::new(0).unwrap().get(), 0);
        assert_eq!(Quantity::new(999_999).unwrap(), Quantity::MAX);
        assert!(Quantity::new(1_000_000).is_err());
        assert!(Quantity::new(-1).is_err());
    }

    #[test]
    fn quantity_clamps_negative_to_zero_and_large_to_max() {
        assert_eq!(Quantity::clamped(-5), Quantity::ZERO);
        assert_eq!(Quantity::clamped(5_000_000), Quantity::MAX);
    }

    #[test]
    fn percent_reads_two_decimals_exactly() {
        assert_eq!(Percent::from_f64(33.33).unwrap().hundredths(), 3333);
        assert_eq!(Percent::from_f64(80.0).unwrap().hundredths(), 8000);
        assert_eq!(Percent::from_f64(0.01).unwrap().hundredths(), 1);
    }

    #[test]
    fn percent_rejects_three_decimals_and_out_of_range() {
        assert!(matches!(
            Percent::from_f64(33.333),
            Err(NumberError::PercentTooPrecise(_))
        ));
        assert!(matches!(
            Percent::from_f64(100.5),
            Err(NumberError::PercentOutOfRange(_))
        ));
        assert!(matches!(
            Percent::from_f64(-1.0),
            Err(NumberError::PercentOutOfRange(_))
        ));
        assert!(Percent::from_f64(f64::NAN).is_err());
    }

    #[test]
    fn percent_floors_985_at_80_to_788() {
        assert_eq!(Percent::from_f64(80.0).unwrap().apply_floor(985), 788);
        assert_eq!(Percent::from_f64(33.33).unwrap().apply_floor(3), 0);
    }

    #[test]
    fn percent_displays_without_trailing_zeros() {
        assert_eq!(Percent::from_hundredths(8000).unwrap().to_string(), "80%");
        assert_eq!(
            Percent::from_hundredths(3333).unwrap().to_string(),
            "33.33%"
        );
        assert_eq!(Percent::from_hundredths(1250).unwrap().to_string(), "12.5%");
    }
}
