use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;

#[test]
fn match_and_exclude() {
    let web = || pod("CREATE", "web-1", "prod-eu", json!({"app": "web"}));
    let api_dev = || pod("CREATE", "api", "dev", json!({"app": "api"}));
    let kube = |app: &str| pod("CREATE", app, "kube-system", json!({"app": app}));
    let prod = labels(&[("env", "prod"), ("team", "a")]);
    let dev = labels(&[("env", "dev")]);
    let none = BTreeMap::new();
    let pod_kinds = json!({"kinds": ["Pod"]});
    let any = |filters: Value| json!({"any": filters});
    let all = |filters: Value| json!({"all": filters});
    let generate_named = {
        let mut o = object("Pod", "", "prod-eu", json!({}), json!({}));
        o["metadata"]["generateName"] = json!("web-");
        request("CREATE", POD, "pods", "", o)
    };
    let ns_sel =
        |sel: Value| any(json!([{"resources": {"kinds": ["Pod"], "namespaceSelector": sel}}]));
    let res = |r: Value| any(json!([{ "resources": r }]));
    type Case<'a> = (
        &'a str,
        Value,
        Option<Value>,
        AdmissionRequest,
        &'a BTreeMap<String, String>,
        bool,
    );
    let cases: Vec<Case<'_>> = vec![
        ("kind", res(pod_kinds.clone()), None, web(), &none, true),
        (
            "other kind",
            res(json!({"kinds": ["Deployment"]})),
            None,
            web(),
            &none,
            false,
        ),
        (
            "legacy resources",
            json!({"resources": {"kinds": ["Pod"], "names": ["web-*"]}}),
            None,
            web(),
            &none,
            true,
        ),
        (
            "any: second filter",
            any(
                json!([{"resources": {"kinds": ["Pod"], "namespaces": ["prod-*"]}}, {"resources": {"kinds": ["Pod"], "names": ["api"]}}]),
            ),
            None,
            api_dev(),
            &none,
            true,
        ),
        (
            "any: no filter",
            any(
                json!([{"resources": {"kinds": ["Pod"], "namespaces": ["prod-*"]}}, {"resources": {"kinds": ["Pod"], "names": ["web-*"]}}]),
            ),
            None,
            api_dev(),
            &none,
            false,
        ),
        (
            "all: every filter",
            all(
                json!([{"resources": {"kinds": ["Pod"], "namespaces": ["prod-*"]}}, {"resources": {"kinds": ["Pod"], "names": ["web-?"]}}]),
            ),
            None,
            web(),
            &none,
            true,
        ),
        (
            "all: one fails",
            all(
                json!([{"resources": {"kinds": ["Pod"], "namespaces": ["prod-*"]}}, {"resources": {"kinds": ["Pod"], "names": ["api"]}}]),
            ),
            None,
            web(),
            &none,
            false,
        ),
        (
            "names: generateName",
            res(json!({"kinds": ["Pod"], "names": ["web-*"]})),
            None,
            generate_named,
            &none,
            true,
        ),
        (
            "names: no match",
            res(json!({"kinds": ["Pod"], "names": ["web-??"]})),
            None,
            web(),
            &none,
            false,
        ),
        (
            "namespaces: exact",
            res(json!({"kinds": ["Pod"], "namespaces": ["dev", "qa"]})),
            None,
            api_dev(),
            &none,
            true,
        ),
        (
            "namespaces: none",
            res(json!({"kinds": ["Pod"], "namespaces": ["prod-*"]})),
            None,
            api_dev(),
            &none,
            false,
        ),
        (
            "operations: listed",
            res(json!({"kinds": ["Pod"], "operations": ["UPDATE", "DELETE"]})),
            None,
            pod("DELETE", "web", "dev", json!({})),
            &none,
            true,
        ),
        (
            "operations: not listed",
            res(json!({"kinds": ["Pod"], "operations": ["CREATE"]})),
            None,
            pod("UPDATE", "web", "dev", json!({})),
            &none,
            false,
        ),
        (
            "operations: empty is any",
            res(pod_kinds.clone()),
            None,
            pod("DELETE", "web", "dev", json!({})),
            &none,
            true,
        ),
        (
            "selector on oldObject for DELETE",
            res(json!({"kinds": ["Pod"], "selector": {"matchLabels": {"app": "web"}}})),
            None,
            pod("DELETE", "x", "dev", json!({"app": "web"})),
            &none,
            true,
        ),
        (
            "selector wildcard",
            res(json!({"kinds": ["Pod"], "selector": {"matchLabels": {"app": "w*"}}})),
            None,
            web(),
            &none,
            true,
        ),
        (
            "selector mismatch",
            res(json!({"kinds": ["Pod"], "selector": {"matchLabels": {"app": "web"}}})),
            None,
            api_dev(),
            &none,
            false,
        ),
        (
            "selector expression",
            res(
                json!({"kinds": ["Pod"], "selector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}}),
            ),
            None,
            api_dev(),
            &none,
            true,
        ),
        (
            "annotations",
            res(json!({"kinds": ["Pod"], "annotations": {"team": "pay*"}})),
            None,
            web(),
            &none,
            true,
        ),
        (
            "annotations mismatch",
            res(json!({"kinds": ["Pod"], "annotations": {"team": "billing"}})),
            None,
            web(),
            &none,
            false,
        ),
        (
            "namespaceSelector labels",
            ns_sel(json!({"matchLabels": {"env": "prod"}})),
            None,
            web(),
            &prod,
            true,
        ),
        (
            "namespaceSelector labels no",
            ns_sel(json!({"matchLabels": {"env": "prod"}})),
            None,
            web(),
            &dev,
            false,
        ),
        (
            "namespaceSelector wildcard",
            ns_sel(json!({"matchLabels": {"env": "pr*"}})),
            None,
            web(),
            &prod,
            true,
        ),
        (
            "namespaceSelector In",
            ns_sel(
                json!({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "staging"]}]}),
            ),
            None,
            web(),
            &prod,
            true,
        ),
        (
            "namespaceSelector NotIn",
            ns_sel(
                json!({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}),
            ),
            None,
            web(),
            &prod,
            false,
        ),
        (
            "namespaceSelector NotIn absent",
            ns_sel(
                json!({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}),
            ),
            None,
            web(),
            &none,
            true,
        ),
        (
            "namespaceSelector Exists",
            ns_sel(json!({"matchExpressions": [{"key": "team", "operator": "Exists"}]})),
            None,
            web(),
            &prod,
            true,
        ),
        (
            "namespaceSelector Exists no",
            ns_sel(json!({"matchExpressions": [{"key": "team", "operator": "Exists"}]})),
            None,
            web(),
            &dev,
            false,
        ),
        (
            "namespaceSelector DoesNotExist",
            ns_sel(json!({"matchExpressions": [{"key": "team", "operator": "DoesNotExist"}]})),
            None,
            web(),
            &dev,
            true,
        ),
        (
            "namespaceSelector DoesNotExist no",
            ns_sel(json!({"matchExpressions": [{"key": "team", "operator": "DoesNotExist"}]})),
            None,
            web(),
            &prod,
            false,
        ),
        (
            "exclude any",
            res(pod_kinds.clone()),
            Some(any(
                json!([{"resources": {"kinds": ["Pod"], "namespaces": ["kube-system"]}}]),
            )),
            kube("dns"),
            &none,
            false,
        ),
        (
            "exclude any: not excluded",
            res(pod_kinds.clone()),
            Some(any(
                json!([{"resources": {"kinds": ["Pod"], "namespaces": ["kube-system"]}}]),
            )),
            web(),
            &none,
            true,
        ),
        (
            "exclude all: every filter",
            res(pod_kinds.clone()),
            Some(all(
                json!([{"resources": {"kinds": ["Pod"], "namespaces": ["kube-system"]}}, {"resources": {"kinds": ["Pod"], "selector": {"matchLabels": {"app": "dns"}}}}]),
            )),
            kube("dns"),
            &none,
            false,
        ),
        (
            "exclude all: one filter only",
            res(pod_kinds.clone()),
            Some(all(
                json!([{"resources": {"kinds": ["Pod"], "namespaces": ["kube-system"]}}, {"resources": {"kinds": ["Pod"], "selector": {"matchLabels": {"app": "dns"}}}}]),
            )),
            kube("proxy"),
            &none,
            true,
        ),
        (
            "exclude by operation",
            res(pod_kinds.clone()),
            Some(any(
                json!([{"resources": {"kinds": ["Pod"], "operations": ["DELETE"]}}]),
            )),
            pod("DELETE", "x", "dev", json!({})),
            &none,
            false,
        ),
    ];
    for (what, m, exclude, req, ns_labels, expected) in cases {
        let mut rule = json!({"match": m});
        if let Some(e) = exclude {
            rule["exclude"] = e;
        }
        let p = policy("ClusterPolicy", None, rule);
        assert_eq!(
            rule_matches(&p, &p.spec.rules[0], &req, ns_labels),
            expected,
            "{what}"
        );
    }
}

