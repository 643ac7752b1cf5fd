//! Tests of the Kyverno functions through the public API (cases ported from Kyverno's
//! `functions_test.go` where it has them), and of the `query` semantics.

use serde_json::{json, Value};

use super::*;

mod arith_time;
mod golayout;
mod query;

/// Evaluates over `data`, failing the test on error.
pub(super) fn eval_on(expr: &str, data: &Value) -> Value {
    search(expr, data).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

pub(super) fn eval(expr: &str) -> Value {
    eval_on(expr, &json!({}))
}

/// The error message of a failing evaluation.
pub(super) fn fails(expr: &str) -> String {
    match search(expr, &json!({"n": 1, "s": "x", "o": {}, "a": []})) {
        Ok(v) => panic!("{expr} should fail, got {v}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn expression_is_send_sync_clone_debug() {
    fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug>() {}
    assert_traits::<Expression>();
    let e = compile("a.b").expect("compiles");
    assert_eq!(format!("{e:?}"), r#"Expression("a.b")"#);
    assert_eq!(e.as_str(), "a.b");
}

#[test]
fn compile_errors_name_the_expression() {
    match compile("a.[") {
        Err(Error::JmesPath { expression, reason }) => {
            assert_eq!(expression, "a.[");
            assert!(!reason.is_empty());
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn string_functions() {
    assert_eq!(eval("compare('a', 'a')"), json!(0));
    assert_eq!(eval("compare('a', 'b')"), json!(-1));
    assert_eq!(eval("compare('b', 'a')"), json!(1));
    assert_eq!(eval("equal_fold('Go', 'GO')"), json!(true));
    assert_eq!(eval("equal_fold('a', 'b')"), json!(false));
    assert_eq!(
        eval("replace('Lorem ipsum ipsum ipsum dolor', 'ipsum', 'muspi', `-1`)"),
        json!("Lorem muspi muspi muspi dolor")
    );
    assert_eq!(
        eval("replace('Lorem ipsum ipsum ipsum dolor', 'ipsum', 'muspi', `1`)"),
        json!("Lorem muspi ipsum ipsum dolor")
    );
    assert_eq!(
        eval("replace_all('Lorem ipsum ipsum', 'ipsum', 'x')"),
        json!("Lorem x x")
    );
    assert_eq!(eval("to_upper('a#%&123Bc')"), json!("A#%&123BC"));
    assert_eq!(eval("to_upper('stra\u{df}e')"), json!("STRA\u{df}E"));
    assert_eq!(eval("to_lower('a#%&123Bc')"), json!("a#%&123bc"));
    assert_eq!(
        eval("trim('\u{a1}\u{a1}\u{a1}Hello, Gophers!!!', '!\u{a1}')"),
        json!("Hello, Gophers")
    );
    assert_eq!(
        eval("trim_prefix('\u{a1}Hello, Gophers', '\u{a1}Hello, ')"),
        json!("Gophers")
    );
    assert_eq!(eval("trim_prefix('Hello', 'Hola')"), json!("Hello"));
    assert_eq!(
        eval("split('Hello, Gophers', ', ')"),
        json!(["Hello", "Gophers"])
    );
    assert_eq!(eval("split('abc', '')"), json!(["a", "b", "c"]));
    assert_eq!(
        eval("truncate('Lorem ipsum dolor sit amet', `5`)"),
        json!("Lorem")
    );
    assert_eq!(eval("truncate('Lorem ipsum', `2.6`)"), json!("Lo"));
    assert_eq!(eval("truncate('Lorem ipsum', `-1`)"), json!(""));
    assert_eq!(eval("truncate('Lorem', `40`)"), json!("Lorem"));
    assert_eq!(eval("to_boolean('TruE')"), json!(true));
    assert_eq!(eval("to_boolean('faLSE')"), json!(false));
    assert_eq!(
        eval("path_canonicalize('/var/run///containerd////')"),
        json!("/var/run/containerd")
    );
    assert_eq!(eval("path_canonicalize('/run/../etc')"), json!("/etc"));
    assert_eq!(eval("path_canonicalize('/../../')"), json!("/"));
    for bad in [
        "compare('a', `1`)",
        "equal_fold(`1`, 'a')",
        "replace('a', 'b', 'c', 'd')",
        "replace_all('a', 'b')",
        "to_upper(`1`)",
        "to_lower(o)",
        "trim('a', n)",
        "trim_prefix(n, 'a')",
        "split(a, ',')",
        "truncate('a', 'b')",
        "to_boolean('yes')",
        "path_canonicalize(n)",
    ] {
        fails(bad);
    }
}

#[test]
fn regex_and_wildcard_functions() {
    let data = json!({"foo": "hgf'b1a2r'b12g", "neg": -12.0, "field": "Hello world, helworldlo"});
    assert_eq!(eval_on("regex_match('12.*', foo)", &data), json!(true));
    assert_eq!(eval_on("regex_match('^12', foo)", &data), json!(false));
    assert_eq!(eval_on("regex_match('12.*', abs(neg))", &data), json!(true));
    assert_eq!(
        eval_on("pattern_match('12*', abs(neg))", &data),
        json!(true)
    );
    assert_eq!(eval_on("pattern_match('hgf*g', foo)", &data), json!(true));
    assert_eq!(eval_on("pattern_match('hgf?', foo)", &data), json!(false));
    assert_eq!(
        eval_on("regex_replace_all('([Hh]e|G)l', field, '${2}G')", &data),
        json!("Glo world, Gworldlo")
    );
    assert_eq!(
        eval_on("regex_replace_all('(o)', field, '[$1]')", &data),
        json!("Hell[o] w[o]rld, helw[o]rldl[o]")
    );
    assert_eq!(
        eval_on("regex_replace_all_literal('[Hh]el?', field, 'G')", &data),
        json!("Glo world, Gworldlo")
    );
    assert_eq!(
        eval_on("regex_replace_all_literal('o', field, '$1')", &data),
        json!("Hell$1 w$1rld, helw$1rldl$1")
    );
    assert_eq!(eval("regex_replace_all('1', `1.5`, `2`)"), json!("2.5"));
    fails("regex_match('(', 'a')");
    fails("regex_match('a', o)");
    fails("pattern_match(`1`, 'a')");
    fails("regex_replace_all('a', 'b', o)");
    fails("regex_replace_all_literal('[', 'b', 'c')");
}

#[test]
fn encoding_functions() {
    assert_eq!(
        eval("base64_encode('Hello, \u{4e16}\u{754c}')"),
        json!("SGVsbG8sIOS4lueVjA==")
    );
    assert_eq!(
        eval("base64_decode('SGVsbG8sIOS4lueVjA==')"),
        json!("Hello, \u{4e16}\u{754c}")
    );
    assert_eq!(eval("base64_decode('SGVs\nbG8=')"), json!("Hello"));
    fails("base64_decode('SGVsbG8')");
    fails("base64_decode('***')");
    fails("base64_encode(n)");
}

#[test]
fn object_functions() {
    let labels = json!({"labels": {"app": "test-app", "controller-name": "test-controller"}});
    assert_eq!(
        eval_on("label_match(`{\"app\": \"test-app\"}`, labels)", &labels),
        json!(true)
    );
    assert_eq!(
        eval_on("label_match(`{\"app\": \"test-app2\"}`, labels)", &labels),
        json!(false)
    );
    assert_eq!(
        eval_on(
            "label_match(`{\"app.kubernetes.io/name\": \"test-app\"}`, labels)",
            &labels
        ),
        json!(false)
    );
    fails("label_match('a', o)");

    let data = json!({"m": {"key1": "value1", "n": 12.34, "b": false, "arr": [7, "x", true]}, "l": ["item0", "item1", "item2"]});
    assert_eq!(eval_on("lookup(m, 'key1')", &data), json!("value1"));
    assert_eq!(eval_on("lookup(m, 'n')", &data), json!(12.34));
    assert_eq!(eval_on("lookup(m, 'arr')", &data), json!([7, "x", true]));
    assert_eq!(eval_on("lookup(m, 'missing')", &data), json!(null));
    assert_eq!(eval_on("lookup(l, `2`)", &data), json!("item2"));
    assert_eq!(eval_on("lookup(l, `3`)", &data), json!(null));
    assert_eq!(eval_on("lookup(l, `-1`)", &data), json!(null));
    fails("lookup(o, `1`)");
    fails("lookup(a, 'x')");
    fails("lookup([`1`], `0.5`)");
    fails("lookup('s', 'x')");

    assert_eq!(
        eval_on("items(m, 'k', 'v')[0]", &data),
        json!({"k": "arr", "v": [7, "x", true]})
    );
    assert_eq!(
        eval("items(`{\"key2\":2,\"key1\":1}`, 'key', 'value')"),
        json!([{"key": "key1", "value": 1}, {"key": "key2", "value": 2}])
    );
    assert_eq!(
        eval("items(['A', 'B'], 'myKey', 'myValue')"),
        json!([{"myKey": 0, "myValue": "A"}, {"myKey": 1, "myValue": "B"}])
    );
    fails("items('a', 'k', 'v')");
    fails("items(o, `1`, 'v')");

    assert_eq!(
        eval("object_from_lists(['a', 'b', `1`, `true`], [`1`, 'x'])"),
        json!({"a": 1, "b": "x", "1": null, "true": null})
    );
    fails("object_from_lists([o], [`1`])");
    fails("object_from_lists(o, a)");
}

#[test]
fn decoders() {
    for text in [
        r#"{"a":"b"}"#,
        "true",
        r#"[1,2,3,{"a":"b"}]"#,
        "null",
        "[]",
        "{}",
        "0",
        "1.2",
    ] {
        assert_eq!(
            eval(&format!("to_string(parse_json('{text}'))")),
            json!(text),
            "{text}"
        );
    }
    assert_eq!(
        eval(r#"parse_json('[1, 2, {"a": {"b": {"c": [1, 2]}}}]')[2].a.b.c[1]"#),
        json!(2)
    );
    fails("parse_json('{')");
    fails("parse_json(n)");
    assert_eq!(eval("parse_yaml('a: b')"), json!({"a": "b"}));
    assert_eq!(
        eval("parse_yaml('\n- 1\n- 2\n- a: b')"),
        json!([1, 2, {"a": "b"}])
    );
    assert_eq!(
        eval("parse_yaml('spec:\n  test: 1\n  test2:\n    - 2\n    - 3\n')"),
        json!({"spec": {"test": 1, "test2": [2, 3]}})
    );
    assert_eq!(
        eval("parse_yaml('bar: >\n  this is not\n  one line\n')"),
        json!({"bar": "this is not one line\n"})
    );
    assert_eq!(
        eval("parse_yaml('---\nfoo: ~\nbar: null\n1: x\n')"),
        json!({"foo": null, "bar": null, "1": "x"})
    );
    fails("parse_yaml('a: [')");
}

#[test]
fn semver_compare_function() {
    assert_eq!(eval("semver_compare('4.1.3', '>=4.1.x')"), json!(true));
    assert_eq!(eval("semver_compare('4.1.3', '!4.x.x')"), json!(false));
    assert_eq!(
        eval("semver_compare('1.8.6', '>1.0.0 <2.0.0')"),
        json!(true)
    );
    assert_eq!(
        eval("semver_compare('2.1.5', '<2.0.0 || >=3.0.0')"),
        json!(false)
    );
    fails("semver_compare('1.0.0', 'garbage')");
    fails("semver_compare(`1`, '1.0.0')");
}
