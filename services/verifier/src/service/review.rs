//! Admission reviews and pipeline checks: the calling cluster's policies, the engine's
//! decision, and its verdicts queued for the reports before the answer leaves.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use signet_policy::matching::AdmissionRequest;
use signet_policy::FailurePolicy;
use signet_verify::{pod_request, Decision};

use super::Service;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::store::{now_ms, DecisionRecord};

/// A decision and what the relay needs to act when the verifier is away.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewOutcome {
    /// The engine's decision.
    pub decision: Decision,
    /// The strictest failurePolicy of the policies that apply to the cluster.
    pub failure_policy: Option<FailurePolicy>,
    /// The shortest webhookTimeoutSeconds of those policies.
    pub timeout_seconds: Option<u32>,
}

/// Where a decision applied, for its records.
struct Resource<'a> {
    cluster: &'a str,
    namespace: &'a str,
    kind: &'a str,
    name: &'a str,
    operation: &'a str,
}

/// The operation recorded for a pipeline check (`POST /v1/verify`, gRPC VerifyImage): it
/// judged an image, not a cluster resource.
pub(crate) const PIPELINE_OPERATION: &str = "VERIFY";

/// A decision's id: the time in milliseconds (12 hex digits) then 8 random bytes. Ids that
/// grow with time are appended at the end of the primary-key index instead of scattered
/// through it, which keeps each commit's page writes few. The random part only keeps ids
/// of one millisecond apart (it guards nothing), so the thread's generator serves: every
/// verdict of every Review draws one.
fn decision_id(time_ms: i64) -> String {
    format!("{:012x}{:016x}", time_ms.max(0), rand::random::<u64>())
}

impl Service {
    /// Queues every verdict of a decision for the store (see [`crate::store::DecisionJournal`]:
    /// committed behind the answer, never dropped to make room).
    async fn record(
        &self,
        at: &Resource<'_>,
        decision: &Decision,
        versions: &BTreeMap<String, i64>,
    ) -> Result<(), ApiError> {
        let time = now_ms();
        let records = decision
            .verdicts
            .iter()
            .map(|v| DecisionRecord {
                id: decision_id(time),
                time,
                cluster: at.cluster.to_owned(),
                namespace: at.namespace.to_owned(),
                kind: at.kind.to_owned(),
                name: at.name.to_owned(),
                operation: at.operation.to_owned(),
                image: v.image.clone(),
                digest: v.digest.clone(),
                policy: v.policy.clone(),
                policy_version: versions.get(&v.policy).copied().unwrap_or(0),
                rule: v.rule.clone(),
                result: v.result.as_str().to_owned(),
                action: if v.audit { "audit" } else { "enforce" }.to_owned(),
                message: v.message.clone(),
                dry_run: false,
            })
            .collect();
        self.journal.append(records).await?;
        Ok(())
    }

    /// The name and labels of the calling cluster; an admin acts as no cluster (only
    /// policies without a cluster selector apply).
    async fn cluster_of(
        &self,
        caller: &Principal,
    ) -> Result<(String, Arc<BTreeMap<String, String>>), ApiError> {
        match &caller.cluster {
            Some(name) => {
                let labels = self
                    .callers
                    .labels(&self.store, name)
                    .await?
                    .ok_or_else(|| {
                        ApiError::Unauthenticated(format!("cluster {name} no longer exists"))
                    })?;
                Ok((name.clone(), labels))
            }
            None => Ok((String::new(), Arc::default())),
        }
    }

