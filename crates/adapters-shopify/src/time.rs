//! Shopify's times: RFC 3339 text (`2026-12-06T03:40:12Z`, `2020-09-03T08:44:10-04:00`, with
//! or without a fraction of a second) as GraphQL, webhook bodies and the
//! `X-Shopify-Triggered-At` header write them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stockbridge_domain::UpdatedAt;

/// The instant `text` names, as seconds since the Unix epoch (floored) and the nanoseconds
/// past that second; `None` for text that is not such a time.
fn parse(text: &str) -> Option<(i64, u32)> {
    let text = text.trim();
    let (date, rest) = text.split_once(['T', 't', ' '])?;
    let mut parts = date.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || !(0..=9999).contains(&year) {
        return None;
    }
    let zone_at = rest.find(['Z', 'z', '+', '-'])?;
    let (clock, zone) = rest.split_at(zone_at);
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut hms = hms.splitn(3, ':');
    let hour: i64 = hms.next()?.parse().ok()?;
    let minute: i64 = hms.next()?.parse().ok()?;
    let second: i64 = hms.next()?.parse().ok()?;
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let nanos = if fraction.is_empty() {
        0
    } else {
        if !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits: String = fraction
            .chars()
            .chain(std::iter::repeat('0'))
            .take(9)
            .collect();
        digits.parse().ok()?
    };
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (h, m) = zone[1..].split_once(':')?;
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    Some((
        days * 86_400 + hour * 3600 + minute * 60 + second - offset,
        nanos,
    ))
}

/// A level's time (`updatedAt`, a payload's `updated_at`), to Shopify's whole second.
pub(crate) fn updated_at(text: &str) -> Option<UpdatedAt> {
    UpdatedAt::from_unix_seconds(parse(text)?.0)
}

/// An instant (`X-Shopify-Triggered-At`), with its fraction of a second.
pub(crate) fn instant(text: &str) -> Option<SystemTime> {
    let (seconds, nanos) = parse(text)?;
    let since = Duration::new(u64::try_from(seconds).ok()?, nanos);
    UNIX_EPOCH.checked_add(since)
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(text: &str) -> Option<i64> {
        updated_at(text).map(UpdatedAt::unix_seconds)
    }

    #[test]
    fn reads_utc_and_offset_times_as_the_same_instant() {
        assert_eq!(seconds("2021-06-16T03:04:24Z"), Some(1_623_812_664));
        assert_eq!(seconds("2021-06-15T23:04:24-04:00"), Some(1_623_812_664));
        assert_eq!(seconds("2021-06-16T05:04:24+02:00"), Some(1_623_812_664));
        assert_eq!(seconds("1970-01-01T00:00:00Z"), Some(0));
    }

    #[test]
    fn a_fraction_of_a_second_is_dropped_from_a_level_time_and_kept_in_an_instant() {
        assert_eq!(seconds("2021-06-16T03:04:24.999Z"), Some(1_623_812_664));
        assert_eq!(
            instant("2021-06-16T03:04:24.250Z"),
            Some(UNIX_EPOCH + Duration::from_millis(1_623_812_664_250))
        );
        assert_eq!(
            instant("2023-03-29T18:00:27.877041743Z"),
            Some(UNIX_EPOCH + Duration::new(1_680_112_827, 877_041_743))
        );
    }

    #[test]
    fn text_that_is_not_a_time_is_none() {
        for text in [
            "",
            "yesterday",
            "2021-06-16",
            "2021-13-01T00:00:00Z",
            "2021-06-16T25:00:00Z",
            "2021-06-16T03:04:24",
            "2021-06-16T03:04:24.x1Z",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(seconds(text), None, "{text:?}");
        }
    }
}
