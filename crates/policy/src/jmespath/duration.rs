//! Go's `time.Duration` text form: `time.ParseDuration` and `Duration.String()`.
//!
//! Kyverno's time functions and its `Duration*` / numeric condition operators read and
//! write durations through these two Go functions, so Signet reproduces them exactly,
//! including their range (a signed 64-bit count of nanoseconds) and their errors.

/// Nanoseconds per unit, as Go's `unitMap`.
const UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),  // U+00B5 MICRO SIGN
    ("\u{3bc}s", 1_000), // U+03BC GREEK SMALL LETTER MU
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

const LIMIT: u64 = 1 << 63;

/// Parses a Go duration (`168h`, `1h30m`, `1.5s`, `-2m`, `300ms`, `1us`, `1µs`, `0`) into
/// nanoseconds, exactly as Go's `time.ParseDuration`: a sign, then one or more
/// `<decimal><unit>` terms; a bare `0` is the only unit-less value. `None` where Go errs
/// (no unit, unknown unit, empty string, out of the `i64` nanosecond range).
pub fn parse_go_duration(s: &str) -> Option<i64> {
    let mut rest = s.as_bytes();
    let mut neg = false;
    if let Some(&c) = rest.first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            rest = &rest[1..];
        }
    }
    if rest == b"0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !(rest[0] == b'.' || rest[0].is_ascii_digit()) {
            return None;
        }
        let (mut v, after, consumed_int) = leading_int(rest)?;
        rest = after;
        let (mut f, mut scale, mut consumed_frac) = (0u64, 1f64, false);
        if rest.first() == Some(&b'.') {
            let (ff, sc, after, n) = leading_fraction(&rest[1..]);
            (f, scale, consumed_frac, rest) = (ff, sc, n, after);
        }
        if !consumed_int && !consumed_frac {
            return None;
        }
        let unit_len = rest
            .iter()
            .position(|c| *c == b'.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        if unit_len == 0 {
            return None;
        }
        let unit_text = std::str::from_utf8(&rest[..unit_len]).ok()?;
        rest = &rest[unit_len..];
        let unit = UNITS.iter().find(|(name, _)| *name == unit_text)?.1;
        if v > LIMIT / unit {
            return None;
        }
        v *= unit;
        if f > 0 {
            // Go computes the fraction in float64, nanosecond-accurate up to hours.
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return None;
            }
        }
        total += v;
        if total > LIMIT {
            return None;
        }
    }
    if neg {
        // -(1<<63) is representable; anything larger was rejected above.
        return Some((total as i64).wrapping_neg());
    }
    i64::try_from(total).ok()
}

/// Go's `leadingInt`: the digits at the start; `None` on overflow.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8], bool)> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if x > LIMIT / 10 {
            return None;
        }
        x = x * 10 + u64::from(s[i] - b'0');
        if x > LIMIT {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..], i > 0))
}

/// Go's `leadingFraction`: digits after the point, silently dropping those that overflow.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8], bool) {
    let (mut x, mut scale, mut overflow) = (0u64, 1f64, false);
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if !overflow {
            if x > (LIMIT - 1) / 10 {
                overflow = true;
            } else {
                let y = x * 10 + u64::from(s[i] - b'0');
                if y > LIMIT {
                    overflow = true;
                } else {
                    x = y;
                    scale *= 10.0;
                }
            }
        }
        i += 1;
    }
    (x, scale, &s[i..], i > 0)
}

