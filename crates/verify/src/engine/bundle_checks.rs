//! `type: SigstoreBundle` attestors and attestations, as Kyverno checks them with
//! sigstore-go (`verifyBundleAndFetchAttestations`): each bundle attached to the image is
//! verified for the image's digest (a message signature over it, or a DSSE statement naming
//! it as a subject) by the leaf's key or certificate identity, against the trust root; one
//! verified bundle satisfies an attestor, and for an attestation every verified bundle of
//! its type must satisfy the conditions.
//!
//! Kyverno's options map to [`Requirements`]: a transparency-log entry unless
//! `rekor.ignoreTlog`; a trusted signing time unless both `rekor.ignoreTlog` and
//! `ctlog.ignoreSCT` (then a certificate is checked at the current time). Where Kyverno
//! drops a field for bundles, Signet honours it: `keyless.roots`, `rekor.pubkey` and
//! `ctlog.pubkey` replace the trust root's CAs and log keys, `additionalExtensions` must
//! match, and SCTs are checked (against the trust root's CT logs) unless `ignoreSCT`.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use signet_policy::{Attestation, CtLog, Rekor};

use super::attestors::{CertLeaf, CertPolicy, KeyLeaf, Leaf, LeafCheck};
use super::bundle_trust::{keyless_identity, leaf_trust};
use super::bundles::ImageBundles;
use super::Ctx;
use crate::bundle::{self, Artifact, Requirements, Signer, Verified};
use crate::cosign::Statement;
use crate::trust::TrustRoot;
use crate::Result;

/// Checks leaves against the image's Sigstore bundles: as signatures (any bundle for the
/// image counts), or as the attestations of one `attestations[]` entry.
pub(crate) struct BundleChecks<'p> {
    pub(crate) attestation: Option<&'p Attestation>,
}

/// What a leaf verifies bundles with.
struct Plan {
    signers: Vec<Signer>,
    trust: TrustRoot,
    required: Requirements,
}

fn requirements(rekor: Option<&Rekor>, ctlog: Option<&CtLog>) -> Requirements {
    let ignore_tlog = rekor.is_some_and(|r| r.ignore_tlog);
    let ignore_sct = ctlog.is_some_and(|c| c.ignore_sct);
    Requirements {
        tlog: !ignore_tlog,
        signing_time: !(ignore_tlog && ignore_sct),
    }
}

impl BundleChecks<'_> {
    /// The bundles a leaf looks at: all of them, or those claiming the attestation's type.
    async fn candidates(
        &self,
        ctx: &Ctx<'_>,
        repository: Option<&str>,
    ) -> Result<std::result::Result<Arc<ImageBundles>, String>> {
        let (host, repository) = ctx.location(repository)?;
        let found = ctx
            .cache
            .bundles
            .bundles(ctx.registry, &host, &repository, ctx.digest)
            .await
            .map_err(super::shared_error)?;
        let wanted = self.attestation.map(|a| a.predicate_type.as_str());
        let any = found
            .bundles
            .iter()
            .any(|b| wanted.is_none() || b.claimed_predicate_type.as_deref() == wanted);
        if any {
            return Ok(Ok(found));
        }
        let what = match self.attestation {
            Some(a) => format!(
                "no Sigstore bundle with an {}",
                super::attestations::of_type(a)
            ),
            None => "no Sigstore bundle".to_owned(),
        };
        Ok(Err(format!(
            "{what} found among the OCI referrers of {host}/{repository}@{} ({:?})",
            ctx.digest, found.source
        )))
    }

    async fn run(
        &self,
        ctx: &Ctx<'_>,
        repository: Option<&str>,
        plan: std::result::Result<Plan, String>,
    ) -> Result<Leaf> {
        let plan = match plan {
            Ok(p) => p,
            Err(why) => return Ok(Leaf::Failed(why)),
        };
        let found = match self.candidates(ctx, repository).await? {
            Ok(f) => f,
            Err(why) => return Ok(Leaf::Failed(why)),
        };
        let Some(digest) = Artifact::parse_digest(ctx.digest) else {
            return Ok(Leaf::Failed(format!(
                "{} is not a sha256 digest: bundles are verified for sha256 digests",
                ctx.digest
            )));
        };
        let artifact = Artifact::Sha256(digest);
        let wanted = self.attestation.map(|a| a.predicate_type.as_str());
        let now = chrono::Utc::now().timestamp();
        let mut verified: Vec<Verified> = Vec::new();
        let mut last = String::from("no bundle verified");
        for b in found.bundles.iter() {
            if wanted.is_some() && b.claimed_predicate_type.as_deref() != wanted {
                continue;
            }
            let outcome = plan.signers.iter().map(|signer| {
                bundle::verify_with(&b.json, &artifact, signer, &plan.trust, plan.required, now)
            });
            let mut ok = None;
            for result in outcome {
                match result {
                    Ok(v) => {
                        ok = Some(v);
                        break;
                    }
                    Err(e) => last = format!("bundle in referrer {}: {e}", b.manifest),
                }
            }
            if let Some(v) = ok {
                if self.attestation.is_none() {
                    return Ok(Leaf::Verified);
                }
                verified.push(v);
            }
        }
        match self.attestation {
            Some(a) if !verified.is_empty() => Ok(conditions(ctx, a, &verified)),
            _ => Ok(Leaf::Failed(last)),
        }
    }
}

