//! `Expression::query` (Kyverno's "Unknown key" rule) and the function inventory.

use serde_json::json;

use super::fails;
use crate::jmespath::{compile, is_known_function, search};
use crate::Error;

#[test]
fn query_reports_unknown_keys_like_kyverno() {
    let data = json!({"metadata": {"name": "x", "nil": null, "list": [1]}, "flag": false});
    let q = |e: &str| compile(e).expect("compiles").query(&data);
    let unknown = |e: &str| match q(e) {
        Err(Error::JmesPath { reason, .. }) => reason,
        other => panic!("{e}: expected an error, got {other:?}"),
    };
    assert_eq!(
        unknown("metadata.missing"),
        r#"Unknown key "missing" in path"#
    );
    assert_eq!(unknown("missing.name"), r#"Unknown key "missing" in path"#);
    assert_eq!(q("metadata.list[0].x").ok(), Some(json!(null)));
    assert_eq!(
        unknown("metadata && metadata.nope"),
        r#"Unknown key "nope" in path"#
    );
    // Present-but-null values and constructs that swallow the error resolve normally.
    assert_eq!(q("metadata.nil").ok(), Some(json!(null)));
    assert_eq!(q("metadata.name.deeper").ok(), Some(json!(null)));
    assert_eq!(q("metadata.list[5]").ok(), Some(json!(null)));
    assert_eq!(q("missing || 'default'").ok(), Some(json!("default")));
    assert_eq!(q("to_string(missing)").ok(), Some(json!("null")));
    assert_eq!(q("flag && missing").ok(), Some(json!(false)));
    assert_eq!(q("metadata.*.nope").ok(), Some(json!([])));
    assert_eq!(q("missing | @").ok(), Some(json!(null)));
    // `search` keeps standard JMESPath.
    assert_eq!(search("metadata.missing", &data).ok(), Some(json!(null)));
}

#[test]
fn function_inventory() {
    let e = compile("to_upper(join(',', map(&time_now(), a)))").expect("compiles");
    assert_eq!(e.function_names(), ["to_upper", "join", "map", "time_now"]);
    assert!(is_known_function("time_since") && is_known_function("length"));
    assert!(!is_known_function("x509_decode"));
    assert!(fails("x509_decode('x')").contains("x509_decode"));
}
