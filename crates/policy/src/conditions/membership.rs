//! `In`, `NotIn`, `AnyIn`, `AllIn`, `AnyNotIn`, `AllNotIn`, ported from Kyverno's
//! `in.go`, `notin.go`, `anyin.go`, `allin.go`, `anynotin.go`, `allnotin.go`.
//!
//! Keys and values are compared as text (`fmt.Sprint` of the decoded JSON). A scalar key
//! matches an array value element with wildcards in either direction; a string value is
//! a wildcard pattern, then (for the `Any`/`All` forms) a `1-10` range, then a JSON array
//! of strings (or, when not JSON, a one-element list). With an array key, `In`/`NotIn`
//! use exact set membership and insist on string elements, while the `Any`/`All` forms
//! match with wildcards. Where a Go handler reports an invalid value type every operator,
//! including the negative ones, is `false`.
//!
//! Two Kyverno quirks are kept: `NotIn` with a one-element array key equal to a string
//! value is `true`, and `In`/`NotIn` with a non-string element in an array key (a panic
//! in Kyverno) is an error here.

use serde_json::Value;

use super::pattern;
use super::Operator;
use crate::jmespath::gocompat::go_sprint;
use crate::wildcard::matches as wildcard_match;
use crate::{Error, Result};

/// The outcome of one of Kyverno's `*ExistsInArray` helpers: `None` for "invalid type".
type Found = Option<bool>;

fn either_way(a: &str, b: &str) -> bool {
    wildcard_match(a, b) || wildcard_match(b, a)
}

/// Go's `json.Unmarshal(value, &[]string{})`; `null` is an empty list.
fn string_list(s: &str) -> Option<Vec<String>> {
    serde_json::from_str::<Option<Vec<String>>>(s)
        .ok()
        .map(Option::unwrap_or_default)
}

/// `keyExistsInArray` (`In`, `NotIn`) and, with `any_all`, `anyKeyExistsInArray` /
/// `allKeyExistsInArray` (identical in Kyverno) for a scalar key.
fn key_exists(key: &str, value: &Value, any_all: bool) -> Found {
    match value {
        Value::Array(items) => Some(items.iter().any(|v| either_way(&go_sprint(v, true), key))),
        Value::String(s) => {
            if wildcard_match(s, key) {
                return Some(true);
            }
            if any_all && pattern::is_range(s) {
                return Some(pattern::validate(key, s));
            }
            let list = if !any_all || serde_json::from_str::<Value>(s).is_ok() {
                string_list(s)?
            } else {
                vec![s.clone()]
            };
            Some(list.iter().any(|v| v == key))
        }
        _ => None,
    }
}

/// `setExistsInArray` (`In`/`NotIn` with an array key): exact set membership.
fn set_exists(keys: &[String], value: &Value, not_in: bool) -> Found {
    let list: Vec<String> = match value {
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()?,
        Value::String(s) => {
            if keys.len() == 1 && keys[0] == *s {
                return Some(true);
            }
            string_list(s)?
        }
        _ => return None,
    };
    let all_in = keys.iter().all(|k| list.contains(k));
    Some(if not_in { !all_in } else { all_in })
}

/// The list an `Any`/`All` set operation compares against, or `Err(found)` when Kyverno
/// decides without one (single equal key, range).
fn any_all_list(
    keys: &[String],
    value: &Value,
    op: Operator,
) -> std::result::Result<Vec<String>, Found> {
    let negated = matches!(op, Operator::AnyNotIn | Operator::AllNotIn);
    match value {
        Value::Array(items) => Ok(items.iter().map(|v| go_sprint(v, true)).collect()),
        // `anySetExistsInArray` accepts a scalar value, `allSetExistsInArray` does not.
        Value::Number(_) | Value::Bool(_) if matches!(op, Operator::AnyIn | Operator::AnyNotIn) => {
            Ok(vec![go_sprint(value, false)])
        }
        Value::String(s) => {
            if keys.len() == 1 && keys[0] == *s {
                return Err(Some(!negated));
            }
            if pattern::is_range(s) {
                let found = match op {
                    Operator::AnyIn => keys.iter().any(|k| pattern::validate(k, s)),
                    Operator::AnyNotIn => keys
                        .iter()
                        .any(|k| pattern::validate(k, &s.replacen('-', "!-", 1))),
                    Operator::AllIn => keys.iter().all(|k| pattern::validate(k, s)),
                    _ => !keys.iter().any(|k| pattern::validate(k, s)),
                };
                return Err(Some(found));
            }
            if serde_json::from_str::<Value>(s).is_ok() {
                string_list(s).ok_or(None)
            } else {
                Ok(vec![s.clone()])
            }
        }
        _ => Err(None),
    }
}

/// `any/allSetExistsInArray` for an array key: wildcard matching in either direction.
fn any_all_set(keys: &[String], value: &Value, op: Operator) -> Found {
    let list = match any_all_list(keys, value, op) {
        Ok(list) => list,
        Err(found) => return found,
    };
    let matched = |k: &String| list.iter().any(|v| either_way(k, v));
    Some(match op {
        Operator::AnyIn => keys.iter().any(matched),
        Operator::AnyNotIn => !keys.iter().all(matched),
        Operator::AllIn => keys.iter().all(matched),
        _ => !keys.iter().any(matched),
    })
}

/// Applies one of the membership operators.
pub(super) fn evaluate(op: Operator, key: &Value, value: &Value) -> Result<bool> {
    let found = match key {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            let any_all = !matches!(op, Operator::In | Operator::NotIn);
            let k = go_sprint(key, false);
            let exists = key_exists(&k, value, any_all);
            let negated = matches!(
                op,
                Operator::NotIn | Operator::AnyNotIn | Operator::AllNotIn
            );
            exists.map(|e| e != negated)
        }
        Value::Array(items) if matches!(op, Operator::In | Operator::NotIn) => {
            let keys = items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    Error::Condition(format!(
                        "{}: every element of an array key must be a string, got {key}",
                        op.as_str()
                    ))
                })?;
            set_exists(&keys, value, op == Operator::NotIn)
        }
        Value::Array(items) => {
            let keys: Vec<String> = items.iter().map(|v| go_sprint(v, true)).collect();
            any_all_set(&keys, value, op)
        }
        Value::Null | Value::Object(_) => None,
    };
    Ok(found.unwrap_or(false))
}
