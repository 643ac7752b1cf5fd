//! One `verifyImages` entry against one image: resolve the digest, check every attestor
//! set on the signatures (fetching the attestations meanwhile), then every attestation,
//! then the digest requirements.

use std::pin::pin;

use futures_util::future::{select, Either};
use signet_policy::image::ImageRef;
use signet_policy::{Attestation, ImageVerification, VerificationType};

use super::attestations::Attestations;
use super::attestors::{verify_any_identity, verify_set, LeafCheck, SetOutcome};
use super::bundle_checks::BundleChecks;
use super::signatures::Signatures;
use super::{ArtifactCache, Ctx, Verifier};
use crate::registry::RegistryClient;
use crate::verdict::VerdictResult;
use crate::Result;

/// The outcome of one entry on one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryVerdict {
    /// Pass, fail, skip or error.
    pub result: VerdictResult,
    /// Why, for a person.
    pub message: String,
    /// The image's digest, when known.
    pub digest: Option<String>,
    /// Field paths of the attestors that verified.
    pub attestors_satisfied: Vec<String>,
    /// The reference to write into the resource (`mutateDigest`): the image pinned to its
    /// digest, when the entry mutates and the image was given by tag.
    pub pinned: Option<String>,
}

impl EntryVerdict {
    fn new(result: VerdictResult, message: String, digest: Option<String>) -> Self {
        EntryVerdict {
            result,
            message,
            digest,
            attestors_satisfied: Vec::new(),
            pinned: None,
        }
    }
}

impl Verifier {
    /// Checks `image` against `entry`. `cache` holds what this decision already fetched.
    /// The caller has established that the entry's image patterns match the image.
    pub async fn verify_entry(
        &self,
        cache: &ArtifactCache,
        image: &ImageRef,
        entry: &ImageVerification,
    ) -> EntryVerdict {
        let has_checks = !entry.attestors.is_empty() || !entry.attestations.is_empty();
        let needs_digest = has_checks || entry.mutate_digest;
        // An entry that reads nothing from a registry needs none of its credentials.
        let registry = match self.registry_for(entry) {
            Ok(r) => r,
            Err(e) if needs_digest => {
                return EntryVerdict::new(
                    VerdictResult::Error,
                    format!("cannot verify {image}: {e}"),
                    image.digest().map(str::to_owned),
                )
            }
            Err(_) => self.registry.clone(),
        };
        let digest = match image.digest() {
            Some(d) => Some(d.to_owned()),
            None if needs_digest => match self.resolve_tag(&registry, image, entry.use_cache).await
            {
                Ok(d) => Some(d),
                Err(e) => {
                    return EntryVerdict::new(
                        VerdictResult::Error,
                        format!("cannot resolve {image} to a digest: {e}"),
                        None,
                    )
                }
            },
            None => None,
        };
        let mut verdict = match (&digest, has_checks) {
            (Some(d), true) => match self.check_cached(cache, &registry, image, d, entry).await {
                Ok(v) => v,
                Err(e) => EntryVerdict::new(
                    VerdictResult::Error,
                    format!("cannot verify {image}: {e}"),
                    digest.clone(),
                ),
            },
            (_, false) if entry.required => EntryVerdict::new(
                VerdictResult::Fail,
                format!("unverified image {image}: the entry has no attestors or attestations and required is true"),
                digest.clone(),
            ),
            (_, false) => EntryVerdict::new(
                VerdictResult::Skip,
                format!("{image} admitted without verification (required: false)"),
                digest.clone(),
            ),
            (None, true) => unreachable_digest(image),
        };
        if matches!(verdict.result, VerdictResult::Pass | VerdictResult::Skip) {
            if entry.verify_digest && !entry.mutate_digest && image.digest().is_none() {
                verdict.result = VerdictResult::Fail;
                verdict.message = format!(
                    "missing digest for {image}: verifyDigest requires images by digest and mutateDigest is false"
                );
            } else if entry.mutate_digest && image.digest().is_none() {
                verdict.pinned = digest.as_ref().map(|d| format!("{image}@{d}"));
            }
        }
        verdict
    }

