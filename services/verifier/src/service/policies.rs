//! Policies: apply (create or replace) a Kyverno document, lint, read, delete.

use std::collections::BTreeMap;

use serde::Serialize;
use signet_policy::{load_policies, Error as PolicyError, Policy, PolicyKind};

use super::selector::{ClusterSelector, CLUSTER_SELECTOR_ANNOTATION};
use super::{ActivePolicy, Service};
use crate::error::ApiError;
use crate::store::{NewPolicy, PolicyRecord};

/// The answer to an apply.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppliedPolicy {
    /// Qualified name (`name`, or `namespace/name` for a namespaced Policy).
    pub name: String,
    /// Version after this apply.
    pub version: i64,
    /// True when the policy did not exist before.
    pub created: bool,
    /// What was accepted but needs attention, each naming the field it is about: a
    /// registry credentials secret the verifier does not hold (the entry naming it decides
    /// `error` until it is stored).
    pub warnings: Vec<String>,
}

/// A stored policy, for listings and reads.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicySummary {
    /// Qualified name.
    pub name: String,
    /// `ClusterPolicy` or `Policy`.
    pub kind: String,
    /// Namespace of a namespaced Policy.
    pub namespace: Option<String>,
    /// Store version.
    pub version: i64,
    /// Rule names.
    pub rules: Vec<String>,
    /// `Enforce` or `Audit`.
    pub validation_failure_action: String,
    /// `Fail` or `Ignore`.
    pub failure_policy: String,
    /// The `signet.dev/cluster-selector` annotation, when present.
    pub cluster_selector: Option<String>,
    /// Last change, Unix milliseconds.
    pub updated_at: i64,
    /// The document exactly as applied (reads of one policy only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

/// Loads one policy document and its cluster selector; every error is one line with its
/// field path.
fn parse_one(text: &str) -> Result<(Policy, ClusterSelector), Vec<String>> {
    let mut policies = match load_policies(text) {
        Ok(p) => p,
        Err(PolicyError::InvalidPolicy(d)) => {
            return Err(d.errors().iter().map(ToString::to_string).collect())
        }
        Err(e) => return Err(vec![e.to_string()]),
    };
    if policies.len() != 1 {
        return Err(vec![format!(
            "expected one policy document, found {}: apply them one at a time",
            policies.len()
        )]);
    }
    let policy = policies.remove(0);
    let selector = match policy.annotations.get(CLUSTER_SELECTOR_ANNOTATION) {
        None => ClusterSelector::default(),
        Some(s) => ClusterSelector::parse(s).map_err(|e| {
            vec![format!(
                "document 1: metadata.annotations.{CLUSTER_SELECTOR_ANNOTATION}: invalid label selector: {e}"
            )]
        })?,
    };
    Ok((policy, selector))
}

pub(crate) fn parse_stored(text: &str) -> Result<(Policy, ClusterSelector), String> {
    parse_one(text).map_err(|e| e.join("; "))
}

fn summary(r: &PolicyRecord, with_document: bool) -> PolicySummary {
    let parsed = parse_one(&r.document).ok();
    let policy = parsed.as_ref().map(|(p, _)| p);
    PolicySummary {
        name: r.name.clone(),
        kind: r.kind.clone(),
        namespace: r.namespace.clone(),
        version: r.version,
        rules: policy
            .map(|p| p.spec.rules.iter().map(|r| r.name.clone()).collect())
            .unwrap_or_default(),
        validation_failure_action: policy
            .map(|p| format!("{:?}", p.spec.validation_failure_action))
            .unwrap_or_default(),
        failure_policy: policy
            .map(|p| format!("{:?}", p.spec.failure_policy))
            .unwrap_or_default(),
        cluster_selector: policy
            .and_then(|p| p.annotations.get(CLUSTER_SELECTOR_ANNOTATION).cloned()),
        updated_at: r.updated_at,
        document: with_document.then(|| r.document.clone()),
    }
}

