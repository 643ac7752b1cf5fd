//! `Review` and `VerifyImage`: proto in, domain call, proto out.

use std::collections::{BTreeMap, HashMap};

use signet_policy::FailurePolicy;
use signet_proto::v1 as pb;
use signet_proto::v1::verifier_server::Verifier;
use signet_verify::verdict::Verdict;
use signet_verify::Decision;
use tonic::{Request, Response, Status};

use super::GrpcVerifier;
use crate::error::ApiError;

/// The namespace a `VerifyImage` without one runs in.
const DEFAULT_NAMESPACE: &str = "default";

#[tonic::async_trait]
impl Verifier for GrpcVerifier {
    async fn review(
        &self,
        request: Request<pb::ReviewRequest>,
    ) -> Result<Response<pb::ReviewResponse>, Status> {
        let caller = self.authenticate(&request).await?;
        let req = request.into_inner();
        let labels = sorted(req.namespace_labels);
        let relay_version = Some(req.relay_version.as_str()).filter(|v| !v.is_empty());
        let outcome = self
            .service
            .review(&caller, &req.admission_request, &labels, relay_version)
            .await?;
        self.metrics.record_decision(&outcome.decision);
        let a = Answer::try_from(outcome.decision)?;
        Ok(Response::new(pb::ReviewResponse {
            allowed: a.allowed,
            message: a.message,
            warnings: a.warnings,
            patch: a.patch,
            verdicts: a.verdicts,
            failure_policy: failure_policy(outcome.failure_policy) as i32,
            timeout_seconds: outcome.timeout_seconds.unwrap_or(0),
        }))
    }

    async fn verify_image(
        &self,
        request: Request<pb::VerifyImageRequest>,
    ) -> Result<Response<pb::VerifyImageResponse>, Status> {
        let caller = self.authenticate(&request).await?;
        let req = request.into_inner();
        if req.image.trim().is_empty() {
            return Err(ApiError::bad_request("image is empty").into());
        }
        let namespace = if req.namespace.is_empty() {
            DEFAULT_NAMESPACE
        } else {
            req.namespace.as_str()
        };
        let labels = sorted(req.namespace_labels);
        let decision = self
            .service
            .verify_image(&caller, &req.image, namespace, &labels, &req.policies)
            .await?;
        self.metrics.record_decision(&decision);
        let a = Answer::try_from(decision)?;
        Ok(Response::new(pb::VerifyImageResponse {
            allowed: a.allowed,
            message: a.message,
            verdicts: a.verdicts,
        }))
    }
}

fn sorted(labels: HashMap<String, String>) -> BTreeMap<String, String> {
    labels.into_iter().collect()
}

/// A decision's fields as the messages carry them.
struct Answer {
    allowed: bool,
    /// Empty when allowed.
    message: String,
    warnings: Vec<String>,
    /// RFC 6902 JSON; empty bytes when nothing changes.
    patch: Vec<u8>,
    verdicts: Vec<pb::Verdict>,
}

impl TryFrom<Decision> for Answer {
    type Error = ApiError;

    fn try_from(d: Decision) -> Result<Self, ApiError> {
        let patch = if d.patch.is_empty() {
            Vec::new()
        } else {
            serde_json::to_vec(&d.patch)
                .map_err(|e| ApiError::Internal(format!("serialising a patch: {e}")))?
        };
        Ok(Answer {
            allowed: d.allowed,
            message: d.message.unwrap_or_default(),
            warnings: d.warnings,
            patch,
            verdicts: d.verdicts.into_iter().map(verdict).collect(),
        })
    }
}

fn verdict(v: Verdict) -> pb::Verdict {
    pb::Verdict {
        image: v.image,
        digest: v.digest.unwrap_or_default(),
        policy: v.policy,
        rule: v.rule,
        result: v.result.as_str().to_owned(),
        message: v.message,
        attestors_satisfied: v.attestors_satisfied,
        duration_micros: u64::try_from(v.duration.as_micros()).unwrap_or(u64::MAX),
    }
}

fn failure_policy(p: Option<FailurePolicy>) -> pb::FailurePolicy {
    match p {
        None => pb::FailurePolicy::Unspecified,
        Some(FailurePolicy::Fail) => pb::FailurePolicy::Fail,
        Some(FailurePolicy::Ignore) => pb::FailurePolicy::Ignore,
    }
}
