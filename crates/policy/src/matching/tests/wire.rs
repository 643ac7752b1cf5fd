//! The fast reader ([`AdmissionRequest::from_slice`]) against the strict one
//! ([`AdmissionRequest::from_value`]): the same request or the same error, for requests
//! the fast path takes and for those it must hand back.

use super::*;

/// A full request, every field the reader knows set.
const FULL: &str = r#"{
  "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
  "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
  "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
  "subResource": "",
  "requestKind": {"group": "apps", "version": "v1beta1", "kind": "Deployment"},
  "requestResource": {"group": "apps", "version": "v1beta1", "resource": "deployments"},
  "requestSubResource": "",
  "name": "web", "namespace": "shop", "operation": "UPDATE",
  "userInfo": {"username": "admin", "uid": "42", "groups": ["system:masters"],
               "extra": {"scopes": ["a", "b"], "empty": []}},
  "object": {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "web", "labels": {"b": "2", "a": "1"}},
             "spec": {"replicas": 3, "ratio": 1.5, "big": 18446744073709551615,
                      "template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}}},
  "oldObject": {"kind": "Deployment", "metadata": {"name": "web"}},
  "dryRun": true,
  "options": {"kind": "UpdateOptions", "apiVersion": "meta.k8s.io/v1"},
  "unknownField": [1, {"x": null}]
}"#;

/// Reads `json` both ways and insists on the same answer; returns whether the fast path
/// took it.
fn same(json: &str) -> bool {
    let strict = serde_json::from_str::<Value>(json)
        .map_err(|e| e.to_string())
        .and_then(|v| AdmissionRequest::from_value(v).map_err(|e| e.to_string()));
    let fast = AdmissionRequest::from_slice(json.as_bytes()).map_err(|e| e.to_string());
    match (&strict, &fast) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{json}"),
        // A JSON syntax error: the strict reader never saw a request.
        (Err(_), Err(b)) if b.contains("not JSON") => {}
        (Err(a), Err(b)) => assert_eq!(a, b, "{json}"),
        _ => panic!("{json}: strict {strict:?}, fast {fast:?}"),
    }
    super::super::wire::read(json.as_bytes()).is_some()
}

/// `FULL` with `field` replaced by `value` (JSON), or removed when `value` is `None`.
fn with(field: &str, value: Option<&str>) -> String {
    let mut v: Value = serde_json::from_str(FULL).expect("FULL");
    let target = v.as_object_mut().expect("object");
    match value {
        Some(value) => {
            target.insert(field.into(), serde_json::from_str(value).expect("value"));
        }
        None => {
            target.remove(field);
        }
    }
    v.to_string()
}

#[test]
fn well_formed_requests_take_the_fast_path_and_read_the_same() {
    assert!(same(FULL));
    let minimal = r#"{"uid": "u", "kind": {"version": "v1", "kind": "Pod"},
        "resource": {"version": "v1", "resource": "pods"}, "operation": "CREATE"}"#;
    assert!(same(minimal));
    for (field, value) in [
        ("object", None),
        ("object", Some("null")),
        ("oldObject", Some("null")),
        ("userInfo", Some("null")),
        ("userInfo", Some("{}")),
        ("requestKind", Some("null")),
        ("dryRun", Some("false")),
        ("namespace", Some("null")),
        ("options", None),
    ] {
        assert!(same(&with(field, value)), "{field} = {value:?}");
    }
    let parsed = AdmissionRequest::from_slice(FULL.as_bytes()).expect("FULL");
    assert_eq!(parsed.user_info.extra["scopes"], ["a", "b"]);
    assert_eq!(
        parsed.object.as_ref().expect("object")["spec"]["replicas"],
        3
    );
}

#[test]
fn ill_formed_requests_get_the_strict_readers_error() {
    for (field, value) in [
        ("uid", None),
        ("uid", Some("7")),
        ("kind", Some(r#"["apps", "v1", "Deployment"]"#)),
        ("kind", Some(r#"{"group": "apps", "kind": "Deployment"}"#)),
        ("resource", Some(r#"{"version": "v1"}"#)),
        ("requestResource", Some(r#"["", "v1", "pods"]"#)),
        ("operation", Some(r#""create""#)),
        ("operation", None),
        ("userInfo", Some(r#"["admin"]"#)),
        ("userInfo", Some(r#"{"groups": "system:masters"}"#)),
        ("userInfo", Some(r#"{"extra": {"scopes": [1]}}"#)),
        ("userInfo", Some(r#"{"extra": {"scopes": null}}"#)),
        ("object", Some("[]")),
        ("oldObject", Some(r#""text""#)),
        ("options", Some("3")),
        ("dryRun", Some(r#""yes""#)),
        ("subResource", Some("false")),
    ] {
        let json = with(field, value);
        assert!(!same(&json), "{field} = {value:?} took the fast path");
        let err = AdmissionRequest::from_slice(json.as_bytes()).expect_err(field);
        assert!(err.to_string().contains("request."), "{field}: {err}");
    }
    for not_a_request in ["[]", "null", r#""uid""#, "{", "", r#"{"uid": "u"} x"#] {
        assert!(!same(not_a_request), "{not_a_request}");
    }
    let err = AdmissionRequest::from_slice(b"{").expect_err("truncated");
    assert!(err.to_string().contains("not JSON"), "{err}");
}

#[test]
fn a_duplicate_field_is_read_as_the_strict_reader_reads_it() {
    // serde refuses a repeated field; the strict reader keeps the last value. Either way
    // the answer is the strict reader's.
    let json = FULL.replacen(r#""name": "web","#, r#""name": "first", "name": "web","#, 1);
    assert!(!same(&json));
    let parsed = AdmissionRequest::from_slice(json.as_bytes()).expect("duplicate name");
    assert_eq!(parsed.name, "web");
}
