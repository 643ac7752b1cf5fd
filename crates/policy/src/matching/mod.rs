//! Which rules apply to an admission request: Kyverno's `match` / `exclude` semantics
//! (`pkg/engine/utils/match.go` `MatchesResourceDescription`, called by
//! `pkg/engine/engine.go` `matches`) over the rules Kyverno runs, Pod-controller rules
//! included ([`autogen`]).
//!
//! Entry points: [`matching_rules`] lists the rules (with Kyverno's names, e.g.
//! `autogen-check-images`) that apply to a request; [`rule_matches`] answers for one policy
//! rule; [`applies_to_kind`] tells whether a rule can apply to a kind at all. The images to
//! check are [`AdmissionRequest::images`].
//!
//! As in Kyverno's engine, a filter without `operations` matches every operation. Kyverno's
//! webhook registers verifyImages rules for CREATE and UPDATE only (unless `operations` says
//! otherwise), and images come from the new object, so a DELETE has nothing to verify.
//! Not mirrored here: Kyverno's installation-wide `resourceFilters` and excluded
//! users/groups (its ConfigMap), and user-info filters (refused when a policy loads).

pub mod autogen;
pub mod kinds;
pub mod request;
pub mod selector;
mod wire;

use std::collections::BTreeMap;

use serde_json::Value;

pub use autogen::{effective_rules, EffectiveRule, AUTOGEN_ANNOTATION};
pub use kinds::{check_kind, KindSelector};
pub use request::{AdmissionRequest, GroupVersionKind, GroupVersionResource, UserInfo};
pub use selector::{annotations_match, selector_matches};

use crate::{Operation, Policy, ResourceDescription, Rule};

/// The rules of `policy` that apply to `request`, in Kyverno's order, generated
/// Pod-controller rules included. `namespace_labels` are the labels of the request's
/// namespace (ignored for cluster-scoped requests and for Namespaces themselves, as Kyverno
/// ignores them).
pub fn matching_rules<'p>(
    policy: &'p Policy,
    request: &AdmissionRequest,
    namespace_labels: &BTreeMap<String, String>,
) -> Vec<EffectiveRule<'p>> {
    let Some(target) = Target::new(request, namespace_labels) else {
        return Vec::new();
    };
    effective_rules(policy)
        .into_iter()
        .filter(|r| target.rule_matches(policy, r))
        .collect()
}

/// Whether `rule` of `policy`, or a rule Kyverno generates from it for Pod controllers,
/// applies to `request`.
pub fn rule_matches(
    policy: &Policy,
    rule: &Rule,
    request: &AdmissionRequest,
    namespace_labels: &BTreeMap<String, String>,
) -> bool {
    let Some(target) = Target::new(request, namespace_labels) else {
        return false;
    };
    effective_rules(policy)
        .iter()
        .any(|r| r.rule.name == rule.name && target.rule_matches(policy, r))
}

/// Whether `rule` of `policy` (or one generated from it) can apply to objects of kind `gvk`,
/// whatever their names, labels or namespace: its `match` names the kind in some `any`
/// filter, or in every `all` filter.
pub fn applies_to_kind(policy: &Policy, rule: &Rule, gvk: &GroupVersionKind) -> bool {
    let names_kind = |d: &ResourceDescription| d.kinds.is_empty() || check_kind(&d.kinds, gvk, "");
    effective_rules(policy).iter().any(|r| {
        let m = &r.match_resources;
        r.rule.name == rule.name
            && if m.any.is_empty() {
                !m.all.is_empty() && m.all.iter().all(names_kind)
            } else {
                m.any.iter().any(names_kind)
            }
    })
}

/// What Kyverno reads of a request, computed once for all rules.
struct Target<'a> {
    gvk: GroupVersionKind,
    subresource: &'a str,
    operation: Operation,
    /// `kind` of the object (Kyverno's `resource.GetKind()`).
    object_kind: &'a str,
    name: &'a str,
    namespace: &'a str,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    namespace_labels: &'a BTreeMap<String, String>,
}

static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

