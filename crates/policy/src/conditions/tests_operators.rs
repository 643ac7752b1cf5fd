//! Operator tests: Kyverno's `TestEvaluate` table (`pkg/engine/variables/evaluate_test.go`,
//! 292 distinct cases in `testdata/kyverno_evaluate.json`), the handler tables of
//! `pkg/engine/variables/operator/*_test.go`, and coercion edge cases.

use serde_json::{json, Value};

use super::*;

fn cond(key: Value, op: Operator, value: Value) -> Condition {
    Condition {
        key,
        operator: op,
        value,
        message: None,
    }
}

/// `(key, value, expected)` rows, key and value as JSON text.
pub(super) fn check(op: Operator, rows: &[(&str, &str, bool)]) {
    for (k, v, want) in rows {
        let key: Value = serde_json::from_str(k).expect("key JSON");
        let value: Value = serde_json::from_str(v).expect("value JSON");
        let got = op.apply(&key, &value).expect("no error");
        assert_eq!(got, *want, "{k} {} {v}", op.as_str());
    }
}

#[test]
fn kyverno_evaluate_table() {
    let rows: Vec<(Value, String, Value, bool)> =
        serde_json::from_str(include_str!("testdata/kyverno_evaluate.json")).expect("table");
    assert_eq!(rows.len(), 292);
    let mut wrong = Vec::new();
    for (key, op, value, want) in &rows {
        let op = Operator::parse(op).expect("known operator");
        let got = evaluate(&cond(key.clone(), op, value.clone()), &json!({})).expect("evaluates");
        if got != *want {
            wrong.push(format!(
                "{key} {} {value}: got {got}, want {want}",
                op.as_str()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn operator_names() {
    let names: std::collections::HashSet<&str> = Operator::ALL.iter().map(|o| o.as_str()).collect();
    assert_eq!(names.len(), 16);
    for op in Operator::ALL {
        assert_eq!(Operator::parse(op.as_str()), Some(op));
    }
    for bad in ["equals", "EQUALS", "Equal", "NotEqual", "", "In "] {
        assert_eq!(Operator::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn equal_handler_table() {
    check(
        Operator::Equals,
        &[
            ("true", "true", true),
            ("false", "false", true),
            ("true", "false", false),
            ("true", r#""true""#, false),
            ("42", "42", true),
            ("42", "43", false),
            ("42", "42.0", true),
            ("42", "42.5", false),
            ("42", r#""42""#, true),
            ("42", r#""invalid""#, false),
            ("3.14", "3.14", true),
            ("3.14", "2.71", false),
            ("3.14", r#""3.14""#, true),
            ("3.14", r#""invalid""#, false),
            (r#""hello""#, r#""hello""#, true),
            (r#""hello""#, r#""world""#, false),
            (r#""hello-world""#, r#""hello-*""#, true),
            (r#""goodbye-world""#, r#""hello-*""#, false),
            (r#""hello""#, "123", false),
            (r#""100Mi""#, r#""100Mi""#, true),
            (r#""1Gi""#, r#""1024Mi""#, true),
            (r#""100Mi""#, r#""200Mi""#, false),
            (r#""1h""#, r#""60m""#, true),
            (r#""1h""#, r#""30m""#, false),
            (r#"{"foo":"bar"}"#, r#"{"foo":"bar"}"#, true),
            (r#"{"foo":"bar"}"#, r#"{"foo":"baz"}"#, false),
            (r#"{"foo":"bar"}"#, r#""not a map""#, false),
            (r#"["a","b","c"]"#, r#"["a","b","c"]"#, true),
            (r#"["a","b","c"]"#, r#"["a","b","d"]"#, false),
            (r#"["a","b","c"]"#, r#"["a","b"]"#, false),
            (r#"["a","b","c"]"#, r#""not a slice""#, false),
            ("null", "null", false),
        ],
    );
}

#[test]
fn not_equal_handler_table() {
    check(
        Operator::NotEquals,
        &[
            ("true", "false", true),
            ("42", "43", true),
            ("5", "5.5", true),
            ("3.14", "2.71", true),
            (r#""hello""#, r#""world""#, true),
            (r#""100Mi""#, r#""not-a-quantity""#, true),
            (r#""1h""#, r#""30m""#, true),
            (r#"{"foo":"bar"}"#, r#"{"foo":"baz"}"#, true),
            (r#"["a","b"]"#, r#"["a","c"]"#, true),
            ("true", "true", false),
            ("42", r#""42""#, false),
            (r#""hello-x""#, r#""hello-*""#, false),
            ("true", r#""true""#, true),
            ("3", "null", true),
            ("null", r#""x""#, false),
            ("null", "null", false),
            (r#""100Mi""#, r#""""#, true),
            (r#""1Gi""#, "5", true),
        ],
    );
}

#[test]
fn number_and_string_coercions() {
    // A number key parses a string value; a string key never takes a number value,
    // except as a duration in seconds.
    check(
        Operator::Equals,
        &[
            ("0", r#""0""#, true),
            (r#""0""#, "0", false),
            ("0", "0.0", true),
            ("1", r#""1.0""#, true),
            (r#""1h""#, "3600", true),
            ("3600", r#""1h""#, false),
            (r#""0""#, r#""0s""#, false),
            (r#""0s""#, r#""0""#, false),
            (r#""1.5.2""#, r#""1.5.*""#, true),
            (r#""m""#, r#""k""#, true),
            ("[1, 2.5]", "[1.0, 2.5]", true),
            (r#"{"a": [1]}"#, r#"{"a": [1.0]}"#, true),
        ],
    );
    check(
        Operator::NotEquals,
        &[(r#""0""#, "0", true), ("0", r#""0""#, false)],
    );
    // `length()` yields an integer, a literal `0.0` a float: the same number to Kyverno.
    let data = json!({"list": []});
    let c = cond(json!("{{ length(list) }}"), Operator::Equals, json!(0.0));
    assert!(evaluate(&c, &data).expect("evaluates"));
    let c = cond(json!("{{ length(list) }}"), Operator::Equals, json!("0"));
    assert!(evaluate(&c, &data).expect("evaluates"));
}

#[test]
fn numeric_handler_table() {
    for (op, key, value, want) in [
        (Operator::GreaterThan, "10", "5", true),
        (Operator::GreaterThan, "5", "10", false),
        (Operator::GreaterThan, "5", "5", false),
        (Operator::GreaterThanOrEquals, "10", "10", true),
        (Operator::LessThan, "5", "10", true),
        (Operator::LessThanOrEquals, "5", "5", true),
        (Operator::GreaterThan, "10.5", "10.4", true),
        (Operator::LessThan, "10.4", "10.5", true),
        (Operator::GreaterThan, r#""100""#, "50", true),
        (Operator::LessThan, r#""50""#, r#""100""#, true),
        (Operator::GreaterThan, r#""1.2.3""#, r#""1.2.2""#, true),
        (Operator::LessThan, r#""1.1.0""#, r#""1.2.0""#, true),
        (
            Operator::GreaterThanOrEquals,
            r#""1.2.0""#,
            r#""1.2.0""#,
            true,
        ),
        (Operator::LessThan, r#""1.0.0-rc.1""#, r#""1.0.0""#, true),
        (Operator::GreaterThan, r#""200Mi""#, r#""100Mi""#, true),
        (Operator::LessThan, r#""1Gi""#, r#""2Gi""#, true),
        (Operator::GreaterThanOrEquals, r#""500m""#, r#""0.5""#, true),
        (Operator::GreaterThan, "true", "5", false),
        (Operator::GreaterThan, r#""not-a-number""#, "5", false),
        (Operator::GreaterThan, "null", "5", false),
        (Operator::GreaterThan, "3600", r#""30m""#, true),
        (Operator::LessThan, r#""90s""#, "100", true),
        (Operator::GreaterThan, r#""5""#, r#""1h""#, false),
        (Operator::LessThan, r#""5""#, r#""1h""#, true),
        (Operator::GreaterThan, r#""1Gi""#, "1073741823", false),
        (Operator::GreaterThan, "5", "true", false),
        (Operator::GreaterThan, "5", r#""abc""#, false),
        (Operator::LessThan, r#""1.2.3""#, "2", false),
    ] {
        check(op, &[(key, value, want)]);
    }
}

#[test]
fn duration_handler_table() {
    check(
        Operator::DurationGreaterThan,
        &[
            (r#""2h""#, r#""1h""#, true),
            (r#""1h""#, r#""2h""#, false),
            (r#""1h""#, r#""1h""#, false),
            (r#""60m""#, r#""1h""#, false),
            (r#""61m""#, r#""1h""#, true),
            ("120", "60", true),
            ("60", "120", false),
            ("120", r#""1m""#, true),
            ("120.5", "60.5", true),
            ("120.5", "60", true),
            ("120.0", r#""1m""#, true),
            ("true", "false", false),
            (r#""2m""#, "60", true),
            (r#""invalid""#, "60", false),
            (r#""1h""#, r#""invalid""#, false),
            (r#""1h""#, "true", false),
            (r#""0""#, r#""-1s""#, true),
            ("1.9", "1", false),
            (r#""1h30m""#, r#""90m""#, false),
        ],
    );
    check(
        Operator::DurationGreaterThanOrEquals,
        &[
            (r#""2h""#, r#""1h""#, true),
            (r#""1h""#, r#""60m""#, true),
            (r#""30m""#, r#""1h""#, false),
            ("60", "60", true),
        ],
    );
    check(
        Operator::DurationLessThan,
        &[
            (r#""30m""#, r#""1h""#, true),
            (r#""2h""#, r#""1h""#, false),
            (r#""1h""#, r#""60m""#, false),
            ("30", "60", true),
            (r#""300ms""#, r#""1s""#, true),
        ],
    );
    check(
        Operator::DurationLessThanOrEquals,
        &[
            (r#""30m""#, r#""1h""#, true),
            (r#""1h""#, r#""60m""#, true),
            (r#""2h""#, r#""1h""#, false),
            ("60", "60", true),
        ],
    );
}