    /// Runs every check of `entry` on `image` at `digest`, uncached, reading through
    /// `registry` (the entry's, [`Verifier::registry_for`]).
    pub(crate) async fn check(
        &self,
        cache: &ArtifactCache,
        registry: &RegistryClient,
        image: &ImageRef,
        digest: &str,
        entry: &ImageVerification,
    ) -> Result<EntryVerdict> {
        let trust = match self.trust_for(entry)? {
            Some((root, _)) => root,
            None => self.trust.clone(),
        };
        let ctx = Ctx {
            verifier: self,
            registry,
            cache,
            image,
            digest,
            entry,
            trust,
        };
        let fail = |message: String| {
            Ok(EntryVerdict::new(
                VerdictResult::Fail,
                message,
                Some(digest.to_owned()),
            ))
        };
        let bundles = entry.verification_type == VerificationType::SigstoreBundle;
        let signatures: &dyn LeafCheck = if bundles {
            &BundleChecks { attestation: None }
        } else {
            &Signatures
        };
        // Err: the checks could not run (an error verdict); Ok(Err): a set failed, why.
        let attestors = async {
            let mut satisfied = Vec::new();
            for (i, set) in entry.attestors.iter().enumerate() {
                match verify_set(&ctx, set, format!("attestors[{i}]"), signatures).await? {
                    SetOutcome::Satisfied(mut paths) => satisfied.append(&mut paths),
                    SetOutcome::Failed(why) => {
                        return Ok(Err(format!(
                            "image signature verification failed for {image}: attestors[{i}]: {why}"
                        )))
                    }
                }
            }
            Ok::<_, crate::Error>(Ok(satisfied))
        };
        // The attestations at the entry's location are fetched while the signatures are
        // checked, so a policy requiring signed provenance waits for the round trips of
        // one, not of both in turn. When a signature check fails first, the fetch is
        // dropped; when it errs, the attestation checks meet the same error as they would
        // have fetching it themselves.
        let prefetch = async {
            if let Ok((host, repository)) = ctx.location(None) {
                let _ = cache
                    .attestations(registry, &host, &repository, digest)
                    .await;
            }
        };
        let alone = bundles || entry.attestors.is_empty() || entry.attestations.is_empty();
        let attestors = if alone {
            attestors.await?
        } else {
            let (attestors, prefetch) = (pin!(attestors), pin!(prefetch));
            match select(attestors, prefetch).await {
                Either::Left((Ok(Ok(satisfied)), prefetch)) => {
                    prefetch.await;
                    Ok(satisfied)
                }
                Either::Left((outcome, _)) => outcome?,
                Either::Right(((), attestors)) => attestors.await?,
            }
        };
        let mut satisfied = match attestors {
            Ok(paths) => paths,
            Err(message) => return fail(message),
        };
        for (i, attestation) in entry.attestations.iter().enumerate() {
            let check = attestation_check(bundles, attestation);
            let check = check.as_ref();
            if attestation.attestors.is_empty() {
                // Kyverno adds one empty attestor: keyless, any identity, the trust root.
                let path = format!("attestations[{i}]");
                match verify_any_identity(&ctx, path.clone(), check).await? {
                    SetOutcome::Satisfied(mut paths) => satisfied.append(&mut paths),
                    SetOutcome::Failed(why) => {
                        return fail(format!(
                            "image attestation verification failed for {image}: {path}: {why}"
                        ))
                    }
                }
                continue;
            }
            for (j, set) in attestation.attestors.iter().enumerate() {
                let path = format!("attestations[{i}].attestors[{j}]");
                match verify_set(&ctx, set, path.clone(), check).await? {
                    SetOutcome::Satisfied(mut paths) => satisfied.append(&mut paths),
                    SetOutcome::Failed(why) => {
                        return fail(format!(
                            "image attestation verification failed for {image}: {path}: {why}"
                        ))
                    }
                }
            }
        }
        let what = if entry.attestations.is_empty() {
            "signatures"
        } else if entry.attestors.is_empty() {
            "attestations"
        } else {
            "signatures and attestations"
        };
        let mut verdict = EntryVerdict::new(
            VerdictResult::Pass,
            format!("verified image {what} for {image}"),
            Some(digest.to_owned()),
        );
        verdict.attestors_satisfied = satisfied;
        Ok(verdict)
    }
}

/// How the attestations of one `attestations[]` entry are found: cosign's `.att` tag, or
/// Sigstore bundles among the OCI referrers (`type: SigstoreBundle`).
fn attestation_check(bundles: bool, attestation: &Attestation) -> Box<dyn LeafCheck + '_> {
    if bundles {
        Box::new(BundleChecks {
            attestation: Some(attestation),
        })
    } else {
        Box::new(Attestations { attestation })
    }
}

/// A digest is resolved whenever there are checks; reaching here is a bug, reported as an
/// error verdict rather than a panic.
fn unreachable_digest(image: &ImageRef) -> EntryVerdict {
    EntryVerdict::new(
        VerdictResult::Error,
        format!("internal error: no digest for {image}"),
        None,
    )
}