    /// Decides an admission request (the `request` of an AdmissionReview, JSON) for the
    /// calling cluster. Unless it is a dry run, every verdict is queued for the reports.
    pub async fn review(
        &self,
        caller: &Principal,
        request_json: &[u8],
        namespace_labels: &BTreeMap<String, String>,
        relay_version: Option<&str>,
    ) -> Result<ReviewOutcome, ApiError> {
        caller.require_cluster()?;
        let request = AdmissionRequest::from_slice(request_json)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let (cluster, labels) = self.cluster_of(caller).await?;
        let active = self.active_policies();
        let applicable = Service::policies_for(&active, &labels);
        let policies: Vec<_> = applicable.iter().map(|a| &a.policy).collect();
        let decision = self
            .verifier
            .review(&policies, &request, namespace_labels)
            .await?;
        if !request.dry_run {
            let versions = applicable
                .iter()
                .map(|a| (a.policy.qualified_name(), a.version))
                .collect();
            let at = Resource {
                cluster: &cluster,
                namespace: &request.namespace,
                kind: &request.kind.kind,
                name: &request.name,
                operation: request.operation.as_str(),
            };
            self.record(&at, &decision, &versions).await?;
        }
        if caller.cluster.is_some() {
            self.callers.seen(&self.store, &cluster, relay_version);
        }
        let failure_policy = applicable
            .iter()
            .map(|a| a.policy.spec.failure_policy)
            .reduce(|a, b| {
                if a == FailurePolicy::Fail || b == FailurePolicy::Fail {
                    FailurePolicy::Fail
                } else {
                    FailurePolicy::Ignore
                }
            });
        let timeout_seconds = applicable
            .iter()
            .map(|a| a.policy.spec.webhook_timeout_seconds)
            .min();
        // Every decision is in the reports; the log names denials, which someone may be
        // waiting on, and leaves admissions (thousands a second in a busy fleet) to debug.
        if decision.allowed {
            tracing::debug!(
                cluster = %cluster,
                namespace = %request.namespace,
                kind = %request.kind.kind,
                name = %request.name,
                verdicts = decision.verdicts.len(),
                "review allowed"
            );
        } else {
            tracing::info!(
                cluster = %cluster,
                namespace = %request.namespace,
                kind = %request.kind.kind,
                name = %request.name,
                reason = decision.message.as_deref().unwrap_or(""),
                "review denied"
            );
        }
        Ok(ReviewOutcome {
            decision,
            failure_policy,
            timeout_seconds,
        })
    }

    /// Judges one image as if a Pod of the caller's cluster ran it in `namespace`
    /// (`POST /v1/verify`, gRPC VerifyImage); `only` restricts to named policies.
    pub async fn verify_image(
        &self,
        caller: &Principal,
        image: &str,
        namespace: &str,
        namespace_labels: &BTreeMap<String, String>,
        only: &[String],
    ) -> Result<Decision, ApiError> {
        caller.require_cluster()?;
        let (cluster, labels) = self.cluster_of(caller).await?;
        let active = self.active_policies();
        let applicable: Vec<_> = Service::policies_for(&active, &labels)
            .into_iter()
            .filter(|a| only.is_empty() || only.contains(&a.policy.qualified_name()))
            .collect();
        let policies: Vec<_> = applicable.iter().map(|a| &a.policy).collect();
        let request = pod_request(namespace, &[image.to_owned()]);
        let decision = self
            .verifier
            .review(&policies, &request, namespace_labels)
            .await?;
        // Pipeline checks are reported too, as operation VERIFY, so the fleet's reports
        // show what CI asked as well as what clusters admitted.
        let versions = applicable
            .iter()
            .map(|a| (a.policy.qualified_name(), a.version))
            .collect();
        let at = Resource {
            cluster: &cluster,
            namespace,
            kind: "Pod",
            name: "",
            operation: PIPELINE_OPERATION,
        };
        self.record(&at, &decision, &versions).await?;
        Ok(decision)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn decision_ids_sort_by_time_and_differ() {
        let a = super::decision_id(1_700_000_000_000);
        let b = super::decision_id(1_700_000_000_001);
        let c = super::decision_id(1_700_000_000_001);
        assert_eq!(a.len(), 28);
        assert!(a < b, "{a} {b}");
        assert_ne!(b, c);
        assert!(a.starts_with("018bcfe56800"), "{a}");
    }
}
