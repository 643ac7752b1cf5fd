//! The membership operators: the handler tables of Kyverno's `in_test.go`,
//! `anynotin_test.go`, `allnotin_test.go`, plus wildcard, range and text-form cases.

use serde_json::json;

use super::tests_operators::check;
use super::Operator;

#[test]
fn in_handler_table() {
    check(
        Operator::In,
        &[
            (r#""apple""#, r#"["apple","banana","cherry"]"#, true),
            (r#""grape""#, r#"["apple","banana","cherry"]"#, false),
            (r#""apple""#, "[]", false),
            (r#""hello""#, r#""hello""#, true),
            (r#""hello-world""#, r#""hello-*""#, true),
            (r#""goodbye-world""#, r#""hello-*""#, false),
            (r#""apple""#, r#""[\"apple\", \"banana\"]""#, true),
            (r#""grape""#, r#""[\"apple\", \"banana\"]""#, false),
            ("42", r#"["42","43","44"]"#, true),
            ("99", r#"["42","43"]"#, false),
            ("3.14", r#"["3.14","2.71"]"#, true),
            ("true", r#"["true","false"]"#, true),
            (
                r#"["apple","banana"]"#,
                r#"["apple","banana","cherry"]"#,
                true,
            ),
            (
                r#"["apple","grape"]"#,
                r#"["apple","banana","cherry"]"#,
                false,
            ),
            (
                r#"["apple","banana"]"#,
                r#""[\"apple\", \"banana\", \"cherry\"]""#,
                true,
            ),
            (r#"{"foo":"bar"}"#, r#"["a","b"]"#, false),
            (r#""apple""#, "12345", false),
            (r#""hello-*""#, r#"["hello-world"]"#, true),
            (r#""a""#, r#""not-valid-json""#, false),
            (r#"["a"]"#, r#"["a", 1]"#, false),
            (r#"["test"]"#, r#""test""#, true),
            (r#"["other"]"#, r#""test""#, false),
            ("[]", r#"["a"]"#, true),
            ("null", r#"["a"]"#, false),
        ],
    );
    // Kyverno panics on a non-string element in an In/NotIn array key.
    assert!(Operator::In.apply(&json!(["a", 1]), &json!(["a"])).is_err());
    assert!(Operator::NotIn
        .apply(&json!([true]), &json!(["a"]))
        .is_err());
}

#[test]
fn not_in_handler_table() {
    check(
        Operator::NotIn,
        &[
            (r#""grape""#, r#"["apple","banana"]"#, true),
            (r#""apple""#, r#"["apple","banana"]"#, false),
            (r#"["a","d"]"#, r#"["a","b","c"]"#, true),
            (r#"["a","b"]"#, r#"["a","b","c"]"#, false),
            (r#""a""#, "12345", false),
            (r#""a""#, r#""not-json""#, false),
            // Kyverno quirk: a one-element key equal to a string value is "not in".
            (r#"["test"]"#, r#""test""#, true),
            ("[]", r#"["a"]"#, false),
        ],
    );
}

#[test]
fn any_not_in_handler_table() {
    check(
        Operator::AnyNotIn,
        &[
            (r#""kyverno""#, r#""kyverno""#, false),
            (r#""kube-system""#, r#"["default","kube-*"]"#, false),
            (r#""kyverno""#, r#""default""#, true),
            ("64", r#""64""#, false),
            ("1", "[1,2,3]", false),
            ("64", r#""default""#, true),
            ("3.14", r#""3.14""#, false),
            ("2.2", "[1.1,2.2,3.3]", false),
            ("3.14", r#""default""#, true),
            ("true", "true", false),
            (r#"["kube-system","kube-public"]"#, r#""kube-*""#, false),
            (r#"["kube-system","default"]"#, r#""kube-system""#, true),
            (r#"["default","kyverno"]"#, r#""kube-*""#, true),
            ("[1,2,3]", "2", true),
            ("[1,2,3]", "4", true),
            ("[1.1,2.2,3.3]", "1.1", true),
            ("[1.1,2.2,3.3]", "4.4", true),
            ("[true,false]", "true", true),
            ("[true]", "false", true),
            (
                r#"["default","kyverno"]"#,
                r#"["kube-*","kube-system"]"#,
                true,
            ),
            (r#"["default","kyverno"]"#, r#"["kube-*","ky*"]"#, true),
            ("[]", r#"["default","kyverno"]"#, false),
            (r#""""#, r#"["default","kyverno"]"#, true),
        ],
    );
}

#[test]
fn all_not_in_handler_table() {
    check(
        Operator::AllNotIn,
        &[
            (r#""kyverno""#, r#""kyverno""#, false),
            (r#""kube-system""#, r#"["default","kube-*"]"#, false),
            (r#""kyverno""#, r#""default""#, true),
            ("64", r#""64""#, false),
            ("64", r#""default""#, true),
            (r#"["kube-system","kube-public"]"#, r#""kube-*""#, false),
            (r#"["kube-system","default"]"#, r#""kube-system""#, false),
            (r#"["default","kyverno"]"#, r#""kube-*""#, true),
            (
                r#"["default","kyverno"]"#,
                r#"["kube-*","kube-system"]"#,
                true,
            ),
            (r#"["default","kyverno"]"#, r#"["kube-*","ky*"]"#, false),
            ("[1, 2]", "5", false),
        ],
    );
}

#[test]
fn any_all_in_wildcards_ranges_and_text() {
    check(
        Operator::AnyIn,
        &[
            (r#"["ghcr.io/org/*"]"#, r#"["ghcr.io/org/app:v1"]"#, true),
            (r#""5""#, r#""1-10""#, true),
            ("5", r#""1-10""#, true),
            (r#"["1Gi"]"#, r#""512Mi-2Gi""#, true),
            (r#""15m""#, r#""1h-2h""#, false),
            (r#""x""#, r#""[\"x\"]""#, true),
            (r#""x""#, r#""5""#, false),
            (r#""x""#, "null", false),
            (r#"["a"]"#, "{}", false),
            // fmt.Sprint quirk: a top-level float64 1e6 prints as "1e+06", the array element as "1000000".
            ("1000000", "[1000000]", false),
            ("100000", "[100000]", true),
            ("[1000000]", "[1000000]", true),
        ],
    );
    check(
        Operator::AllIn,
        &[
            (r#"["a","b"]"#, r#"["*"]"#, true),
            (r#"["a","b"]"#, r#""a""#, false),
            ("[1, 2]", "2", false),
            ("[]", r#"["a"]"#, true),
        ],
    );
}
