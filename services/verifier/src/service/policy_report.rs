//! One `wgpolicyk8s.io/v1alpha2` PolicyReport as Kyverno (1.10 on) writes it: a report per
//! resource whose `scope` names the resource, results without `resources`, `source:
//! kyverno`, and each result's `scored`, `category` and `severity` from the policy's
//! `policies.kyverno.io/*` annotations.

use std::collections::BTreeMap;

use aws_lc_rs::digest::{digest, SHA256};
use serde_json::{json, Map, Value};

use crate::store::DecisionRecord;

/// `"false"` makes a policy's failures warnings.
pub const SCORED_ANNOTATION: &str = "policies.kyverno.io/scored";
/// Copied into each result's `category`.
pub const CATEGORY_ANNOTATION: &str = "policies.kyverno.io/category";
/// Copied into each result's `severity` when it is one the schema allows.
pub const SEVERITY_ANNOTATION: &str = "policies.kyverno.io/severity";

/// Kyverno's source name. Report tooling (Policy Reporter, dashboards) groups and filters
/// results by source; these are Kyverno policies judged as Kyverno judges them.
const SOURCE: &str = "kyverno";

/// What a policy revision's annotations say about its results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reporting {
    /// Unless `policies.kyverno.io/scored: "false"`.
    pub scored: bool,
    /// `policies.kyverno.io/category`.
    pub category: Option<String>,
    /// `policies.kyverno.io/severity`, when critical, high, medium, low or info.
    pub severity: Option<&'static str>,
}

impl Default for Reporting {
    fn default() -> Self {
        Reporting {
            scored: true,
            category: None,
            severity: None,
        }
    }
}

impl Reporting {
    /// Reads the annotations of a policy document as stored (YAML or JSON). A document
    /// that does not parse (it was valid when stored) reports with the defaults.
    pub fn of_document(document: &str) -> Reporting {
        let parsed = signet_policy::parse_json_or_yaml(document).unwrap_or_default();
        let annotation = |key: &str| parsed["metadata"]["annotations"][key].as_str();
        Reporting {
            scored: annotation(SCORED_ANNOTATION) != Some("false"),
            category: annotation(CATEGORY_ANNOTATION)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
            // Kyverno keeps only the values its schema allows, exactly as spelled.
            severity: annotation(SEVERITY_ANNOTATION).and_then(|s| {
                ["critical", "high", "medium", "low", "info"]
                    .into_iter()
                    .find(|allowed| *allowed == s)
            }),
        }
    }

    /// Kyverno's result: the rule's status, whatever the failure action (an Audit failure
    /// is `fail`); a failure of a policy that is not scored is `warn`.
    fn result(&self, d: &DecisionRecord) -> &'static str {
        match d.result.as_str() {
            "pass" => "pass",
            "fail" if self.scored => "fail",
            "fail" => "warn",
            "skip" => "skip",
            _ => "error",
        }
    }
}

/// The resource a report is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subject {
    /// Empty for a cluster-scoped resource.
    pub namespace: String,
    pub kind: String,
    pub name: String,
}

/// The API version of the kinds whose Pods Kyverno's autogen covers (decisions record the
/// kind only).
fn api_version(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" | "ReplicationController" => Some("v1"),
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => Some("apps/v1"),
        "Job" | "CronJob" => Some("batch/v1"),
        _ => None,
    }
}

