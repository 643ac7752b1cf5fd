use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;

#[test]
fn namespaced_policy_applies_only_in_its_namespace() {
    let p = policy(
        "Policy",
        Some("team-a"),
        json!({"match": {"any": [{"resources": {"kinds": ["Pod"]}}]}}),
    );
    let rule = &p.spec.rules[0];
    let none = BTreeMap::new();
    assert!(rule_matches(
        &p,
        rule,
        &pod("CREATE", "x", "team-a", json!({})),
        &none
    ));
    assert!(!rule_matches(
        &p,
        rule,
        &pod("CREATE", "x", "team-b", json!({})),
        &none
    ));
    // A Deployment in its namespace matches through the autogen rule.
    let d = request(
        "CREATE",
        DEPLOY,
        "deployments",
        "",
        object("Deployment", "d", "team-a", json!({}), json!({})),
    );
    assert!(rule_matches(&p, rule, &d, &none));
}

#[test]
fn namespaces_and_cluster_scoped_objects() {
    let ns_obj = |name: &str| object("Namespace", name, "", json!({"env": "prod"}), json!({}));
    let ns_req = |name: &str| {
        let mut r = request(
            "CREATE",
            ["", "v1", "Namespace"],
            "namespaces",
            "",
            ns_obj(name),
        );
        // The API server sets `namespace` to the Namespace's own name.
        r.namespace = name.into();
        r
    };
    let prod = labels(&[("env", "prod")]);
    let rule = |r: Value| {
        policy(
            "ClusterPolicy",
            None,
            json!({"match": {"any": [{"resources": r}]}}),
        )
    };
    // `namespaces` is matched against a Namespace's own name.
    let p = rule(json!({"kinds": ["Namespace"], "namespaces": ["team-*"]}));
    assert!(rule_matches(&p, &p.spec.rules[0], &ns_req("team-a"), &prod));
    assert!(!rule_matches(&p, &p.spec.rules[0], &ns_req("other"), &prod));
    // A filter with a namespaceSelector never matches a Namespace.
    let p = rule(json!({"kinds": ["Namespace"], "namespaceSelector": {}}));
    assert!(!rule_matches(
        &p,
        &p.spec.rules[0],
        &ns_req("team-a"),
        &prod
    ));
    // Cluster-scoped objects are judged with no namespace labels, whatever is supplied.
    let node = request(
        "CREATE",
        ["", "v1", "Node"],
        "nodes",
        "",
        object("Node", "n1", "", json!({}), json!({})),
    );
    let sel = |op: &str| {
        rule(
            json!({"kinds": ["Node"], "namespaceSelector": {"matchExpressions": [{"key": "env", "operator": op, "values": ["prod"]}]}}),
        )
    };
    let p = sel("NotIn");
    assert!(rule_matches(&p, &p.spec.rules[0], &node, &prod));
    let p = sel("In");
    assert!(!rule_matches(&p, &p.spec.rules[0], &node, &prod));
    // A namespaced Policy never applies to cluster-scoped objects.
    let p = policy(
        "Policy",
        Some("default"),
        json!({"match": {"any": [{"resources": {"kinds": ["Node"]}}]}}),
    );
    assert!(!rule_matches(&p, &p.spec.rules[0], &node, &prod));
}

#[test]
fn no_object_no_match() {
    let p = policy(
        "ClusterPolicy",
        None,
        json!({"match": {"any": [{"resources": {"kinds": ["Pod"]}}]}}),
    );
    let r = json!({"uid": "u", "kind": {"version": "v1", "kind": "Pod"}, "resource": {"version": "v1", "resource": "pods"}, "operation": "CONNECT", "subResource": "exec"});
    let req = AdmissionRequest::from_json(&r).expect("parses");
    assert!(!rule_matches(&p, &p.spec.rules[0], &req, &BTreeMap::new()));
    assert!(matching_rules(&p, &req, &BTreeMap::new()).is_empty());
}

#[test]
fn controllers_match_through_autogen_with_other_fields_kept() {
    let p = policy(
        "ClusterPolicy",
        None,
        json!({"match": {"any": [{"resources": {"kinds": ["Pod"], "namespaces": ["prod"]}}]}}),
    );
    let none = BTreeMap::new();
    let deploy = |ns: &str| {
        request(
            "CREATE",
            DEPLOY,
            "deployments",
            "",
            object("Deployment", "d", ns, json!({}), json!({})),
        )
    };
    let names = |req: &AdmissionRequest| -> Vec<String> {
        matching_rules(&p, req, &none)
            .into_iter()
            .map(|r| r.name)
            .collect()
    };
    assert_eq!(names(&deploy("prod")), ["autogen-r"]);
    assert!(names(&deploy("dev")).is_empty());
    assert_eq!(names(&pod("CREATE", "x", "prod", json!({}))), ["r"]);
    let cron = request(
        "CREATE",
        ["batch", "v1", "CronJob"],
        "cronjobs",
        "",
        object("CronJob", "c", "prod", json!({}), json!({})),
    );
    assert_eq!(names(&cron), ["autogen-cronjob-r"]);
    let rule = &p.spec.rules[0];
    assert!(rule_matches(&p, rule, &cron, &none));
    let kind = |g: &str, k: &str| GroupVersionKind {
        group: g.into(),
        version: "v1".into(),
        kind: k.into(),
    };
    assert!(applies_to_kind(&p, rule, &kind("apps", "StatefulSet")));
    assert!(applies_to_kind(&p, rule, &kind("", "Pod")));
    assert!(!applies_to_kind(&p, rule, &kind("", "Service")));
}