/// Formats nanoseconds as Go's `time.Duration.String()`: `1h0m0s`, `1m30s`, `1.5s`,
/// `300ms`, `1µs`, `1ns`, `0s`, `-2m0s`.
pub fn format_go_duration(nanos: i64) -> String {
    let neg = nanos < 0;
    let mut u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (prec, unit) = match u {
            0 => return "0s".to_owned(),
            1..=999 => (0, "ns"),
            1_000..=999_999 => (3, "\u{b5}s"),
            _ => (6, "ms"),
        };
        let frac = fmt_frac(&mut u, prec);
        out.push_str(&format!("{u}{frac}{unit}"));
    } else {
        let frac = fmt_frac(&mut u, 9);
        let secs = u % 60;
        let minutes = u / 60;
        if minutes > 0 {
            let hours = minutes / 60;
            if hours > 0 {
                out.push_str(&format!("{hours}h"));
            }
            out.push_str(&format!("{}m", minutes % 60));
        }
        out.push_str(&format!("{secs}{frac}s"));
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// Go's `fmtFrac`: splits off `prec` decimal digits of `v` as `.ddd` without trailing
/// zeros (nothing at all when they are all zero), leaving the integer part in `v`.
fn fmt_frac(v: &mut u64, prec: u32) -> String {
    let div = 10u64.pow(prec);
    let frac = *v % div;
    *v /= div;
    if frac == 0 {
        return String::new();
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    format!(".{}", digits.trim_end_matches('0'))
}

/// Go's `Duration.Seconds()`: whole seconds plus the nanosecond remainder, in float64.
pub(crate) fn go_seconds(nanos: i64) -> f64 {
    let sec = nanos / 1_000_000_000;
    let nsec = nanos % 1_000_000_000;
    sec as f64 + nsec as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let cases: &[(&str, i64)] = &[
            ("0", 0),
            ("-0", 0),
            ("5s", 5_000_000_000),
            ("30s", 30_000_000_000),
            ("1478s", 1_478_000_000_000),
            ("-5s", -5_000_000_000),
            ("+5s", 5_000_000_000),
            ("5.0s", 5_000_000_000),
            ("5.6s", 5_600_000_000),
            ("5.s", 5_000_000_000),
            (".5s", 500_000_000),
            ("1.004s", 1_004_000_000),
            ("100.00100s", 100_001_000_000),
            ("10ns", 10),
            ("11us", 11_000),
            ("12\u{b5}s", 12_000),
            ("12\u{3bc}s", 12_000),
            ("13ms", 13_000_000),
            ("14s", 14_000_000_000),
            ("15m", 900_000_000_000),
            ("16h", 57_600_000_000_000),
            ("3h30m", 12_600_000_000_000),
            ("10.5s4m", 250_500_000_000),
            ("-2m3.4s", -123_400_000_000),
            ("1h2m3s4ms5us6ns", 3_723_004_005_006),
            ("39h9m14.425s", 140_954_425_000_000),
            ("52763797000ns", 52_763_797_000),
            ("0.3333333333333333333h", 1_200_000_000_000),
            ("9007199254740993ns", 9_007_199_254_740_993),
            ("9223372036854775807ns", i64::MAX),
            ("-9223372036854775808ns", i64::MIN),
            ("0.100000000000000000000h", 360_000_000_000),
        ];
        for (text, want) in cases {
            assert_eq!(parse_go_duration(text), Some(*want), "{text}");
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "3",
            "-",
            "s",
            ".",
            "-.",
            ".s",
            "+.s",
            "1d",
            "1hx",
            "3000000h",
            "9223372036854775808ns",
            "9223372036854775.808us",
            "1 s",
            "0x1s",
        ] {
            assert_eq!(parse_go_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_like_go() {
        let cases: &[(i64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1\u{b5}s"),
            (2_200_000, "2.2ms"),
            (300_000_000, "300ms"),
            (3_300_000_000, "3.3s"),
            (60_000_000_000, "1m0s"),
            (90_000_000_000, "1m30s"),
            (3_600_000_000_000, "1h0m0s"),
            (4_000_000_000 + 5 * 60_000_000_000, "5m4s"),
            (4_000_000_001 + 5 * 60_000_000_000, "5m4.000000001s"),
            (648_000_000_000_000, "180h0m0s"),
            (-1, "-1ns"),
            (-120_000_000_000, "-2m0s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ];
        for (nanos, want) in cases {
            assert_eq!(format_go_duration(*nanos), *want, "{nanos}");
        }
    }

    #[test]
    fn seconds_like_go() {
        assert_eq!(go_seconds(1_500_000_000), 1.5);
        assert_eq!(go_seconds(-90_000_000_000), -90.0);
    }
}