#[test]
fn kinds_in_requests() {
    let pod_obj = || object("Pod", "web", "dev", json!({}), json!({}));
    let deploy = request(
        "CREATE",
        DEPLOY,
        "deployments",
        "",
        object("Deployment", "web", "dev", json!({}), json!({})),
    );
    let status = request("UPDATE", POD, "pods", "status", pod_obj());
    let ephemeral = request("UPDATE", POD, "pods", "ephemeralcontainers", pod_obj());
    let scale_obj = json!({"kind": "Scale", "metadata": {"name": "web", "namespace": "dev"}});
    let scale = {
        let mut r = request("UPDATE", DEPLOY, "deployments", "scale", scale_obj);
        r.kind = GroupVersionKind {
            group: "autoscaling".into(),
            version: "v1".into(),
            kind: "Scale".into(),
        };
        r
    };
    let cases: Vec<(&str, &AdmissionRequest, bool)> = vec![
        ("apps/v1/Deployment", &deploy, true),
        ("batch/v1/Deployment", &deploy, false),
        ("v1/Deployment", &deploy, true),
        ("Deploy*", &deploy, true),
        ("*", &deploy, true),
        ("Pod", &status, false),
        ("Pod/status", &status, true),
        ("*", &status, false),
        ("*/*", &status, true),
        ("Pod", &ephemeral, true),
        ("Deployment/scale", &scale, true),
        ("Scale", &scale, false),
    ];
    for (kind, req, expected) in cases {
        // A rule naming a controller kind alone gets no autogen; these test kinds only.
        let p = policy(
            "ClusterPolicy",
            None,
            json!({"match": {"any": [{"resources": {"kinds": [kind], "namespaces": ["dev"]}}]}}),
        );
        assert_eq!(
            rule_matches(&p, &p.spec.rules[0], req, &BTreeMap::new()),
            expected,
            "{kind} vs {:?}/{}",
            req.kind,
            req.sub_resource
        );
    }
}
