//! `spec.rules[].verifyImages[]` and its `attestations`.

use super::attestors::read_attestor_sets;
use super::spec::parse_failure_action;
use crate::conditions::{check_template, AnyAllConditions, Condition, Operator};
use crate::decode::{Errors, Node, Path, Unsupported};
use crate::{Attestation, FailureAction, ImageVerification, RegistryCredentials, VerificationType};

const ENTRY_UNSUPPORTED: Unsupported<'static> = &[
    ("image", "deprecated in Kyverno: use imageReferences"),
    (
        "key",
        "deprecated in Kyverno: use attestors[].entries[].keys",
    ),
    (
        "roots",
        "deprecated in Kyverno: use attestors[].entries[].keyless.roots",
    ),
    (
        "subject",
        "deprecated in Kyverno: use attestors[].entries[].keyless.subject",
    ),
    (
        "issuer",
        "deprecated in Kyverno: use attestors[].entries[].keyless.issuer",
    ),
    (
        "additionalExtensions",
        "deprecated in Kyverno: use attestors[].entries[].keyless.additionalExtensions",
    ),
    (
        "annotations",
        "deprecated in Kyverno: use attestors[].entries[].annotations",
    ),
    ("cosignOCI11", ""),
    ("validate", "deny conditions over image data"),
];

pub(super) fn read_image_verification(
    node: Node<'_, '_>,
    errs: &mut Errors,
    policy_action: FailureAction,
) -> Option<ImageVerification> {
    let mut obj = node.object(errs)?;
    let path = obj.path.clone();
    let failure_action = obj.string("failureAction", errs).and_then(|s| {
        let parsed = parse_failure_action(&s);
        if parsed.is_none() {
            errs.push(
                &path.field("failureAction"),
                format!("{s:?} is not valid: expected Enforce or Audit"),
            );
        }
        parsed
    });
    let verification_type = match obj.string("type", errs).as_deref() {
        None | Some("Cosign") => VerificationType::Cosign,
        Some("SigstoreBundle") => VerificationType::SigstoreBundle,
        Some(other) => {
            errs.push(&path.field("type"), format!("{other:?} is not supported"));
            VerificationType::Cosign
        }
    };
    let image_references = read_patterns(&mut obj, "imageReferences", errs);
    if image_references.is_empty() && !obj.has("image") {
        errs.push(
            &path.field("imageReferences"),
            "at least one image reference is required",
        );
    }
    let skip_image_references = read_patterns(&mut obj, "skipImageReferences", errs);
    let attestors = obj
        .with("attestors", errs, read_attestor_sets)
        .unwrap_or_default();
    let attestations = obj
        .with("attestations", errs, |n, errs| {
            n.list(errs, read_attestation)
        })
        .unwrap_or_default();
    let repository = obj.string("repository", errs);
    if let Some(r) = &repository {
        check_repository(r, &path.field("repository"), errs);
    }
    let action = failure_action.unwrap_or(policy_action);
    let mutate_digest = match obj.bool("mutateDigest", errs) {
        Some(true) if action == FailureAction::Audit => {
            errs.push(
                &path.field("mutateDigest"),
                "must be false when the failure action is Audit (an audit cannot mutate), as Kyverno requires",
            );
            false
        }
        Some(v) => v,
        None => action == FailureAction::Enforce,
    };
    let verify_digest = obj.bool("verifyDigest", errs).unwrap_or(true);
    let required = obj.bool("required", errs).unwrap_or(true);
    let use_cache = obj.bool("useCache", errs).unwrap_or(true);
    let image_registry_credentials = obj.with("imageRegistryCredentials", errs, read_credentials);
    obj.finish(errs, ENTRY_UNSUPPORTED);
    let entry = ImageVerification {
        failure_action,
        verification_type,
        image_references,
        skip_image_references,
        attestors,
        attestations,
        repository,
        mutate_digest,
        verify_digest,
        required,
        use_cache,
        image_registry_credentials,
        trust_root: None,
        written_digest: Default::default(),
    };
    match entry.verification_type {
        VerificationType::SigstoreBundle => super::bundle_rules::check(&entry, &path, errs),
        VerificationType::Cosign => super::cosign_rules::check(&entry, &path, errs),
    }
    Some(entry)
}

/// Image patterns: Kyverno wildcards (`*`, `?`) over normalised references.
fn read_patterns(obj: &mut crate::decode::Obj<'_>, key: &str, errs: &mut Errors) -> Vec<String> {
    let path = obj.path.field(key);
    let patterns = obj.string_list(key, errs).unwrap_or_default();
    for (i, p) in patterns.iter().enumerate() {
        let p_path = path.index(i);
        if p.is_empty() {
            errs.push(&p_path, "must not be empty");
        } else if p.chars().any(|c| c.is_whitespace() || c.is_control()) {
            errs.push(
                &p_path,
                format!("{p:?} is not an image pattern: it contains white space"),
            );
        } else {
            super::no_variables(p, &p_path, errs);
        }
    }
    patterns
}

/// A repository for signatures: a reference without tag or digest.
pub(super) fn check_repository(r: &str, path: &Path, errs: &mut Errors) {
    if !super::no_variables(r, path, errs) {
        return;
    }
    let tagless = !r.contains('@') && !r.rsplit('/').next().unwrap_or("").contains(':');
    if r.is_empty() || !tagless || crate::image::ImageRef::parse(&format!("{r}:x")).is_err() {
        errs.push(
            path,
            format!("{r:?} is not a repository (registry/path, no tag or digest)"),
        );
    }
}

