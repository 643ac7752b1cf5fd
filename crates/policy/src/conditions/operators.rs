//! `Equals`, `NotEquals`, the numeric operators and the `Duration*` operators, ported
//! from Kyverno's `equal.go`, `notequal.go`, `numeric.go`, `duration.go` and the
//! `parseDuration` helper of `operator.go`.
//!
//! Operands are substituted JSON. A top-level number is a Go float64 (Kyverno round-trips
//! operands through JSON before comparing), so `0` and `"0"` compare as Kyverno's float
//! handler does: `0 Equals "0"` is true (the string is parsed), `"0" Equals 0` is false
//! (a string key wants a string, duration or quantity value).

use std::cmp::Ordering;

use serde_json::Value;

use super::Operator;
use crate::jmespath::gocompat::{go_parse_float, go_parse_int, num};
use crate::jmespath::quantity::Quantity;
use crate::jmespath::semver::Version;
use crate::jmespath::{duration::go_seconds, parse_go_duration};
use crate::wildcard::matches as wildcard_match;

/// Go's `time.Duration(x) * time.Second` for a float64 `x` (truncated to whole
/// nanoseconds before scaling, wrapping like int64 arithmetic).
fn seconds_duration(x: f64) -> i64 {
    (x as i64).wrapping_mul(1_000_000_000)
}

/// A string operand as a duration, as `parseDuration` reads it (`"0"` is not one).
fn duration_text(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) if s != "0" => parse_go_duration(s),
        _ => None,
    }
}

/// Kyverno's `parseDuration(key, value)`: both as durations when at least one is a
/// duration string and the other is a duration string or a number (of seconds).
pub(super) fn durations(key: &Value, value: &Value) -> Option<(i64, i64)> {
    let (k, v) = (duration_text(key), duration_text(value));
    if k.is_none() && v.is_none() {
        return None;
    }
    let as_secs = |x: &Value| match x {
        Value::Number(n) => Some(seconds_duration(num(n))),
        _ => None,
    };
    Some((k.or_else(|| as_secs(key))?, v.or_else(|| as_secs(value))?))
}

/// Both operands as quantities (both must be strings).
fn quantities(key: &Value, value: &Value) -> Option<(Quantity, Quantity)> {
    match (key, value) {
        (Value::String(k), Value::String(v)) => Some((Quantity::parse(k)?, Quantity::parse(v)?)),
        _ => None,
    }
}

/// `datautils.DeepEqual` over decoded JSON; numbers compare by value.
pub(super) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => num(x) == num(y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| json_eq(p, q)))
        }
        _ => a == b,
    }
}

/// Kyverno's `EqualHandler`. `Some(result)` for a decided comparison; `None` where the
/// handler "logs and falls through" (which `NotEquals` turns into `true`).
fn equal(key: &Value, value: &Value) -> Option<bool> {
    match key {
        Value::Bool(k) => value.as_bool().map(|v| *k == v),
        Value::Number(k) => {
            let k = num(k);
            match value {
                Value::Number(v) => Some(num(v) == k),
                Value::String(s) => go_parse_float(s).map(|f| f == k),
                _ => None,
            }
        }
        Value::String(k) => {
            if let Some((a, b)) = durations(key, value) {
                return Some(go_seconds(a) == go_seconds(b));
            }
            if let (Some(qk), Value::String(v)) = (Quantity::parse(k), value) {
                return Quantity::parse(v).map(|qv| qk.compare(&qv) == Ordering::Equal);
            }
            value.as_str().map(|v| wildcard_match(v, k))
        }
        Value::Object(_) => value.is_object().then(|| json_eq(key, value)),
        Value::Array(_) => value.is_array().then(|| json_eq(key, value)),
        Value::Null => None,
    }
}

/// `Equals`.
pub(super) fn equals(key: &Value, value: &Value) -> bool {
    equal(key, value).unwrap_or(false)
}

/// `NotEquals` (Kyverno's `NotEqualHandler`, which is not quite `!Equals`: a null key is
/// false both ways, while values of the wrong type for the key are "not equal").
pub(super) fn not_equals(key: &Value, value: &Value) -> bool {
    match key {
        Value::Null => false,
        _ => equal(key, value) != Some(true),
    }
}

fn holds(op: Operator, ord: Option<Ordering>) -> bool {
    let Some(ord) = ord else { return false };
    match op {
        Operator::GreaterThan | Operator::DurationGreaterThan => ord == Ordering::Greater,
        Operator::GreaterThanOrEquals | Operator::DurationGreaterThanOrEquals => {
            ord != Ordering::Less
        }
        Operator::LessThan | Operator::DurationLessThan => ord == Ordering::Less,
        Operator::LessThanOrEquals | Operator::DurationLessThanOrEquals => ord != Ordering::Greater,
        _ => false,
    }
}

/// Kyverno's `validateValueWithFloatPattern` of the numeric handler.
fn numeric_float(op: Operator, key: f64, value: &Value) -> bool {
    match value {
        Value::Number(v) => holds(op, key.partial_cmp(&num(v))),
        Value::String(s) => {
            if let Some((a, b)) = durations(&Value::from(key), value) {
                return holds(op, go_seconds(a).partial_cmp(&go_seconds(b)));
            }
            match go_parse_float(s).or_else(|| go_parse_int(s).map(|i| i as f64)) {
                Some(v) => holds(op, key.partial_cmp(&v)),
                None => false,
            }
        }
        _ => false,
    }
}

/// The numeric operators and the `Duration*` operators.
pub(super) fn compare(op: Operator, key: &Value, value: &Value) -> bool {
    if matches!(
        op,
        Operator::DurationGreaterThan
            | Operator::DurationGreaterThanOrEquals
            | Operator::DurationLessThan
            | Operator::DurationLessThanOrEquals
    ) {
        return duration_compare(op, key, value);
    }
    match key {
        Value::Number(k) => numeric_float(op, num(k), value),
        Value::String(k) => {
            if let Some((a, b)) = durations(key, value) {
                return holds(op, go_seconds(a).partial_cmp(&go_seconds(b)));
            }
            if let Some((a, b)) = quantities(key, value) {
                return holds(op, Some(a.compare(&b)));
            }
            if let Some(f) = go_parse_float(k).or_else(|| go_parse_int(k).map(|i| i as f64)) {
                return numeric_float(op, f, value);
            }
            match (Version::parse(k), value.as_str().map(Version::parse)) {
                (Some(kv), Some(Some(vv))) => holds(op, Some(kv.cmp(&vv))),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Kyverno's `DurationOperatorHandler`: numbers are seconds, strings Go durations
/// (here `"0"` is accepted, as `time.ParseDuration` accepts it).
fn duration_compare(op: Operator, key: &Value, value: &Value) -> bool {
    let as_duration = |v: &Value| match v {
        Value::Number(n) => Some(seconds_duration(num(n))),
        Value::String(s) => parse_go_duration(s),
        _ => None,
    };
    match (as_duration(key), as_duration(value)) {
        (Some(k), Some(v)) => holds(op, Some(k.cmp(&v))),
        _ => false,
    }
}
