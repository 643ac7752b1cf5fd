//! Go's `time.Parse(layout, value)`.
//!
//! Kyverno's `time_since` and `time_parse` take a Go reference-time layout
//! (`Mon Jan _2 15:04:05 MST 2006`); the other time functions parse RFC 3339 through the
//! same code (`2006-01-02T15:04:05Z07:00`, which also accepts fractional seconds and a
//! one-digit hour, as Go does). Zone abbreviations resolve as in a UTC-local process
//! (Kyverno's container): `UTC` and unknown names are offset 0, `GMT+3` is +03:00.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};

use super::golayout::{
    atoi, getnum, lookup, nanos, next_chunk, skip, zone_name_len, Std, LONG_DAYS, LONG_MONTHS,
    SHORT_DAYS, SHORT_MONTHS,
};

/// Go's RFC 3339 layout.
pub(crate) const RFC3339: &str = "2006-01-02T15:04:05Z07:00";

/// Parsed fields, with Go's "not seen" markers (`-1`).
struct Fields {
    year: i64,
    month: i64,
    day: i64,
    yday: i64,
    hour: i64,
    min: i64,
    sec: i64,
    nsec: i64,
    pm: Option<bool>,
    offset: Option<i64>,
}

/// Go's `time.Parse(layout, value)`; the error names what did not match.
pub(crate) fn parse_go_time(layout: &str, value: &str) -> Result<DateTime<FixedOffset>, String> {
    let bad = |what: &str| {
        Err(format!(
            "parsing time {value:?} as {layout:?}: cannot parse {what}"
        ))
    };
    let mut f = Fields {
        year: 0,
        month: -1,
        day: -1,
        yday: -1,
        hour: 0,
        min: 0,
        sec: 0,
        nsec: 0,
        pm: None,
        offset: None,
    };
    let (mut rest_layout, mut v) = (layout, value.as_bytes());
    loop {
        let (prefix, std, suffix) = next_chunk(rest_layout);
        let Some(after) = skip(v, prefix.as_bytes()) else {
            return bad(&format!("{:?} as {prefix:?}", String::from_utf8_lossy(v)));
        };
        v = after;
        let Some(std) = std else {
            if !v.is_empty() {
                return Err(format!(
                    "parsing time {value:?}: extra text: {:?}",
                    String::from_utf8_lossy(v)
                ));
            }
            break;
        };
        rest_layout = suffix;
        match parse_element(std, v, rest_layout, &mut f) {
            Some(Ok(after)) => v = after,
            Some(Err(range)) => {
                return Err(format!("parsing time {value:?}: {range} out of range"))
            }
            None => return bad(&format!("{:?}", String::from_utf8_lossy(v))),
        }
    }
    if let Some(pm) = f.pm {
        if pm && f.hour < 12 {
            f.hour += 12;
        } else if !pm && f.hour == 12 {
            f.hour = 0;
        }
    }
    let year = i32::try_from(f.year).map_err(|_| "year out of range".to_owned())?;
    let date = if f.yday >= 0 {
        let d = u32::try_from(f.yday)
            .ok()
            .and_then(|yd| NaiveDate::from_yo_opt(year, yd));
        let Some(d) = d else {
            return Err(format!("parsing time {value:?}: day-of-year out of range"));
        };
        if (f.month >= 0 && f.month != i64::from(d.month()))
            || (f.day >= 0 && f.day != i64::from(d.day()))
        {
            return Err(format!(
                "parsing time {value:?}: day-of-year does not match month or day"
            ));
        }
        d
    } else {
        let (m, d) = (
            if f.month < 0 { 1 } else { f.month },
            if f.day < 0 { 1 } else { f.day },
        );
        let date = u32::try_from(m)
            .ok()
            .zip(u32::try_from(d).ok())
            .and_then(|(m, d)| NaiveDate::from_ymd_opt(year, m, d));
        date.ok_or_else(|| format!("parsing time {value:?}: day out of range"))?
    };
    let time = date
        .and_hms_nano_opt(f.hour as u32, f.min as u32, f.sec as u32, f.nsec as u32)
        .ok_or_else(|| format!("parsing time {value:?}: time out of range"))?;
    let offset = FixedOffset::east_opt(f.offset.unwrap_or(0) as i32)
        .ok_or_else(|| format!("parsing time {value:?}: time zone offset out of range"))?;
    time.and_local_timezone(offset)
        .single()
        .ok_or_else(|| format!("parsing time {value:?}: out of range"))
}

type Step<'a> = Option<Result<&'a [u8], &'static str>>;

