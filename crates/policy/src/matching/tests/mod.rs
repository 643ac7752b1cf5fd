use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;
use crate::{load_policies, Policy};

mod filters;
mod requests;
mod scope;
mod wire;

/// A policy with one rule `r` (match, optional exclude), loaded as a user would write it.
fn policy(kind: &str, namespace: Option<&str>, rule: Value) -> Policy {
    let mut rule = rule;
    rule["name"] = json!("r");
    rule["verifyImages"] = json!([{"imageReferences": ["*"], "required": false}]);
    let mut metadata = json!({"name": "p"});
    if let Some(ns) = namespace {
        metadata["namespace"] = json!(ns);
    }
    let doc = json!({
        "apiVersion": "kyverno.io/v1",
        "kind": kind,
        "metadata": metadata,
        "spec": {"rules": [rule]},
    });
    let mut policies = load_policies(&doc.to_string()).expect("test policy loads");
    policies.remove(0)
}

fn object(kind: &str, name: &str, ns: &str, labels: Value, annotations: Value) -> Value {
    let mut metadata = json!({"name": name, "labels": labels, "annotations": annotations});
    if !ns.is_empty() {
        metadata["namespace"] = json!(ns);
    }
    json!({"kind": kind, "metadata": metadata, "spec": {}})
}

/// A request for `object`; DELETE carries it as `oldObject`, as the API server does.
fn request(op: &str, gvk: [&str; 3], resource: &str, sub: &str, object: Value) -> AdmissionRequest {
    let ns = object["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut r = json!({
        "uid": "u",
        "kind": {"group": gvk[0], "version": gvk[1], "kind": gvk[2]},
        "resource": {"group": gvk[0], "version": gvk[1], "resource": resource},
        "subResource": sub,
        "namespace": ns,
        "operation": op,
        "userInfo": {"username": "alice"},
    });
    r[if op == "DELETE" {
        "oldObject"
    } else {
        "object"
    }] = object;
    AdmissionRequest::from_json(&r).expect("test request parses")
}

const POD: [&str; 3] = ["", "v1", "Pod"];
const DEPLOY: [&str; 3] = ["apps", "v1", "Deployment"];

fn pod(op: &str, name: &str, ns: &str, labels: Value) -> AdmissionRequest {
    let obj = object("Pod", name, ns, labels, json!({"team": "payments"}));
    request(op, POD, "pods", "", obj)
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
