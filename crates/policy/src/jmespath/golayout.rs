//! The layout language of Go's `time.Parse`: splitting a reference-time layout into
//! elements (`nextStdChunk`) and the small scanners `parse` applies to each.

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Std {
    LongMonth,
    Month,
    NumMonth(bool),
    LongWeekDay,
    WeekDay,
    Day(u8), // 0: `2`, 1: `_2`, 2: `02`
    YearDay(bool),
    Hour,
    Hour12(bool),
    Minute(bool),
    Second(bool),
    LongYear,
    Year,
    Pm(bool), // true: `PM`, false: `pm`
    Tz,
    /// Numeric zone: (allows `Z`, with colon(s), hour-only, with seconds).
    NumTz {
        iso: bool,
        colon: bool,
        short: bool,
        secs: bool,
    },
    Frac {
        exact: bool,
        digits: usize,
    },
}

/// Go's `nextStdChunk`: (literal prefix, element, rest of the layout).
pub(super) fn next_chunk(layout: &str) -> (&str, Option<Std>, &str) {
    let b = layout.as_bytes();
    let at = |i: usize, s: &str| layout.get(i..).is_some_and(|r| r.starts_with(s));
    let lower_after = |i: usize| b.get(i).is_some_and(u8::is_ascii_lowercase);
    for i in 0..b.len() {
        let hit = |len: usize, std: Std| Some((&layout[..i], Some(std), &layout[i + len..]));
        let found = match b[i] {
            b'J' if at(i, "January") => hit(7, Std::LongMonth),
            b'J' if at(i, "Jan") && !lower_after(i + 3) => hit(3, Std::Month),
            b'M' if at(i, "Monday") => hit(6, Std::LongWeekDay),
            b'M' if at(i, "Mon") && !lower_after(i + 3) => hit(3, Std::WeekDay),
            b'M' if at(i, "MST") => hit(3, Std::Tz),
            b'0' if matches!(b.get(i + 1), Some(b'1'..=b'6')) => hit(
                2,
                match b[i + 1] {
                    b'1' => Std::NumMonth(true),
                    b'2' => Std::Day(2),
                    b'3' => Std::Hour12(true),
                    b'4' => Std::Minute(true),
                    b'5' => Std::Second(true),
                    _ => Std::Year,
                },
            ),
            b'0' if at(i, "002") => hit(3, Std::YearDay(true)),
            b'1' if at(i, "15") => hit(2, Std::Hour),
            b'1' => hit(1, Std::NumMonth(false)),
            b'2' if at(i, "2006") => hit(4, Std::LongYear),
            b'2' => hit(1, Std::Day(0)),
            b'_' if at(i, "_2006") => Some((&layout[..=i], Some(Std::LongYear), &layout[i + 5..])),
            b'_' if at(i, "_2") => hit(2, Std::Day(1)),
            b'_' if at(i, "__2") => hit(3, Std::YearDay(false)),
            b'3' => hit(1, Std::Hour12(false)),
            b'4' => hit(1, Std::Minute(false)),
            b'5' => hit(1, Std::Second(false)),
            b'P' if at(i, "PM") => hit(2, Std::Pm(true)),
            b'p' if at(i, "pm") => hit(2, Std::Pm(false)),
            b'-' | b'Z' => {
                let iso = b[i] == b'Z';
                let forms = [
                    ("070000", false, false, true),
                    ("07:00:00", true, false, true),
                    ("0700", false, false, false),
                    ("07:00", true, false, false),
                    ("07", false, true, false),
                ];
                forms
                    .iter()
                    .find(|(f, ..)| at(i + 1, f))
                    .and_then(|(f, colon, short, secs)| {
                        hit(
                            1 + f.len(),
                            Std::NumTz {
                                iso,
                                colon: *colon,
                                short: *short,
                                secs: *secs,
                            },
                        )
                    })
            }
            b'.' | b',' if matches!(b.get(i + 1), Some(b'0' | b'9')) => {
                let ch = b[i + 1];
                let j = (i + 1..b.len()).find(|&j| b[j] != ch).unwrap_or(b.len());
                if b.get(j).is_some_and(u8::is_ascii_digit) {
                    None
                } else {
                    hit(
                        j - i,
                        Std::Frac {
                            exact: ch == b'0',
                            digits: j - i - 1,
                        },
                    )
                }
            }
            _ => None,
        };
        if let Some(chunk) = found {
            return chunk;
        }
    }
    (layout, None, "")
}

