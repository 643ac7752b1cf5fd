//! Kyverno's time functions (`time.go`). Times are RFC 3339 strings, parsed and
//! printed as Go does (`2021-01-02T15:04:05-07:00`, output without fractional seconds);
//! durations are Go durations (`180h10m0s`).

use chrono::{DateTime, Datelike, FixedOffset, TimeDelta, Timelike, Utc};
use jmespath::{Rcvar, Runtime, Variable};

use super::duration::{format_go_duration, parse_go_duration};
use super::functions::{register_fn, str_arg, string, FnResult, Str};
use super::gotime::{parse_go_time, RFC3339};

type Time = DateTime<FixedOffset>;

/// Argument `i` parsed as an RFC 3339 time.
fn time_arg(args: &[Rcvar], i: usize) -> Result<Time, String> {
    parse_go_time(RFC3339, str_arg(args, i)?)
}

fn duration_arg(args: &[Rcvar], i: usize) -> Result<i64, String> {
    let s = str_arg(args, i)?;
    parse_go_duration(s).ok_or_else(|| format!("time: invalid duration {s:?}"))
}

fn now() -> Time {
    chrono::Local::now().fixed_offset()
}

/// Go's `t2.Sub(t1)`: nanoseconds, saturated to the `i64` range.
fn sub(t2: &Time, t1: &Time) -> i64 {
    let secs = i128::from(t2.timestamp()) - i128::from(t1.timestamp());
    let nanos = secs * 1_000_000_000 + i128::from(t2.timestamp_subsec_nanos())
        - i128::from(t1.timestamp_subsec_nanos());
    nanos.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

fn add(t: &Time, nanos: i64) -> Result<Time, String> {
    t.checked_add_signed(TimeDelta::nanoseconds(nanos))
        .ok_or_else(|| "time out of range".to_owned())
}

/// Go's `t.Truncate(d)`: round down to a multiple of `d` counted from 0001-01-01 UTC.
fn truncate(t: &Time, d: i64) -> Result<Time, String> {
    if d <= 0 {
        return Ok(*t);
    }
    const ZERO_UNIX: i128 = -62_135_596_800;
    let abs = (i128::from(t.timestamp()) - ZERO_UNIX) * 1_000_000_000
        + i128::from(t.timestamp_subsec_nanos());
    let r = abs.rem_euclid(i128::from(d));
    add(t, -(r as i64))
}

fn time_since(args: &[Rcvar]) -> FnResult {
    let layout = match str_arg(args, 0)? {
        "" => RFC3339,
        l => l,
    };
    let t1 = parse_go_time(layout, str_arg(args, 1)?)?;
    let t2 = match str_arg(args, 2)? {
        "" => now(),
        s => parse_go_time(layout, s)?,
    };
    string(format_go_duration(sub(&t2, &t1)))
}

fn time_parse(args: &[Rcvar]) -> FnResult {
    let (layout, value) = (str_arg(args, 0)?, str_arg(args, 1)?);
    if layout.parse::<i64>().is_ok() {
        // An integer layout means "the value is Unix seconds".
        let secs: i64 = value
            .parse()
            .map_err(|_| format!("strconv.ParseInt: parsing {value:?}: invalid syntax"))?;
        let t = DateTime::<Utc>::from_timestamp(secs, 0).ok_or("time out of range")?;
        return string(format_rfc3339(&t.fixed_offset()));
    }
    string(format_rfc3339(&parse_go_time(layout, value)?))
}

fn time_to_cron(args: &[Rcvar]) -> FnResult {
    let t = time_arg(args, 0)?;
    let weekday = t.weekday().num_days_from_sunday();
    string(format!(
        "{} {} {} {} {weekday}",
        t.minute(),
        t.hour(),
        t.day(),
        t.month()
    ))
}

/// `t.Format(time.RFC3339)`: whole seconds, `Z` for a zero offset, else `±hh:mm`.
fn format_rfc3339(t: &DateTime<FixedOffset>) -> String {
    let year = t.year();
    let y = if year < 0 {
        format!("-{:04}", year.unsigned_abs())
    } else {
        format!("{year:04}")
    };
    let off = t.offset().local_minus_utc();
    let zone = if off == 0 {
        "Z".to_owned()
    } else {
        let sign = if off < 0 { '-' } else { '+' };
        let a = off.unsigned_abs() / 60;
        format!("{sign}{:02}:{:02}", a / 60, a % 60)
    };
    format!(
        "{y}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn boolean(b: bool) -> FnResult {
    Ok(Variable::Bool(b))
}

/// Registers the time functions.
pub(super) fn register(rt: &mut Runtime) {
    register_fn(rt, "time_since", vec![Str, Str, Str], time_since);
    register_fn(rt, "time_now", vec![], |_| string(format_rfc3339(&now())));
    register_fn(rt, "time_now_utc", vec![], |_| {
        string(format_rfc3339(&Utc::now().fixed_offset()))
    });
    register_fn(rt, "time_to_cron", vec![Str], time_to_cron);
    register_fn(rt, "time_add", vec![Str, Str], |a| {
        string(format_rfc3339(&add(&time_arg(a, 0)?, duration_arg(a, 1)?)?))
    });
    register_fn(rt, "time_parse", vec![Str, Str], time_parse);
    register_fn(rt, "time_utc", vec![Str], |a| {
        string(format_rfc3339(&time_arg(a, 0)?.to_utc().fixed_offset()))
    });
    register_fn(rt, "time_diff", vec![Str, Str], |a| {
        string(format_go_duration(sub(&time_arg(a, 1)?, &time_arg(a, 0)?)))
    });
    register_fn(rt, "time_before", vec![Str, Str], |a| {
        boolean(time_arg(a, 0)? < time_arg(a, 1)?)
    });
    register_fn(rt, "time_after", vec![Str, Str], |a| {
        boolean(time_arg(a, 0)? > time_arg(a, 1)?)
    });
    register_fn(rt, "time_between", vec![Str, Str, Str], |a| {
        let (t, start, end) = (time_arg(a, 0)?, time_arg(a, 1)?, time_arg(a, 2)?);
        boolean(t > start && t < end)
    });
    register_fn(rt, "time_truncate", vec![Str, Str], |a| {
        string(format_rfc3339(&truncate(
            &time_arg(a, 0)?,
            duration_arg(a, 1)?,
        )?))
    });
}
