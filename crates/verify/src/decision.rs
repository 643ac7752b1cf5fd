//! An admission decision: every matching rule's `verifyImages` entries over every image of
//! the request, then allow or deny, warnings for audits, and the digest patch.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use futures_util::future::join_all;
use serde::Serialize;
use signet_policy::extract::extract_images;
use signet_policy::image::ImageRef;
use signet_policy::matching::{rule_matches, AdmissionRequest};
use signet_policy::{FailureAction, ImageVerification, Operation, Policy};

use crate::engine::{ArtifactCache, EntryVerdict, Verifier};
use crate::verdict::{Verdict, VerdictResult};
use crate::Result;

/// One JSON Patch operation (RFC 6902) pinning an image to its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatchOperation {
    /// Always `replace`.
    pub op: &'static str,
    /// JSON Pointer of the container's `image` field.
    pub path: String,
    /// The pinned reference.
    pub value: String,
}

/// The answer to an admission request.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// Whether the request is admitted.
    pub allowed: bool,
    /// Why it is denied, naming policy, rule, image and reason.
    pub message: Option<String>,
    /// Audit failures and other notes for the user.
    pub warnings: Vec<String>,
    /// Digest pins for `mutateDigest` entries (empty when nothing changes).
    pub patch: Vec<PatchOperation>,
    /// Every verdict, in policy, rule and image order.
    pub verdicts: Vec<Verdict>,
}

/// One check to run: an entry of a rule on one distinct image.
struct Job<'a> {
    policy: &'a Policy,
    rule: &'a str,
    entry: &'a ImageVerification,
    action: FailureAction,
    image: String,
    parsed: std::result::Result<ImageRef, String>,
}

impl Verifier {
    /// Decides an admission request under `policies`; `namespace_labels` are the labels of
    /// the request's namespace. Distinct images are verified concurrently, each once per
    /// entry however many containers use it, and their signatures are fetched once.
    /// `policies` may be owned or borrowed (`&[Policy]` or `&[&Policy]`), so a caller
    /// holding shared policies need not copy them per request.
    pub async fn review<P: Borrow<Policy>>(
        &self,
        policies: &[P],
        request: &AdmissionRequest,
        namespace_labels: &BTreeMap<String, String>,
    ) -> Result<Decision> {
        let mut decision = Decision {
            allowed: true,
            message: None,
            warnings: Vec::new(),
            patch: Vec::new(),
            verdicts: Vec::new(),
        };
        if matches!(request.operation, Operation::Delete | Operation::Connect) {
            return Ok(decision);
        }
        let Some(object) = request.object.as_ref() else {
            return Ok(decision);
        };
        let containers = extract_images(&request.kind.kind, object)?;
        // Pointers of every container using an image, to patch them all.
        let mut pointers: HashMap<&str, Vec<&str>> = HashMap::new();
        for c in &containers {
            pointers
                .entry(c.image.as_str())
                .or_default()
                .push(c.pointer.as_str());
        }
        let mut jobs = Vec::new();
        for policy in policies.iter().map(Borrow::borrow) {
            for rule in &policy.spec.rules {
                if !rule_matches(policy, rule, request, namespace_labels) {
                    continue;
                }
                for entry in &rule.verify_images {
                    let action = rule.failure_action(&policy.spec, entry);
                    let mut seen = Vec::new();
                    for c in &containers {
                        if seen.contains(&c.image.as_str()) {
                            continue;
                        }
                        seen.push(c.image.as_str());
                        let parsed = ImageRef::parse(&c.image).map_err(|e| e.to_string());
                        if parsed.as_ref().is_ok_and(|i| !entry.matches_image(i)) {
                            continue;
                        }
                        jobs.push(Job {
                            policy,
                            rule: &rule.name,
                            entry,
                            action,
                            image: c.image.clone(),
                            parsed,
                        });
                    }
                }
            }
        }
        let cache = ArtifactCache::default();
        let results = join_all(jobs.iter().map(|job| self.run(&cache, job))).await;
        let mut denials = Vec::new();
        for (job, (verdict, pinned)) in jobs.iter().zip(results) {
            let failed = matches!(verdict.result, VerdictResult::Fail | VerdictResult::Error);
            let line = || {
                format!(
                    "policy {}, rule {}: {}",
                    verdict.policy, verdict.rule, verdict.message
                )
            };
            match (failed, job.action) {
                (true, FailureAction::Enforce) => denials.push(line()),
                (true, FailureAction::Audit) => decision.warnings.push(line()),
                (false, _) => {
                    if let Some(value) = pinned {
                        for path in pointers.get(job.image.as_str()).into_iter().flatten() {
                            let op = PatchOperation {
                                op: "replace",
                                path: (*path).to_owned(),
                                value: value.clone(),
                            };
                            if !decision.patch.contains(&op) {
                                decision.patch.push(op);
                            }
                        }
                    }
                }
            }
            decision.verdicts.push(verdict);
        }
        if !denials.is_empty() {
            decision.allowed = false;
            decision.message = Some(denials.join("\n"));
            // A denied request is not mutated.
            decision.patch.clear();
        }
        Ok(decision)
    }

    async fn run(&self, cache: &ArtifactCache, job: &Job<'_>) -> (Verdict, Option<String>) {
        let started = Instant::now();
        let outcome = match &job.parsed {
            Ok(image) => self.verify_entry(cache, image, job.entry).await,
            Err(e) => EntryVerdict {
                result: VerdictResult::Fail,
                message: format!("invalid image reference: {e}"),
                digest: None,
                attestors_satisfied: Vec::new(),
                pinned: None,
            },
        };
        tracing::debug!(
            policy = %job.policy.qualified_name(),
            rule = job.rule,
            image = %job.image,
            image.digest = outcome.digest.as_deref().unwrap_or(""),
            result = outcome.result.as_str(),
            "verdict"
        );
        let verdict = Verdict {
            image: job.image.clone(),
            digest: outcome.digest,
            policy: job.policy.qualified_name(),
            rule: job.rule.to_owned(),
            result: outcome.result,
            message: outcome.message,
            audit: job.action == FailureAction::Audit,
            attestors_satisfied: outcome.attestors_satisfied,
            duration: started.elapsed(),
        };
        (verdict, outcome.pinned)
    }
}

/// The name of the Pod images are judged in by [`pod_request`].
const POD_NAME: &str = "signet-verify";

/// An admission request for a Pod in `namespace` running `images`, one container each:
/// how `signet verify --policy` and `POST /v1/verify` judge images "as if they ran"
/// ([`AdmissionRequest::pod_create`]).
pub fn pod_request(namespace: &str, images: &[String]) -> AdmissionRequest {
    AdmissionRequest::pod_create(namespace, POD_NAME, images)
}