pub(super) const SHORT_DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
pub(super) const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
pub(super) const SHORT_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
pub(super) const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub(super) fn lookup<'a>(tab: &[&str], v: &'a [u8]) -> Option<(i64, &'a [u8])> {
    tab.iter().enumerate().find_map(|(i, name)| {
        let n = name.len();
        (v.len() >= n && v[..n].eq_ignore_ascii_case(name.as_bytes())).then(|| (i as i64, &v[n..]))
    })
}

/// Go's `getnum` (`max` 2) and `getnum3` (`max` 3): up to `max` digits, exactly `max`
/// when `fixed`.
pub(super) fn getnum(v: &[u8], max: usize, fixed: bool) -> Option<(i64, &[u8])> {
    let n = v
        .iter()
        .take(max)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if n == 0 || (fixed && n != max) {
        return None;
    }
    let value = v[..n]
        .iter()
        .fold(0i64, |acc, c| acc * 10 + i64::from(c - b'0'));
    Some((value, &v[n..]))
}

pub(super) fn atoi(v: &[u8]) -> Option<i64> {
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// Go's `parseNanoseconds`: `.ddd` / `,ddd` (the first `n` bytes) as nanoseconds.
pub(super) fn nanos(v: &[u8], n: usize) -> Option<i64> {
    if !matches!(v.first(), Some(b'.' | b',')) {
        return None;
    }
    let n = n.min(10);
    let digits = v.get(1..n)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(atoi(digits).unwrap_or(0) * 10i64.pow((10 - n) as u32))
}

/// Go's `skip`: match the literal prefix, where a space matches any run of spaces.
pub(super) fn skip<'a>(mut v: &'a [u8], mut prefix: &[u8]) -> Option<&'a [u8]> {
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if v.first().is_some_and(|c| *c != b' ') {
                return None;
            }
            prefix = trim_spaces(prefix);
            v = trim_spaces(v);
            continue;
        }
        if v.first() != Some(&p) {
            return None;
        }
        (prefix, v) = (&prefix[1..], &v[1..]);
    }
    Some(v)
}

fn trim_spaces(v: &[u8]) -> &[u8] {
    let n = v.iter().take_while(|c| **c == b' ').count();
    &v[n..]
}

/// Go's `parseTimeZone` for a zone abbreviation: its length, or `None`.
pub(super) fn zone_name_len(v: &[u8]) -> Option<usize> {
    if v.len() < 3 {
        return None;
    }
    if v.starts_with(b"ChST") || v.starts_with(b"MeST") {
        return Some(4);
    }
    if v.starts_with(b"GMT") {
        return Some(3 + signed_offset_len(&v[3..]));
    }
    if v[0] == b'+' || v[0] == b'-' {
        return Some(signed_offset_len(v)).filter(|n| *n > 0);
    }
    let upper = v
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        3 => Some(3),
        4 if v[3] == b'T' || v.starts_with(b"WITA") => Some(4),
        5 if v[4] == b'T' => Some(5),
        _ => None,
    }
}

fn signed_offset_len(v: &[u8]) -> usize {
    if !matches!(v.first(), Some(b'+' | b'-')) {
        return 0;
    }
    let n = v[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    match atoi(&v[1..1 + n]) {
        Some(h) if n > 0 && h <= 23 => 1 + n,
        _ => 0,
    }
}
