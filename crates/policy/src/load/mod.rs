//! Loading policy files: YAML (many documents) or JSON, into validated [`Policy`] values,
//! or every problem with its document and field path.

mod attestors;
mod bundle_rules;
mod cosign_rules;
mod resources;
mod spec;
mod trust_root;
mod verify_images;

pub use trust_root::TRUST_ROOT_ANNOTATION;
pub use verify_images::is_secret_reference;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::decode::{Errors, Node, Path};
use crate::{Diagnostics, Error, FieldError, Policy, PolicyKind, Result};

/// Loads every policy document of a file. A file with no document is an error, and so is
/// any invalid document: a file loads whole or not at all.
pub fn load_policies(text: &str) -> Result<Vec<Policy>> {
    let documents = split_documents(text)?;
    if documents.is_empty() {
        return Err(invalid(1, "", "no policy document found"));
    }
    let mut policies = Vec::with_capacity(documents.len());
    let mut errors = Vec::new();
    for (number, value) in documents {
        match load_policy_value(&value, number) {
            Ok(p) => policies.push(p),
            Err(Error::InvalidPolicy(d)) => errors.extend(d.0),
            Err(other) => return Err(other),
        }
    }
    if errors.is_empty() {
        Ok(policies)
    } else {
        Err(Error::InvalidPolicy(Diagnostics(errors)))
    }
}

/// Loads one policy from an already parsed JSON value; `document` numbers it in errors.
pub fn load_policy_value(value: &Value, document: usize) -> Result<Policy> {
    let mut errs = Errors::new(document);
    let root = Path::default();
    let policy = read_policy(Node { value, path: &root }, &mut errs);
    match policy {
        Some(p) if errs.is_empty() => Ok(p),
        _ => Err(Error::InvalidPolicy(Diagnostics(errs.list))),
    }
}

/// Parses one JSON or YAML document (the input of `signet jp query`, request bodies).
pub fn parse_json_or_yaml(text: &str) -> Result<Value> {
    if text.trim_start().starts_with(['{', '[']) {
        if let Ok(v) = serde_json::from_str(text) {
            return Ok(v);
        }
    }
    serde_yaml_ng::from_str(text).map_err(|e| Error::Syntax(e.to_string()))
}

fn invalid(document: usize, path: &str, message: impl Into<String>) -> Error {
    Error::InvalidPolicy(Diagnostics(vec![FieldError {
        document,
        path: path.to_owned(),
        message: message.into(),
    }]))
}

/// Splits a file into numbered, non-empty documents. JSON is YAML, but a JSON parse gives
/// better messages for JSON input, so text starting with `{` is read as JSON.
fn split_documents(text: &str) -> Result<Vec<(usize, Value)>> {
    if text.trim_start().starts_with('{') {
        let value: Value =
            serde_json::from_str(text).map_err(|e| invalid(1, "", format!("invalid JSON: {e}")))?;
        return Ok(vec![(1, value)]);
    }
    let mut out = Vec::new();
    for (i, doc) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let number = i + 1;
        let value = Value::deserialize(doc)
            .map_err(|e| invalid(number, "", format!("invalid YAML: {e}")))?;
        if !value.is_null() {
            out.push((number, value));
        }
    }
    Ok(out)
}

/// Metadata fields that the API server writes and that say nothing about enforcement.
const SERVER_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "finalizers",
    "ownerReferences",
    "selfLink",
];

