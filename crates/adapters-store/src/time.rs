//! Times as the state file stores them: integer milliseconds since the Unix epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stockbridge_ports::StoreError;

use crate::error::{corrupt, to_i64};

/// Milliseconds since the epoch (negative before it); sub-millisecond precision is dropped.
pub(crate) fn to_millis(at: SystemTime) -> Result<i64, StoreError> {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => to_i64("a time", after.as_millis()),
        Err(before) => to_i64("a time", before.duration().as_millis()).map(|ms| -ms),
    }
}

/// The time `millis` milliseconds after (or before) the epoch.
pub(crate) fn from_millis(millis: i64) -> Result<SystemTime, StoreError> {
    let offset = Duration::from_millis(millis.unsigned_abs());
    let at = if millis >= 0 {
        UNIX_EPOCH.checked_add(offset)
    } else {
        UNIX_EPOCH.checked_sub(offset)
    };
    at.ok_or_else(|| corrupt(format!("stored time {millis} ms is out of range")))
}

/// Reads an optional stored time.
pub(crate) fn from_optional_millis(millis: Option<i64>) -> Result<Option<SystemTime>, StoreError> {
    millis.map(from_millis).transpose()
}

/// Stores an optional time.
pub(crate) fn to_optional_millis(at: Option<SystemTime>) -> Result<Option<i64>, StoreError> {
    at.map(to_millis).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_times_to_the_millisecond() {
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(to_millis(at).unwrap(), 1_700_000_000_123);
        assert_eq!(from_millis(1_700_000_000_123).unwrap(), at);
    }

    #[test]
    fn keeps_times_before_the_epoch_as_negative_millis() {
        let at = UNIX_EPOCH - Duration::from_millis(1_500);
        assert_eq!(to_millis(at).unwrap(), -1_500);
        assert_eq!(from_millis(-1_500).unwrap(), at);
    }

    #[test]
    fn drops_sub_millisecond_precision() {
        let at = UNIX_EPOCH + Duration::from_micros(2_999);
        assert_eq!(to_millis(at).unwrap(), 2);
    }
}
