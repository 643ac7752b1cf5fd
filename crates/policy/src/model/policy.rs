use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Serialize;

use super::{ImageVerification, MatchResources};

/// `ClusterPolicy` applies cluster-wide; `Policy` only inside its own namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PolicyKind {
    /// `kind: ClusterPolicy`.
    ClusterPolicy,
    /// `kind: Policy` (namespaced).
    Policy,
}

/// A loaded `kyverno.io/v1` policy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// Cluster-wide or namespaced.
    pub kind: PolicyKind,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, always set for a namespaced `Policy` ("default" when omitted,
    /// as `kubectl apply` would place it), never for a `ClusterPolicy`.
    pub namespace: Option<String>,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `metadata.annotations` (Signet reads `signet.dev/cluster-selector`).
    pub annotations: BTreeMap<String, String>,
    /// `spec`.
    pub spec: Spec,
    /// The rules Kyverno generates for Pod controllers, worked out on first use: every
    /// admission needs them, and they depend on the policy alone.
    #[serde(skip)]
    pub(crate) autogen: Memo<Option<Vec<crate::matching::autogen::Generated>>>,
}

impl Policy {
    /// A stable display name: `name` or `namespace/name`.
    pub fn qualified_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A value derived from its owner, computed on first use and kept with it. A clone
/// starts empty, so a clone that is then modified works its value out again. Build one
/// with `Memo::default()`.
#[derive(Default)]
pub struct Memo<T>(OnceLock<T>);

impl<T> Memo<T> {
    /// The value, computed by `f` on the first call.
    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(f)
    }

    /// The value, if computed.
    pub fn get(&self) -> Option<&T> {
        self.0.get()
    }
}

impl<T> Clone for Memo<T> {
    fn clone(&self) -> Self {
        Memo(OnceLock::new())
    }
}

impl<T> std::fmt::Debug for Memo<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Memo")
    }
}

/// What a failed verification does to the admission request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FailureAction {
    /// Deny the request.
    Enforce,
    /// Admit it and report the failure.
    Audit,
}

/// What happens when the verifier cannot answer (Kyverno's webhook `failurePolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FailurePolicy {
    /// Deny when no decision can be made.
    Fail,
    /// Admit, with a warning, when no decision can be made.
    Ignore,
}

/// `spec` of a policy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    /// `validationFailureAction`; Audit when absent, as in Kyverno.
    pub validation_failure_action: FailureAction,
    /// `failurePolicy`; Fail when absent.
    pub failure_policy: FailurePolicy,
    /// `webhookTimeoutSeconds` (1–30); 10 when absent, as in Kyverno.
    pub webhook_timeout_seconds: u32,
    /// `background`; true when absent.
    pub background: bool,
    /// `rules`, in order.
    pub rules: Vec<Rule>,
}

/// One rule: which requests it matches, and the image checks it makes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// `name`, unique within the policy.
    pub name: String,
    /// `match`.
    #[serde(rename = "match")]
    pub match_resources: MatchResources,
    /// `exclude`, when present.
    pub exclude: Option<MatchResources>,
    /// `verifyImages`.
    pub verify_images: Vec<ImageVerification>,
}

impl Rule {
    /// The failure action of one `verifyImages` entry: its own `failureAction` when set,
    /// otherwise the policy's `validationFailureAction`.
    pub fn failure_action(&self, spec: &Spec, entry: &ImageVerification) -> FailureAction {
        entry
            .failure_action
            .unwrap_or(spec.validation_failure_action)
    }
}