fn read_policy(node: Node<'_, '_>, errs: &mut Errors) -> Option<Policy> {
    let mut obj = node.object(errs)?;
    let api_version = obj.string("apiVersion", errs);
    if let Some(v) = &api_version {
        if v != "kyverno.io/v1" {
            errs.push(
                &obj.path.field("apiVersion"),
                format!("{v:?} is not supported: expected \"kyverno.io/v1\""),
            );
        }
    } else if !obj.has("apiVersion") {
        errs.push(&obj.path.field("apiVersion"), "required");
    }
    let kind = match obj.string("kind", errs).as_deref() {
        Some("ClusterPolicy") => Some(PolicyKind::ClusterPolicy),
        Some("Policy") => Some(PolicyKind::Policy),
        Some(other) => {
            errs.push(
                &obj.path.field("kind"),
                format!("{other:?} is not supported: expected \"ClusterPolicy\" or \"Policy\""),
            );
            None
        }
        None => {
            errs.push(&obj.path.field("kind"), "required");
            None
        }
    };
    let metadata = obj.with("metadata", errs, read_metadata);
    if !obj.has("metadata") {
        errs.push(&obj.path.field("metadata"), "required");
    }
    let spec = obj.with("spec", errs, spec::read_spec);
    if !obj.has("spec") {
        errs.push(&obj.path.field("spec"), "required");
    }
    // `status` is what a controller observed; a policy exported with `kubectl get -o yaml`
    // carries it, and it has no bearing on what the policy enforces.
    let _ = obj.raw("status");
    obj.finish(errs, &[]);

    let (kind, metadata, spec) = (kind?, metadata?, spec?);
    let namespace = match kind {
        PolicyKind::ClusterPolicy => {
            if let Some(ns) = metadata.namespace {
                errs.push(
                    &node.path.field("metadata").field("namespace"),
                    format!("a ClusterPolicy is not namespaced (found {ns:?})"),
                );
            }
            None
        }
        PolicyKind::Policy => Some(metadata.namespace.unwrap_or_else(|| "default".into())),
    };
    let mut spec = spec;
    let annotations_path = node.path.field("metadata").field("annotations");
    if let Some(name) = trust_root::read(&metadata.annotations, &annotations_path, errs) {
        for rule in &mut spec.rules {
            for entry in &mut rule.verify_images {
                entry.trust_root = Some(name.clone());
            }
        }
    }
    Some(Policy {
        kind,
        name: metadata.name,
        namespace,
        labels: metadata.labels,
        annotations: metadata.annotations,
        spec,
        autogen: Default::default(),
    })
}

struct Metadata {
    name: String,
    namespace: Option<String>,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

fn read_metadata(node: Node<'_, '_>, errs: &mut Errors) -> Option<Metadata> {
    let mut obj = node.object(errs)?;
    let name = obj.string("name", errs);
    match &name {
        None if !obj.has("name") => errs.push(&obj.path.field("name"), "required"),
        Some(n) if !is_dns_subdomain(n) => errs.push(
            &obj.path.field("name"),
            format!(
                "{n:?} is not a valid name (lowercase letters, digits, '-' and '.', at most 253)"
            ),
        ),
        _ => {}
    }
    let namespace = obj.string("namespace", errs);
    let labels = obj.string_map("labels", errs).unwrap_or_default();
    let annotations = obj.string_map("annotations", errs).unwrap_or_default();
    for field in SERVER_METADATA {
        let _ = obj.raw(field);
    }
    obj.finish(errs, &[("generateName", "a policy needs a fixed name")]);
    Some(Metadata {
        name: name?,
        namespace,
        labels: labels.into_iter().collect(),
        annotations: annotations.into_iter().collect(),
    })
}

/// Kubernetes object names (RFC 1123 subdomains).
pub(super) fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Refuses `{{ }}` variables in a field that Signet reads literally.
pub(super) fn no_variables(s: &str, path: &Path, errs: &mut Errors) -> bool {
    if s.contains("{{") {
        errs.push(
            path,
            "variables are not supported in this field by Signet (it has no request context here)",
        );
        false
    } else {
        true
    }
}

/// [`no_variables`] over the keys and values of a map, each reported at `path[key]`;
/// whether there were none.
pub(super) fn no_variables_in_map(
    pairs: &[(String, String)],
    path: &Path,
    errs: &mut Errors,
) -> bool {
    let mut clean = true;
    for (k, v) in pairs {
        let at = path.key(k);
        clean &= no_variables(k, &at, errs) && no_variables(v, &at, errs);
    }
    clean
}