/// Kyverno names a report after its resource's UID, which decisions do not record; this
/// name is as stable: a UUID-shaped digest of the cluster and the resource.
fn report_name(cluster: &str, s: &Subject) -> String {
    let input = [cluster, &s.namespace, &s.kind, &s.name].join("\0");
    let hex = hex::encode(&digest(&SHA256, input.as_bytes()).as_ref()[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn result(d: &DecisionRecord, r: &Reporting) -> (&'static str, Value) {
    let status = r.result(d);
    let mut out = Map::new();
    out.insert("source".into(), json!(SOURCE));
    out.insert("policy".into(), json!(d.policy));
    if !d.rule.is_empty() {
        out.insert("rule".into(), json!(d.rule));
    }
    if !d.message.is_empty() {
        out.insert("message".into(), json!(d.message));
    }
    out.insert("result".into(), json!(status));
    // `scored` is omitted when false, as Go's omitempty writes it.
    if r.scored {
        out.insert("scored".into(), json!(true));
    }
    let mut properties = Map::new();
    properties.insert("process".into(), json!("admission review"));
    properties.insert("image".into(), json!(d.image));
    if let Some(digest) = &d.digest {
        properties.insert("digest".into(), json!(digest));
    }
    out.insert("properties".into(), Value::Object(properties));
    out.insert(
        "timestamp".into(),
        json!({"seconds": d.time.div_euclid(1000), "nanos": 0}),
    );
    if let Some(category) = &r.category {
        out.insert("category".into(), json!(category));
    }
    if let Some(severity) = r.severity {
        out.insert("severity".into(), json!(severity));
    }
    (status, Value::Object(out))
}

/// The report of one resource: `ds` are its results (sorted by policy, rule, image, as
/// Kyverno sorts them); `reporting` is looked up by (policy, policy_version).
pub fn build<'a>(
    cluster: &str,
    subject: &Subject,
    ds: impl IntoIterator<Item = &'a DecisionRecord>,
    reporting: &BTreeMap<(String, i64), Reporting>,
) -> Value {
    let default = Reporting::default();
    let mut summary = [
        ("pass", 0),
        ("fail", 0),
        ("warn", 0),
        ("error", 0),
        ("skip", 0),
    ];
    let results: Vec<Value> = ds
        .into_iter()
        .map(|d| {
            let r = reporting
                .get(&(d.policy.clone(), d.policy_version))
                .unwrap_or(&default);
            let (status, value) = result(d, r);
            if let Some(count) = summary.iter_mut().find(|(s, _)| *s == status) {
                count.1 += 1;
            }
            value
        })
        .collect();
    let mut metadata = json!({
        "name": report_name(cluster, subject),
        "labels": {"app.kubernetes.io/managed-by": "signet", "signet.dev/cluster": cluster},
    });
    let mut scope = Map::new();
    if let Some(v) = api_version(&subject.kind) {
        scope.insert("apiVersion".into(), json!(v));
    }
    scope.insert("kind".into(), json!(subject.kind));
    if !subject.namespace.is_empty() {
        metadata["namespace"] = json!(subject.namespace);
        scope.insert("namespace".into(), json!(subject.namespace));
    }
    scope.insert("name".into(), json!(subject.name));
    json!({
        "apiVersion": "wgpolicyk8s.io/v1alpha2",
        "kind": if subject.namespace.is_empty() { "ClusterPolicyReport" } else { "PolicyReport" },
        "metadata": metadata,
        "scope": scope,
        "summary": summary
            .into_iter()
            .map(|(status, n)| (status.to_owned(), json!(n)))
            .collect::<Map<String, Value>>(),
        "results": results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_decide_scored_category_and_severity() {
        let doc = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: p\n  annotations:\n    policies.kyverno.io/scored: \"false\"\n    policies.kyverno.io/category: Supply Chain\n    policies.kyverno.io/severity: medium\n";
        assert_eq!(
            Reporting::of_document(doc),
            Reporting {
                scored: false,
                category: Some("Supply Chain".into()),
                severity: Some("medium"),
            }
        );
        let odd = r#"{"metadata": {"annotations": {"policies.kyverno.io/severity": "High", "policies.kyverno.io/scored": "no"}}}"#;
        assert_eq!(Reporting::of_document(odd), Reporting::default());
        assert_eq!(Reporting::of_document("{not"), Reporting::default());
    }

    #[test]
    fn report_names_are_uuid_shaped_and_per_resource() {
        let s = |name: &str| Subject {
            namespace: "team".into(),
            kind: "Pod".into(),
            name: name.into(),
        };
        let a = report_name("prod", &s("a"));
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_eq!(a, report_name("prod", &s("a")));
        assert_ne!(a, report_name("prod", &s("b")));
        assert_ne!(a, report_name("dev", &s("a")));
    }
}
