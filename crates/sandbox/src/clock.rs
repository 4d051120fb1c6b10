//! Wall-clock time as the stores report it: Unix seconds and RFC 3339 strings (UTC).

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Seconds since the Unix epoch.
pub(crate) fn now_seconds() -> i64 {
    now_millis().div_euclid(1000)
}

/// `2025-06-01T12:00:00.123Z`.
pub(crate) fn rfc3339_millis(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let (date, time) = split(secs);
    format!("{date}T{time}.{ms:03}Z")
}

/// `2025-06-01T12:00:00Z`.
pub(crate) fn rfc3339_seconds(secs: i64) -> String {
    let (date, time) = split(secs);
    format!("{date}T{time}Z")
}

fn split(secs: i64) -> (String, String) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60),
    )
}

/// Parses `2024`, `2024-05-01`, `2024-05-01T10:00:00Z`, `...+02:00`, `...123Z` into Unix millis.
/// `None` for text that is not such a time or for an instant beyond `i64` milliseconds: the
/// text comes from clients (search queries), so nothing here may overflow.
pub(crate) fn parse_rfc3339(text: &str) -> Option<i64> {
    let text = text.trim().trim_matches('\'').trim_matches('"');
    let (date, rest) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, ""),
    };
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next().map_or(Some(1), |p| p.parse().ok())?;
    let d: u32 = parts.next().map_or(Some(1), |p| p.parse().ok())?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut millis = days_from_civil(y, m, d)?.checked_mul(86_400_000)?;
    if rest.is_empty() {
        return Some(millis);
    }
    let (clock, offset) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "Z"),
    };
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut hms = hms.split(':');
    let h: i64 = hms.next()?.parse().ok()?;
    let mi: i64 = hms.next().map_or(Some(0), |p| p.parse().ok())?;
    let s: i64 = hms.next().map_or(Some(0), |p| p.parse().ok())?;
    let seconds = h
        .checked_mul(3600)?
        .checked_add(mi.checked_mul(60)?)?
        .checked_add(s)?;
    millis = millis.checked_add(seconds.checked_mul(1000)?)?;
    if !frac.is_empty() {
        let digits: String = frac.chars().take(3).collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let scale = 10_i64.pow(3 - digits.len() as u32);
        millis = millis.checked_add(digits.parse::<i64>().ok()?.checked_mul(scale)?)?;
    }
    if offset != "Z" && offset != "z" {
        let sign = if offset.starts_with('-') { 1 } else { -1 };
        let (oh, om) = offset[1..].split_once(':').unwrap_or((&offset[1..], "0"));
        let minutes = oh
            .parse::<i64>()
            .ok()?
            .checked_mul(60)?
            .checked_add(om.parse::<i64>().ok()?)?;
        millis = millis.checked_add(minutes.checked_mul(60_000)?.checked_mul(sign)?)?;
    }
    Some(millis)
}

// Howard Hinnant's civil calendar algorithms.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since the epoch of a civil date; `None` when the year is too far out for `i64`.
fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    let y = if m <= 2 { y.checked_sub(1)? } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era.checked_mul(146_097)?
        .checked_add(doe)?
        .checked_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_the_same_instant() {
        let millis = 1_717_243_200_123; // 2024-06-01T12:00:00.123Z
        assert_eq!(rfc3339_millis(millis), "2024-06-01T12:00:00.123Z");
        assert_eq!(parse_rfc3339("2024-06-01T12:00:00.123Z"), Some(millis));
        assert_eq!(parse_rfc3339("2024-06-01T14:00:00.123+02:00"), Some(millis));
        assert_eq!(rfc3339_seconds(1_623_812_664), "2021-06-16T03:04:24Z");
    }

    #[test]
    fn parses_a_bare_date_and_year() {
        assert_eq!(parse_rfc3339("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_rfc3339("1971"), Some(365 * 86_400_000));
        assert_eq!(parse_rfc3339("'1970-01-01T00:00:01Z'"), Some(1000));
        assert_eq!(parse_rfc3339("nope"), None);
    }

    #[test]
    fn answers_none_instead_of_overflowing_on_far_out_times() {
        for text in [
            "999999999999-01-01",
            "9223372036854775807-01-01",
            "-9223372036854775808-03-01",
            "-9223372036854775808-01-01",
            "2024-01-01T99999999999999999:00",
            "2024-01-01T00:99999999999999999:00",
            "2024-01-01T00:00:9223372036854775807",
            "2024-01-01T00:00:00+99999999999999999:00",
            "2024-01-01T00:00:00-00:9223372036854775807",
            "292278994-08-17T07:12:55.808Z",
            "2024-01-01T00:00:00.ééZ",
        ] {
            assert_eq!(parse_rfc3339(text), None, "{text}");
        }
    }

    #[test]
    fn still_parses_the_last_instant_that_fits() {
        // i64::MAX milliseconds is 292278994-08-17T07:12:55.807Z.
        assert_eq!(
            parse_rfc3339("292278994-08-17T07:12:55.807Z"),
            Some(i64::MAX)
        );
    }
}