impl<'a> Target<'a> {
    /// `None` when there is no object to match (Kyverno: "resource is empty").
    fn new(
        request: &'a AdmissionRequest,
        namespace_labels: &'a BTreeMap<String, String>,
    ) -> Option<Self> {
        let object = request.resource()?;
        let (gvk, subresource) = request.resource_kind();
        let meta = object.get("metadata");
        let meta_str = |key: &str| meta.and_then(|m| m.get(key)).and_then(Value::as_str);
        let object_kind = object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // On CREATE with generateName the name is not chosen yet; Kyverno matches the prefix.
        let name = match meta_str("name") {
            Some(n) if !n.is_empty() => n,
            _ => meta_str("generateName").unwrap_or_default(),
        };
        // The API server sets metadata.namespace of namespaced objects before admission;
        // a hand-made request may omit it. Namespaces themselves have none (Kyverno matches
        // `namespaces` against their name).
        let is_namespace = object_kind == "Namespace" || request.kind.kind == "Namespace";
        let namespace = match meta_str("namespace") {
            Some(ns) if !ns.is_empty() => ns,
            _ if is_namespace => "",
            _ => request.namespace.as_str(),
        };
        // Kyverno fetches namespace labels only for namespaced, non-Namespace requests.
        let namespace_labels = if request.kind.kind == "Namespace" || request.namespace.is_empty() {
            &NO_LABELS
        } else {
            namespace_labels
        };
        Some(Target {
            gvk,
            subresource,
            operation: request.operation,
            object_kind,
            name,
            namespace,
            labels: string_map(meta.and_then(|m| m.get("labels"))),
            annotations: string_map(meta.and_then(|m| m.get("annotations"))),
            namespace_labels,
        })
    }

    fn rule_matches(&self, policy: &Policy, rule: &EffectiveRule<'_>) -> bool {
        // A namespaced Policy applies only to resources of its own namespace.
        if policy
            .namespace
            .as_deref()
            .is_some_and(|ns| ns != self.namespace)
        {
            return false;
        }
        let m = &rule.match_resources;
        let matched = if !m.any.is_empty() {
            m.any.iter().any(|d| self.filter_matches(d))
        } else {
            !m.all.is_empty() && m.all.iter().all(|d| self.filter_matches(d))
        };
        // Exclude `any`: one matching filter excludes; exclude `all`: every filter must match.
        let excluded = rule.exclude.as_ref().is_some_and(|e| {
            if !e.any.is_empty() {
                e.any.iter().any(|d| self.filter_matches(d))
            } else {
                !e.all.is_empty() && e.all.iter().all(|d| self.filter_matches(d))
            }
        });
        matched && !excluded
    }

    /// `doesResourceMatchConditionBlock` without user info (which Signet refuses at load).
    /// Fields are ANDed; entries within a list field are ORed.
    fn filter_matches(&self, d: &ResourceDescription) -> bool {
        // Kyverno: an empty filter is an error, never a match.
        if d == &ResourceDescription::default() {
            return false;
        }
        if !d.operations.is_empty() && !d.operations.contains(&self.operation) {
            return false;
        }
        if !d.kinds.is_empty() && !check_kind(&d.kinds, &self.gvk, self.subresource) {
            return false;
        }
        if !d.names.is_empty()
            && !d
                .names
                .iter()
                .any(|n| crate::wildcard::matches(n, self.name))
        {
            return false;
        }
        if !d.namespaces.is_empty() {
            // For a Namespace, `namespaces` is matched against its own name.
            let ns = if self.object_kind == "Namespace" {
                self.name
            } else {
                self.namespace
            };
            if !d.namespaces.iter().any(|p| crate::wildcard::matches(p, ns)) {
                return false;
            }
        }
        if !annotations_match(&d.annotations, &self.annotations) {
            return false;
        }
        if d.selector
            .as_ref()
            .is_some_and(|s| !selector_matches(s, &self.labels))
        {
            return false;
        }
        match &d.namespace_selector {
            // A Namespace never matches a filter with a namespaceSelector.
            Some(_) if self.object_kind == "Namespace" => false,
            // Kyverno skips the check for an object without `kind`, unless kinds has "*".
            Some(s) if !self.object_kind.is_empty() || d.kinds.iter().any(|k| k == "*") => {
                selector_matches(s, self.namespace_labels)
            }
            _ => true,
        }
    }
}

/// A `map[string]string` field; Kyverno's `GetLabels`/`GetAnnotations` give an empty map
/// when the field is not one.
fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    let Some(obj) = v.and_then(Value::as_object) else {
        return BTreeMap::new();
    };
    obj.iter()
        .map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
        .collect::<Option<_>>()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
