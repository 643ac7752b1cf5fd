//! Timestamps as Go's `time.Time` reads and writes them in JSON: RFC 3339 in, RFC 3339
//! with nanoseconds out (`2006-01-02T15:04:05.999999999Z07:00`: trailing fraction zeros
//! dropped, the offset kept, `Z` for a zero offset). cosign re-marshals the times of the
//! predicates it parses into Go structs, so Signet must write them the same way.

use std::time::{SystemTime, UNIX_EPOCH};

/// The zero `time.Time`, as Go writes it.
pub(crate) const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `text` (RFC 3339) rewritten as Go's `time.Time.MarshalJSON` writes it after
/// `UnmarshalJSON`, or `None` when Go would refuse it.
pub(crate) fn normalize_rfc3339(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    if bytes.len() < 20
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || bytes[10] != b'T'
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let year = digits(text.get(0..4)?)?;
    let month = digits(text.get(5..7)?)?;
    let day = digits(text.get(8..10)?)?;
    let hour = digits(text.get(11..13)?)?;
    let minute = digits(text.get(14..16)?)?;
    let second = digits(text.get(17..19)?)?;
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut rest = text.get(19..)?;
    let mut fraction = String::new();
    if let Some(after_dot) = rest.strip_prefix('.') {
        let len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        // Go keeps nanoseconds: digits past the ninth are dropped.
        fraction = after_dot[..len.min(9)].trim_end_matches('0').to_string();
        rest = &after_dot[len..];
    }
    let zone = if rest == "Z" {
        "Z".to_string()
    } else {
        let zb = rest.as_bytes();
        if zb.len() != 6 || !(zb[0] == b'+' || zb[0] == b'-') || zb[3] != b':' {
            return None;
        }
        let (zh, zm) = (digits(&rest[1..3])?, digits(&rest[4..6])?);
        if zh > 23 || zm > 59 {
            return None;
        }
        if zh == 0 && zm == 0 {
            "Z".to_string()
        } else {
            rest.to_string()
        }
    };
    let mut out = String::with_capacity(35);
    out.push_str(&text[..19]);
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(&fraction);
    }
    out.push_str(&zone);
    Some(out)
}

/// Now in UTC, to the second, as `time.Now().UTC().Format(time.RFC3339)` writes it.
pub(crate) fn now_rfc3339() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_unix_utc(seconds)
}

/// `seconds` since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn format_unix_utc(seconds: u64) -> String {
    let days = seconds / 86_400;
    let secs = seconds % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_go() {
        for (input, expected) in [
            ("2024-05-06T07:08:09Z", "2024-05-06T07:08:09Z"),
            (
                "2024-01-02T03:04:05.500+02:00",
                "2024-01-02T03:04:05.5+02:00",
            ),
            ("2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00Z"),
            ("2024-01-01T00:00:00-00:00", "2024-01-01T00:00:00Z"),
            (
                "2024-05-06T07:08:10.123456789-07:00",
                "2024-05-06T07:08:10.123456789-07:00",
            ),
            (
                "2024-05-06T07:08:10.1234567891234Z",
                "2024-05-06T07:08:10.123456789Z",
            ),
            ("2024-05-06T07:08:10.000Z", "2024-05-06T07:08:10Z"),
            ("2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"),
        ] {
            assert_eq!(
                normalize_rfc3339(input).as_deref(),
                Some(expected),
                "{input}"
            );
        }
        for bad in [
            "",
            "2024-05-06",
            "2024-05-06 07:08:09Z",
            "2024-05-06T07:08:09",
            "2024-13-06T07:08:09Z",
            "2023-02-29T07:08:09Z",
            "2024-05-06T24:00:00Z",
            "2024-05-06T07:08:09.Z",
            "2024-05-06T07:08:09+0200",
            "2024-05-06T07:08:09+25:00",
            "２024-05-06T07:08:09Z",
        ] {
            assert_eq!(normalize_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_unix_time() {
        assert_eq!(format_unix_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_unix_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_unix_utc(1_798_346_470), "2026-12-27T04:41:10Z");
        assert_eq!(now_rfc3339().len(), 20);
    }
}
