//! Kyverno's string patterns (`pkg/engine/pattern` and `pkg/engine/operator`), as far as
//! the `AnyIn`/`AllIn`/`AnyNotIn`/`AllNotIn` operators use them: a value such as `1-10`
//! (or `1Gi-2Gi`, `1m-1h`) is an inclusive range, `5!-10` its complement, and the key is
//! checked against it with `>=`/`<=` comparisons of durations, then quantities.

use std::cmp::Ordering;
use std::sync::OnceLock;

use regex::Regex;

use crate::jmespath::parse_go_duration;
use crate::jmespath::quantity::Quantity;
use crate::wildcard::matches as wildcard_match;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equal,
    MoreEqual,
    LessEqual,
    NotEqual,
    More,
    Less,
    InRange,
    NotInRange,
}

/// `InRangeRegex` and `NotInRangeRegex` (`\d` is ASCII in Go).
fn range_regex(not: bool) -> &'static Regex {
    static IN: OnceLock<Regex> = OnceLock::new();
    static NOT_IN: OnceLock<Regex> = OnceLock::new();
    let side = r"([-|\+]?[0-9]+(?:\.[0-9]+)?[A-Za-z]*)";
    if not {
        NOT_IN.get_or_init(|| Regex::new(&format!("^{side}!-{side}$")).expect("constant regex"))
    } else {
        IN.get_or_init(|| Regex::new(&format!("^{side}-{side}$")).expect("constant regex"))
    }
}

/// `operator.GetOperatorFromStringPattern`.
fn operator_of(pattern: &str) -> Op {
    if pattern.len() < 2 {
        return Op::Equal;
    }
    for (prefix, op) in [
        (">=", Op::MoreEqual),
        ("<=", Op::LessEqual),
        (">", Op::More),
        ("<", Op::Less),
        ("!", Op::NotEqual),
    ] {
        if pattern.starts_with(prefix) {
            return op;
        }
    }
    if range_regex(true).is_match(pattern) {
        Op::NotInRange
    } else if range_regex(false).is_match(pattern) {
        Op::InRange
    } else {
        Op::Equal
    }
}

/// Whether `value` is an in-range pattern (`1-10`), which the `*In` operators treat as a range.
pub(super) fn is_range(value: &str) -> bool {
    operator_of(value) == Op::InRange
}

/// `pattern.Validate(key, pattern)` for a string key and a string pattern: `|` separates
/// alternatives, `&` conjunctions.
pub(super) fn validate(value: &str, pattern: &str) -> bool {
    value == pattern
        || pattern.split('|').any(|alt| {
            alt.trim_matches(' ')
                .split('&')
                .all(|c| validate_one(value, c.trim_matches(' ')))
        })
}

fn validate_one(value: &str, pattern: &str) -> bool {
    let op = operator_of(pattern);
    match op {
        Op::InRange | Op::NotInRange => {
            let Some(c) = range_regex(op == Op::NotInRange).captures(pattern) else {
                return false;
            };
            let (left, right) = (
                c.get(1).map_or("", |m| m.as_str()),
                c.get(2).map_or("", |m| m.as_str()),
            );
            if op == Op::InRange {
                validate_one(value, &format!(">= {left}"))
                    && validate_one(value, &format!("<= {right}"))
            } else {
                validate_one(value, &format!("< {left}"))
                    || validate_one(value, &format!("> {right}"))
            }
        }
        _ => {
            let skip = match op {
                Op::MoreEqual | Op::LessEqual => 2,
                Op::More | Op::Less | Op::NotEqual => 1,
                _ => 0,
            };
            validate_string(value, pattern[skip..].trim(), op)
        }
    }
}

fn holds(op: Op, ord: Ordering) -> bool {
    match op {
        Op::Equal => ord == Ordering::Equal,
        Op::NotEqual => ord != Ordering::Equal,
        Op::More => ord == Ordering::Greater,
        Op::Less => ord == Ordering::Less,
        Op::MoreEqual => ord != Ordering::Less,
        Op::LessEqual => ord != Ordering::Greater,
        Op::InRange | Op::NotInRange => false,
    }
}

/// `validateString`: durations, then quantities, then (for `=`/`!`) wildcard text.
fn validate_string(value: &str, pattern: &str, op: Op) -> bool {
    if let (Some(p), Some(v)) = (parse_go_duration(pattern), parse_go_duration(value)) {
        return holds(op, v.cmp(&p));
    }
    if let (Some(p), Some(v)) = (Quantity::parse(pattern), Quantity::parse(value)) {
        return holds(op, v.compare(&p));
    }
    match op {
        Op::Equal => wildcard_match(pattern, value),
        Op::NotEqual => !wildcard_match(pattern, value),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(
            is_range("1-10")
                && is_range("1.001-10")
                && is_range("1Gi-2Gi")
                && !is_range("a-b")
                && !is_range("5!-10")
        );
        assert!(validate("5", "1-10"));
        assert!(validate("1", "1-10") && validate("10", "1-10"));
        assert!(!validate("11", "1-10"));
        assert!(validate("1.002", "1.001-10"));
        assert!(!validate("1.0005", "1.001-10"));
        assert!(validate("1536Mi", "1Gi-2Gi"));
        assert!(validate("90m", "1h-2h") && !validate("3h", "1h-2h"));
        assert!(validate("11", "0!-10") && !validate("5", "0!-10"));
        assert!(!validate("abc", "1-10"));
    }

    #[test]
    fn operators_and_alternatives() {
        assert!(validate("5", ">3") && !validate("5", "<3") && validate("5", "<=5"));
        assert!(validate("abc", "!xyz") && !validate("abc", "!a*"));
        assert!(validate("7", "<3 | >6") && !validate("5", "<3 | >6"));
        assert!(validate("5", ">3 & <6") && !validate("7", ">3 & <6"));
    }
}