/// Every verified statement of the attestation's type must satisfy its conditions.
fn conditions(ctx: &Ctx<'_>, attestation: &Attestation, verified: &[Verified]) -> Leaf {
    let wanted = &attestation.predicate_type;
    let mut statements = Vec::new();
    for v in verified {
        let Some(bytes) = &v.statement else {
            continue;
        };
        match Statement::parse(bytes) {
            Ok(s) if s.predicate_type == *wanted && s.covers_digest(ctx.digest) => {
                statements.push(s)
            }
            Ok(_) => {}
            Err(e) => {
                return Leaf::Failed(format!(
                    "a verified bundle's DSSE payload is not an in-toto statement: {e}"
                ))
            }
        }
    }
    if statements.is_empty() {
        return Leaf::Failed(format!(
            "no verified bundle holds a {wanted} statement for {}",
            ctx.digest
        ));
    }
    super::attestations::conditions_hold(attestation, statements.iter().map(|s| &s.predicate))
}

impl LeafCheck for BundleChecks<'_> {
    fn check_keys<'a>(
        &'a self,
        ctx: &'a Ctx<'a>,
        leaf: &'a KeyLeaf<'a>,
    ) -> BoxFuture<'a, Result<Leaf>> {
        Box::pin(async move {
            let (rekor, ctlog) = (leaf.attestor.rekor.as_ref(), leaf.attestor.ctlog.as_ref());
            let plan = leaf_trust(ctx.trust(), &[], rekor, ctlog, false).map(|trust| Plan {
                signers: leaf.keys.iter().cloned().map(Signer::Key).collect(),
                trust,
                required: requirements(rekor, ctlog),
            });
            self.run(ctx, leaf.repository, plan).await
        })
    }

    fn check_certs<'a>(
        &'a self,
        ctx: &'a Ctx<'a>,
        leaf: &'a CertLeaf<'a>,
    ) -> BoxFuture<'a, Result<Leaf>> {
        Box::pin(async move {
            let CertPolicy::Keyless(keyless) = leaf.policy else {
                return Ok(Leaf::Failed(
                    "type SigstoreBundle verifies bundles for keys and keyless identities only"
                        .into(),
                ));
            };
            let (rekor, ctlog) = (keyless.rekor.as_ref(), keyless.ctlog.as_ref());
            let plan =
                leaf_trust(ctx.trust(), &keyless.roots, rekor, ctlog, true).map(|trust| Plan {
                    signers: vec![Signer::Certificate(keyless_identity(keyless))],
                    trust,
                    required: requirements(rekor, ctlog),
                });
            self.run(ctx, leaf.repository, plan).await
        })
    }
}
