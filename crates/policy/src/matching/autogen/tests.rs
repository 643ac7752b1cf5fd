use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;
use crate::load_policies;
use crate::matching::{matching_rules, AdmissionRequest};

/// A ClusterPolicy with the given autogen annotation and rules (name → match[, exclude]).
fn policy(annotation: Option<&str>, rules: &[(&str, Value, Option<Value>)]) -> Policy {
    let rules: Vec<Value> = rules
        .iter()
        .map(|(name, m, exclude)| {
            let mut r = json!({
                "name": name,
                "match": m,
                "verifyImages": [{"imageReferences": ["*"], "required": false}],
            });
            if let Some(e) = exclude {
                r["exclude"] = e.clone();
            }
            r
        })
        .collect();
    let mut metadata = json!({"name": "p"});
    if let Some(a) = annotation {
        metadata["annotations"] = json!({ AUTOGEN_ANNOTATION: a });
    }
    let doc = json!({
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": metadata,
        "spec": {"rules": rules},
    });
    load_policies(&doc.to_string())
        .expect("test policy loads")
        .remove(0)
}

fn pods(extra: Value) -> Value {
    let mut resources = json!({"kinds": ["Pod"]});
    if let (Some(r), Some(e)) = (resources.as_object_mut(), extra.as_object()) {
        r.extend(e.clone());
    }
    json!({"any": [{"resources": resources}]})
}

/// A rule's name and the kinds of each of its `any` (or `all`) match filters.
type Summary = Vec<(String, Vec<Vec<String>>)>;

/// Names and the kinds of each `any` (or `all`) match filter of the effective rules.
fn summary(p: &Policy) -> Summary {
    effective_rules(p)
        .into_iter()
        .map(|r| {
            let m = &r.match_resources;
            let filters = if m.any.is_empty() { &m.all } else { &m.any };
            (
                r.name.clone(),
                filters.iter().map(|d| d.kinds.clone()).collect(),
            )
        })
        .collect()
}

const SIX: [&str; 6] = [
    "apps/v1/DaemonSet",
    "apps/v1/Deployment",
    "batch/v1/Job",
    "apps/v1/ReplicaSet",
    "v1/ReplicationController",
    "apps/v1/StatefulSet",
];

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn generated_rules_per_annotation() {
    let full = vec![
        ("r".to_string(), vec![s(&["Pod"])]),
        ("autogen-r".to_string(), vec![s(&SIX)]),
        (
            "autogen-cronjob-r".to_string(),
            vec![s(&["batch/v1/CronJob"])],
        ),
    ];
    let only_r = vec![("r".to_string(), vec![s(&["Pod"])])];
    let cases: Vec<(Option<&str>, Summary)> = vec![
        (None, full.clone()),
        (Some("all"), full.clone()),
        (Some("none"), only_r.clone()),
        (Some(""), only_r.clone()),
        (
            Some("StatefulSet,Deployment"),
            vec![
                only_r[0].clone(),
                (
                    "autogen-r".into(),
                    vec![s(&["apps/v1/Deployment", "apps/v1/StatefulSet"])],
                ),
            ],
        ),
        (
            Some("CronJob"),
            vec![
                only_r[0].clone(),
                ("autogen-cronjob-r".into(), vec![s(&["batch/v1/CronJob"])]),
            ],
        ),
        (
            Some("Deployment,CronJob"),
            vec![
                only_r[0].clone(),
                ("autogen-r".into(), vec![s(&["apps/v1/Deployment"])]),
                ("autogen-cronjob-r".into(), vec![s(&["batch/v1/CronJob"])]),
            ],
        ),
        // Kyverno does not trim: " Job" is not a controller.
        (
            Some("Deployment, Job"),
            vec![
                only_r[0].clone(),
                ("autogen-r".into(), vec![s(&["apps/v1/Deployment"])]),
            ],
        ),
    ];
    for (annotation, expected) in cases {
        let p = policy(annotation, &[("r", pods(json!({})), None)]);
        assert_eq!(summary(&p), expected, "annotation {annotation:?}");
    }
}

#[test]
fn restrictions_disable_autogen_even_with_the_annotation() {
    let cases: Vec<(&str, Value, Option<Value>)> = vec![
        ("names", pods(json!({"names": ["web-*"]})), None),
        (
            "selector",
            pods(json!({"selector": {"matchLabels": {"app": "web"}}})),
            None,
        ),
        (
            "annotations",
            pods(json!({"annotations": {"team": "a"}})),
            None,
        ),
        (
            "mixed kinds",
            json!({"any": [{"resources": {"kinds": ["Pod", "Service"]}}]}),
            None,
        ),
        (
            "excluded names",
            pods(json!({})),
            Some(pods(json!({"names": ["x"]}))),
        ),
        // Autogen is needed only when a kind is spelled exactly Pod or a controller.
        (
            "v1/Pod only",
            json!({"any": [{"resources": {"kinds": ["v1/Pod"]}}]}),
            None,
        ),
        // A rule must match Pod, and an exclude with kinds must exclude Pod.
        (
            "controller kind",
            json!({"any": [{"resources": {"kinds": ["Deployment"]}}]}),
            None,
        ),
        (
            "exclude other kind",
            pods(json!({})),
            Some(json!({"any": [{"resources": {"kinds": ["Deployment"]}}]})),
        ),
    ];
    for (what, m, exclude) in cases {
        for annotation in [None, Some("Deployment")] {
            let p = policy(annotation, &[("r", m.clone(), exclude.clone())]);
            let names: Vec<String> = effective_rules(&p).into_iter().map(|r| r.name).collect();
            assert_eq!(names, ["r"], "{what} with {annotation:?}");
        }
    }
    // One restricted rule disables autogen for the whole policy.
    let p = policy(
        None,
        &[("a", pods(json!({}))), ("b", pods(json!({"names": ["x"]})))].map(|(n, m)| (n, m, None)),
    );
    assert_eq!(effective_rules(&p).len(), 2);
    // namespaces and namespaceSelector do not restrict autogen.
    let p = policy(
        None,
        &[(
            "r",
            pods(
                json!({"namespaces": ["prod"], "namespaceSelector": {"matchLabels": {"env": "prod"}}}),
            ),
            None,
        )],
    );
    assert_eq!(effective_rules(&p).len(), 3);
}

