use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;

#[test]
fn request_parsing_errors_name_the_field() {
    let base = json!({
        "uid": "u",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "operation": "CREATE",
        "userInfo": {"username": "a", "groups": ["g"], "extra": {"k": ["v"]}},
        "object": {"kind": "Pod"},
        "dryRun": true,
    });
    let ok = AdmissionRequest::from_json(&base).expect("valid request");
    assert_eq!(
        (ok.operation, ok.dry_run, ok.user_info.groups.len()),
        (Operation::Create, true, 1)
    );
    let with = |path: &[&str], v: Option<Value>| {
        let mut r = base.clone();
        let (last, parents) = path.split_last().expect("non-empty path");
        let mut at = &mut r;
        for p in parents {
            at = &mut at[*p];
        }
        match v {
            Some(v) => at[*last] = v,
            None => {
                at.as_object_mut().expect("object").remove(*last);
            }
        }
        r
    };
    let cases = [
        (json!("x"), "request: expected an object"),
        (with(&["uid"], None), "request.uid: required"),
        (with(&["uid"], Some(json!(3))), "request.uid: expected a string"),
        (with(&["kind"], None), "request.kind: required"),
        (with(&["kind", "kind"], None), "request.kind.kind: required"),
        (with(&["kind", "version"], Some(json!(1))), "request.kind.version: expected a string"),
        (with(&["resource", "resource"], None), "request.resource.resource: required"),
        (with(&["operation"], None), "request.operation: required"),
        (with(&["operation"], Some(json!("PATCH"))), "request.operation: \"PATCH\" is not an operation: expected CREATE, UPDATE, DELETE or CONNECT"),
        (with(&["object"], Some(json!([1]))), "request.object: expected an object"),
        (with(&["oldObject"], Some(json!("x"))), "request.oldObject: expected an object"),
        (with(&["dryRun"], Some(json!("yes"))), "request.dryRun: expected a boolean"),
        (with(&["userInfo", "groups"], Some(json!(["a", 1]))), "request.userInfo.groups[1]: expected a string"),
        (with(&["userInfo", "extra", "k"], Some(json!("v"))), "request.userInfo.extra.k: expected a list"),
        (with(&["requestKind"], Some(json!({"version": "v1"}))), "request.requestKind.kind: required"),
        (with(&["subResource"], Some(json!(false))), "request.subResource: expected a string"),
    ];
    for (input, message) in cases {
        match AdmissionRequest::from_json(&input) {
            Err(crate::Error::InvalidRequest(m)) => assert_eq!(m, message, "{input}"),
            other => panic!("{input}: expected an error, got {other:?}"),
        }
    }
    let review =
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": base});
    assert_eq!(
        AdmissionRequest::from_review(&review).expect("review parses"),
        ok
    );
    assert!(matches!(
        AdmissionRequest::from_review(&json!({"kind": "AdmissionReview"})),
        Err(crate::Error::InvalidRequest(m)) if m == "request: required"
    ));
}

#[test]
fn synthetic_pod_matches_like_a_real_one() {
    let p = policy(
        "ClusterPolicy",
        None,
        json!({"match": {"any": [{"resources": {"kinds": ["Pod"], "namespaces": ["default"], "operations": ["CREATE"]}}]}}),
    );
    let req = AdmissionRequest::pod_create("default", "verify", &["nginx"]);
    assert!(rule_matches(&p, &p.spec.rules[0], &req, &BTreeMap::new()));
    let images = crate::extract::extract_images("Pod", req.object.as_ref().expect("object"))
        .expect("extracts");
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].image, "nginx");
}

#[test]
fn images_come_from_the_new_object_only() {
    let spec = json!({"containers": [{"name": "a", "image": "nginx"}], "ephemeralContainers": [{"name": "dbg", "image": "busybox"}]});
    let mut obj = object("Pod", "web", "dev", json!({}), json!({}));
    obj["spec"] = spec;
    let images = |r: &AdmissionRequest| -> Vec<String> {
        r.images()
            .expect("extracts")
            .into_iter()
            .map(|i| i.image)
            .collect()
    };
    assert_eq!(
        images(&request("CREATE", POD, "pods", "", obj.clone())),
        ["nginx", "busybox"]
    );
    assert_eq!(
        images(&request(
            "UPDATE",
            POD,
            "pods",
            "ephemeralcontainers",
            obj.clone()
        )),
        ["nginx", "busybox"]
    );
    assert!(images(&request("DELETE", POD, "pods", "", obj)).is_empty());
    let scale = json!({"kind": "Scale", "metadata": {"name": "web"}, "spec": {"replicas": 2}});
    assert!(images(&request("UPDATE", DEPLOY, "deployments", "scale", scale)).is_empty());
}

#[test]
fn from_value_reads_what_from_json_reads() {
    let full = json!({
        "uid": "u",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "operation": "UPDATE",
        "namespace": "ns",
        "object": {"kind": "Pod", "metadata": {"name": "new"}},
        "oldObject": {"kind": "Pod", "metadata": {"name": "old"}},
        "options": {"kind": "UpdateOptions"},
    });
    let borrowed = AdmissionRequest::from_json(&full).expect("from_json");
    let owned = AdmissionRequest::from_value(full.clone()).expect("from_value");
    assert_eq!(owned, borrowed);
    assert_eq!(owned.old_object, Some(full["oldObject"].clone()));
    let mut bad = full.clone();
    bad["oldObject"] = json!("not an object");
    let err = AdmissionRequest::from_value(bad).expect_err("bad oldObject");
    assert!(err.to_string().contains("request.oldObject"), "{err}");
    assert!(AdmissionRequest::from_value(json!([])).is_err());
}