fn read_credentials(node: Node<'_, '_>, errs: &mut Errors) -> Option<RegistryCredentials> {
    let mut obj = node.object(errs)?;
    let allow_insecure_registry = obj.bool("allowInsecureRegistry", errs).unwrap_or(false);
    let path = obj.path.field("secrets");
    let secrets = obj.string_list("secrets", errs).unwrap_or_default();
    for (i, name) in secrets.iter().enumerate() {
        check_secret_name(name, &path.index(i), errs);
    }
    obj.finish(
        errs,
        &[(
            "providers",
            "cloud credential helpers; store registry credentials in Signet",
        )],
    );
    Some(RegistryCredentials {
        allow_insecure_registry,
        secrets,
    })
}

/// Whether `name` can be an `imageRegistryCredentials.secrets` item: a Kubernetes Secret's
/// name (an RFC 1123 subdomain), or `namespace/name` as Kyverno 1.18 reads it in a
/// ClusterPolicy. Signet names its registry-credential sets by exactly this string.
pub fn is_secret_reference(name: &str) -> bool {
    match name.split_once('/') {
        Some((namespace, secret)) => {
            namespace.len() <= 63
                && !namespace.contains('.')
                && super::is_dns_subdomain(namespace)
                && super::is_dns_subdomain(secret)
        }
        None => super::is_dns_subdomain(name),
    }
}

/// A `secrets` item ([`is_secret_reference`]), reported at `path`.
fn check_secret_name(name: &str, path: &Path, errs: &mut Errors) {
    if name.is_empty() {
        errs.push(path, "must not be empty");
        return;
    }
    if !super::no_variables(name, path, errs) {
        return;
    }
    if !is_secret_reference(name) {
        errs.push(
            path,
            format!(
                "{name:?} is not a Secret name (lowercase letters, digits, '-' and '.', at \
                 most 253) or namespace/name"
            ),
        );
    }
}

fn read_attestation(node: Node<'_, '_>, errs: &mut Errors) -> Option<Attestation> {
    let mut obj = node.object(errs)?;
    let path = obj.path.clone();
    let name = obj.string("name", errs);
    let new = obj.string("type", errs);
    let old = obj.string("predicateType", errs);
    for (key, value) in [("name", &name), ("type", &new), ("predicateType", &old)] {
        if let Some(v) = value {
            super::no_variables(v, &path.field(key), errs);
        }
    }
    let predicate_type = match (new, old) {
        (Some(a), Some(b)) if a != b => {
            errs.push(
                &path.field("predicateType"),
                format!("{b:?} contradicts type {a:?}: set only type"),
            );
            None
        }
        (Some(t), _) | (None, Some(t)) if !t.is_empty() => Some(t),
        _ => {
            errs.push(
                &path.field("type"),
                "required (or its older spelling predicateType)",
            );
            None
        }
    };
    let attestors = obj
        .with("attestors", errs, read_attestor_sets)
        .unwrap_or_default();
    let conditions = obj
        .with("conditions", errs, |n, errs| n.list(errs, read_any_all))
        .unwrap_or_default();
    obj.finish(errs, &[]);
    Some(Attestation {
        name,
        predicate_type: predicate_type?,
        attestors,
        conditions,
    })
}

fn read_any_all(node: Node<'_, '_>, errs: &mut Errors) -> Option<AnyAllConditions> {
    let mut obj = node.object(errs)?;
    let any = obj
        .with("any", errs, |n, errs| n.list(errs, read_condition))
        .unwrap_or_default();
    let all = obj
        .with("all", errs, |n, errs| n.list(errs, read_condition))
        .unwrap_or_default();
    if any.is_empty() && all.is_empty() {
        errs.push(&obj.path, "any or all is required");
    }
    obj.finish(errs, &[]);
    Some(AnyAllConditions { any, all })
}

fn read_condition(node: Node<'_, '_>, errs: &mut Errors) -> Option<Condition> {
    let mut obj = node.object(errs)?;
    let path = obj.path.clone();
    let key = obj.raw("key").cloned();
    if key.is_none() {
        errs.push(&path.field("key"), "required");
    }
    let op_path = path.field("operator");
    let operator = match obj.string("operator", errs) {
        Some(s) => Operator::parse(&s).or_else(|| {
            let known: Vec<&str> = Operator::ALL.iter().map(|o| o.as_str()).collect();
            errs.push(
                &op_path,
                format!(
                    "unknown operator {s:?}: expected one of {}",
                    known.join(", ")
                ),
            );
            None
        }),
        None => {
            errs.push(&op_path, "required");
            None
        }
    };
    let value = obj.raw("value").cloned().unwrap_or(serde_json::Value::Null);
    let message = obj.string("message", errs);
    obj.finish(errs, &[]);
    if let Some(k) = &key {
        check_templates(k, &path.field("key"), errs);
    }
    check_templates(&value, &path.field("value"), errs);
    // Messages are substituted over the predicate too, before any condition is evaluated.
    if let Some(m) = &message {
        if let Err(e) = check_template(m) {
            errs.push(&path.field("message"), e);
        }
    }
    Some(Condition {
        key: key?,
        operator: operator?,
        value,
        message,
    })
}

/// Checks every `{{ }}` expression in the strings of a condition operand.
fn check_templates(value: &serde_json::Value, path: &Path, errs: &mut Errors) {
    match value {
        serde_json::Value::String(s) => {
            if let Err(e) = check_template(s) {
                errs.push(path, e);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_templates(item, &path.index(i), errs);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                check_templates(v, &path.field(k), errs);
            }
        }
        _ => {}
    }
}