#[test]
fn only_pod_filters_and_excludes_are_rewritten() {
    let m = json!({"any": [{"resources": {"kinds": ["Pod"], "namespaces": ["prod"]}}, {"resources": {"kinds": ["Service"]}}]});
    let exclude =
        json!({"any": [{"resources": {"kinds": ["Pod"], "namespaces": ["kube-system"]}}]});
    let p = policy(None, &[("r", m, Some(exclude))]);
    let rules = effective_rules(&p);
    assert_eq!(summary(&p)[1].1, vec![s(&SIX), s(&["Service"])]);
    // The CronJob rule names CronJob in every filter.
    assert_eq!(
        summary(&p)[2].1,
        vec![s(&["batch/v1/CronJob"]), s(&["batch/v1/CronJob"])]
    );
    for r in &rules[1..] {
        assert!(r.is_autogen());
        assert_eq!(r.match_resources.any[0].namespaces, ["prod"], "{}", r.name);
        let ex = r.exclude.as_ref().expect("exclude kept");
        assert_eq!(ex.any[0].namespaces, ["kube-system"]);
        assert_ne!(
            ex.any[0].kinds,
            ["Pod"],
            "{}: exclude kinds follow the rule",
            r.name
        );
    }
    assert!(!rules[0].is_autogen());
}

#[test]
fn written_autogen_rules_are_replaced_and_long_names_cut() {
    let long = "x".repeat(60);
    let p = policy(
        None,
        &[
            ("autogen-old", pods(json!({})), None),
            (long.as_str(), pods(json!({})), None),
        ],
    );
    let names: Vec<String> = effective_rules(&p).into_iter().map(|r| r.name).collect();
    let cut = |prefix: &str| format!("{prefix}-{long}")[..63].to_owned();
    assert_eq!(
        names,
        [long.clone(), cut("autogen"), cut("autogen-cronjob")]
    );
    // With nothing generated, a written autogen rule stays.
    let p = policy(Some("none"), &[("autogen-old", pods(json!({})), None)]);
    assert_eq!(effective_rules(&p)[0].name, "autogen-old");
}

#[test]
fn every_controller_kind_matches_its_rule() {
    let p = policy(None, &[("r", pods(json!({"namespaces": ["prod"]})), None)]);
    let kinds = [
        ("apps", "DaemonSet", "daemonsets", "autogen-r"),
        ("apps", "Deployment", "deployments", "autogen-r"),
        ("apps", "ReplicaSet", "replicasets", "autogen-r"),
        ("apps", "StatefulSet", "statefulsets", "autogen-r"),
        ("batch", "Job", "jobs", "autogen-r"),
        (
            "",
            "ReplicationController",
            "replicationcontrollers",
            "autogen-r",
        ),
        ("batch", "CronJob", "cronjobs", "autogen-cronjob-r"),
        ("", "Pod", "pods", "r"),
    ];
    for (group, kind, resource, rule) in kinds {
        for (ns, expected) in [("prod", vec![rule]), ("dev", vec![])] {
            let req = AdmissionRequest::from_json(&json!({
                "uid": "u",
                "kind": {"group": group, "version": "v1", "kind": kind},
                "resource": {"group": group, "version": "v1", "resource": resource},
                "operation": "CREATE",
                "namespace": ns,
                "object": {"kind": kind, "metadata": {"name": "x", "namespace": ns}},
            }))
            .expect("request parses");
            let names: Vec<String> = matching_rules(&p, &req, &BTreeMap::new())
                .into_iter()
                .map(|r| r.name)
                .collect();
            assert_eq!(names, expected, "{kind} in {ns}");
        }
    }
    assert_eq!(controllers(&p).expect("autogen applies").len(), 7);
}

#[test]
fn generated_rules_are_kept_and_a_modified_clone_works_them_out_again() {
    let p = policy(None, &[("check", pods(json!({})), None)]);
    let first = summary(&p);
    assert_eq!(
        first,
        summary(&p),
        "the kept rules differ from the first ones"
    );
    assert!(first.iter().any(|(name, _)| name == "autogen-check"));
    let mut changed = p.clone();
    changed
        .annotations
        .insert(AUTOGEN_ANNOTATION.to_owned(), "none".to_owned());
    let names: Vec<String> = summary(&changed).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["check"]);
}