impl Service {
    /// Checks a document without storing it; returns the policy's qualified name.
    pub fn lint_policy(&self, text: &str) -> Result<String, ApiError> {
        let (policy, _) = parse_one(text).map_err(|details| ApiError::BadRequest {
            message: format!("invalid policy: {} error(s)", details.len()),
            details,
        })?;
        Ok(policy.qualified_name())
    }

    /// Creates or replaces a policy from a Kyverno YAML or JSON document.
    pub async fn apply_policy(&self, text: &str) -> Result<AppliedPolicy, ApiError> {
        let (policy, _) = parse_one(text).map_err(|details| ApiError::BadRequest {
            message: format!("invalid policy: {} error(s)", details.len()),
            details,
        })?;
        self.check_trust_root(&policy).await?;
        let parsed = serde_json::to_string(&policy)
            .map_err(|e| ApiError::Internal(format!("serialising a policy: {e}")))?;
        let new = NewPolicy {
            name: policy.qualified_name(),
            kind: match policy.kind {
                PolicyKind::ClusterPolicy => "ClusterPolicy".into(),
                PolicyKind::Policy => "Policy".into(),
            },
            namespace: policy.namespace.clone(),
            document: text.to_owned(),
            parsed,
        };
        let (record, created) = self.store.put_policy(&new).await?;
        // The change notification reloads every replica; this one reloads now so the
        // caller's next request sees the policy.
        self.reload_policies().await?;
        let warnings = missing_secrets(&policy, &self.verifier.registry().named_credentials());
        tracing::info!(policy = %record.name, version = record.version, created, warnings = warnings.len(), "policy applied");
        for warning in &warnings {
            tracing::warn!(policy = %record.name, "{warning}");
        }
        Ok(AppliedPolicy {
            name: record.name,
            version: record.version,
            created,
            warnings,
        })
    }

    /// One policy with its document.
    pub async fn get_policy(&self, name: &str) -> Result<PolicySummary, ApiError> {
        let r = self
            .store
            .get_policy(name)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("policy {name}")))?;
        Ok(summary(&r, true))
    }

    /// Every policy.
    pub async fn list_policies(&self) -> Result<Vec<PolicySummary>, ApiError> {
        Ok(self
            .store
            .list_policies()
            .await?
            .iter()
            .map(|r| summary(r, false))
            .collect())
    }

    /// Deletes a policy.
    pub async fn delete_policy(&self, name: &str) -> Result<(), ApiError> {
        if !self.store.delete_policy(name).await? {
            return Err(ApiError::NotFound(format!("policy {name}")));
        }
        self.reload_policies().await?;
        tracing::info!(policy = %name, "policy deleted");
        Ok(())
    }

    /// The policies of `active` that apply to a cluster with these labels.
    pub fn policies_for<'a>(
        active: &'a [ActivePolicy],
        labels: &BTreeMap<String, String>,
    ) -> Vec<&'a ActivePolicy> {
        active
            .iter()
            .filter(|p| p.selector.matches(labels))
            .collect()
    }
}

/// A warning for each `imageRegistryCredentials.secrets` name of `policy` that is not in
/// `held`. Kyverno reads an image anonymously when a secret it names is missing; Signet
/// decides `error` instead, so as not to enforce a rule without the credentials it names.
/// The apply is still accepted: the set may be stored after the policy.
fn missing_secrets(policy: &Policy, held: &[String]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (r, rule) in policy.spec.rules.iter().enumerate() {
        for (e, entry) in rule.verify_images.iter().enumerate() {
            let Some(credentials) = &entry.image_registry_credentials else {
                continue;
            };
            for (s, name) in credentials.secrets.iter().enumerate() {
                if !held.contains(name) {
                    warnings.push(format!(
                        "spec.rules[{r}].verifyImages[{e}].imageRegistryCredentials.secrets[{s}]: \
                         the verifier holds no registry credentials secret {name:?}; until one is \
                         stored (signet registry-credentials create --secret {name} ...), \
                         images this entry verifies decide error"
                    ));
                }
            }
        }
    }
    warnings
}