/// One layout element of Go's `parse` loop: the rest of the value, `Err(field)` for a
/// value out of range, `None` for text that does not fit.
fn parse_element<'a>(std: Std, v: &'a [u8], rest_layout: &str, f: &mut Fields) -> Step<'a> {
    let ranged = |ok: bool, field: &'static str, rest: &'a [u8]| {
        Some(if ok { Ok(rest) } else { Err(field) })
    };
    match std {
        Std::Year => {
            let y = atoi(v.get(..2)?)?;
            f.year = if y >= 69 { y + 1900 } else { y + 2000 };
            Some(Ok(&v[2..]))
        }
        Std::LongYear => {
            if v.len() < 4 || !v[0].is_ascii_digit() {
                return None;
            }
            f.year = atoi(&v[..4])?;
            Some(Ok(&v[4..]))
        }
        Std::Month | Std::LongMonth => {
            let tab: &[&str] = if std == Std::Month {
                &SHORT_MONTHS
            } else {
                &LONG_MONTHS
            };
            let (m, rest) = lookup(tab, v)?;
            f.month = m + 1;
            Some(Ok(rest))
        }
        Std::NumMonth(fixed) => {
            let (m, rest) = getnum(v, 2, fixed)?;
            f.month = m;
            ranged((1..=12).contains(&m), "month", rest)
        }
        Std::WeekDay => lookup(&SHORT_DAYS, v).map(|(_, rest)| Ok(rest)),
        Std::LongWeekDay => lookup(&LONG_DAYS, v).map(|(_, rest)| Ok(rest)),
        Std::Day(kind) => {
            let v = if kind == 1 && v.first() == Some(&b' ') {
                &v[1..]
            } else {
                v
            };
            let (d, rest) = getnum(v, 2, kind == 2)?;
            f.day = d;
            Some(Ok(rest))
        }
        Std::YearDay(fixed) => {
            let mut v = v;
            for _ in 0..2 {
                if !fixed && v.first() == Some(&b' ') {
                    v = &v[1..];
                }
            }
            let (d, rest) = getnum(v, 3, fixed)?;
            f.yday = d;
            Some(Ok(rest))
        }
        Std::Hour => {
            let (h, rest) = getnum(v, 2, false)?;
            f.hour = h;
            ranged(h < 24, "hour", rest)
        }
        Std::Hour12(fixed) => {
            let (h, rest) = getnum(v, 2, fixed)?;
            f.hour = h;
            ranged(h <= 12, "hour", rest)
        }
        Std::Minute(fixed) => {
            let (m, rest) = getnum(v, 2, fixed)?;
            f.min = m;
            ranged(m < 60, "minute", rest)
        }
        Std::Second(fixed) => {
            let (s, mut rest) = getnum(v, 2, fixed)?;
            f.sec = s;
            if s >= 60 {
                return Some(Err("second"));
            }
            // Go accepts fractional seconds the layout does not mention.
            let frac_next = matches!(next_chunk(rest_layout).1, Some(Std::Frac { .. }));
            if rest.len() >= 2
                && matches!(rest[0], b'.' | b',')
                && rest[1].is_ascii_digit()
                && !frac_next
            {
                let n = 1 + rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                f.nsec = nanos(rest, n)?;
                rest = &rest[n..];
            }
            Some(Ok(rest))
        }
        Std::Pm(upper) => {
            let p = v.get(..2)?;
            let (pm, am) = if upper {
                (b"PM", b"AM")
            } else {
                (b"pm", b"am")
            };
            f.pm = Some(match p {
                p if p == pm => true,
                p if p == am => false,
                _ => return None,
            });
            Some(Ok(&v[2..]))
        }
        Std::NumTz {
            iso,
            colon,
            short,
            secs,
        } => {
            if iso && v.first() == Some(&b'Z') {
                f.offset = Some(0);
                return Some(Ok(&v[1..]));
            }
            let (hh, mm, ss, len) = match (colon, short, secs) {
                (true, _, false) if v.get(3) == Some(&b':') => {
                    (v.get(1..3)?, v.get(4..6)?, &b"00"[..], 6)
                }
                (true, _, true) if v.get(3) == Some(&b':') && v.get(6) == Some(&b':') => {
                    (v.get(1..3)?, v.get(4..6)?, v.get(7..9)?, 9)
                }
                (true, ..) => return None,
                (false, true, _) => (v.get(1..3)?, &b"00"[..], &b"00"[..], 3),
                (false, false, true) => (v.get(1..3)?, v.get(3..5)?, v.get(5..7)?, 7),
                (false, false, false) => (v.get(1..3)?, v.get(3..5)?, &b"00"[..], 5),
            };
            let (h, m, s) = (
                getnum(hh, 2, true)?.0,
                getnum(mm, 2, true)?.0,
                getnum(ss, 2, true)?.0,
            );
            let total = (h * 60 + m) * 60 + s;
            f.offset = Some(match v.first() {
                Some(b'+') => total,
                Some(b'-') => -total,
                _ => return None,
            });
            ranged(h <= 24 && m <= 60 && s <= 60, "time zone offset", &v[len..])
        }
        Std::Tz => {
            if v.starts_with(b"UTC") {
                f.offset = Some(0);
                return Some(Ok(&v[3..]));
            }
            let n = zone_name_len(v)?;
            // A UTC-local process knows no other abbreviation: offset 0, except GMT±h.
            let gmt = v.starts_with(b"GMT") && n > 3;
            f.offset = Some(if gmt {
                atoi(&v[3..n]).unwrap_or(0) * 3600
            } else {
                0
            });
            Some(Ok(&v[n..]))
        }
        Std::Frac {
            exact: true,
            digits,
        } => {
            let n = 1 + digits;
            if v.len() < n {
                return None;
            }
            f.nsec = nanos(v, n)?;
            Some(Ok(&v[n..]))
        }
        Std::Frac { exact: false, .. } => {
            if v.len() < 2 || !matches!(v[0], b'.' | b',') || !v[1].is_ascii_digit() {
                return Some(Ok(v));
            }
            let n = 1 + v[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            f.nsec = nanos(v, n)?;
            Some(Ok(&v[n..]))
        }
    }
}
