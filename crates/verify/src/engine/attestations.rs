//! Attestations: DSSE envelopes whose signature verifies like an attestor's, whose
//! in-toto statement names this image's digest, of the wanted predicate type, and whose
//! predicate satisfies the attestation's conditions.

use futures_util::future::BoxFuture;
use signet_policy::conditions::{evaluate_blocks, Outcome};
use signet_policy::Attestation;

use super::attestors::{KeyLeaf, Leaf, LeafCheck};
use super::tlog::{verify_bundle, LoggedArtifact};
use super::Ctx;
use crate::cosign::{pae, Statement};
use crate::Result;

/// Checks leaves against the image's `.att` attestations of one `attestations[]` entry.
pub(crate) struct Attestations<'p> {
    pub(crate) attestation: &'p Attestation,
}

impl LeafCheck for Attestations<'_> {
    fn check_keys<'a>(
        &'a self,
        ctx: &'a Ctx<'a>,
        leaf: &'a KeyLeaf<'a>,
    ) -> BoxFuture<'a, Result<Leaf>> {
        Box::pin(async move {
            let wanted = &self.attestation.predicate_type;
            let (host, repository) = ctx.location(leaf.repository)?;
            let layers = ctx
                .cache
                .attestations(&ctx.verifier.registry, &host, &repository, ctx.digest)
                .await
                .map_err(super::shared_error)?;
            let mut statements = Vec::new();
            let mut last = format!("no attestation of type {wanted} found in {host}/{repository}");
            for layer in layers.iter() {
                let env = &layer.envelope;
                let message = pae(&env.payload_type, &env.payload);
                let signed = env.signatures.iter().any(|s| {
                    leaf.keys
                        .iter()
                        .any(|k| k.verify(&message, &s.sig, leaf.algorithm).is_ok())
                });
                if !signed {
                    continue;
                }
                let statement = match Statement::parse(&env.payload) {
                    Ok(s) => s,
                    Err(e) => {
                        last = format!("a signed attestation is not an in-toto statement: {e}");
                        continue;
                    }
                };
                if statement.predicate_type != *wanted {
                    continue;
                }
                if !statement.covers_digest(ctx.digest) {
                    last = format!("a signed {wanted} attestation is for another image");
                    continue;
                }
                if ctx.tlog_required(leaf.attestor.rekor.as_ref()) {
                    let Some(bundle) = &layer.bundle else {
                        last = format!("the {wanted} attestation has no Rekor bundle and the policy requires the transparency log (set rekor.ignoreTlog to accept unlogged attestations)");
                        continue;
                    };
                    let logs = ctx.tlogs(leaf.attestor.rekor.as_ref())?;
                    if let Err(why) = verify_bundle(
                        bundle,
                        &logs,
                        LoggedArtifact::Attestation {
                            payload: &env.payload,
                        },
                    ) {
                        last = why;
                        continue;
                    }
                }
                statements.push(statement);
            }
            if statements.is_empty() {
                return Ok(Leaf::Failed(last));
            }
            // Every statement of the type must satisfy the conditions, as in Kyverno.
            for statement in &statements {
                // A condition that cannot be evaluated (a missing field, say) fails the
                // attestation, as in Kyverno; it is not an error of Signet's.
                match evaluate_blocks(&self.attestation.conditions, &statement.predicate) {
                    Ok(Outcome::Pass) => {}
                    Ok(Outcome::Fail { message }) => {
                        return Ok(Leaf::Failed(format!("attestation {wanted}: {message}")))
                    }
                    Err(e) => return Ok(Leaf::Failed(format!("attestation {wanted}: {e}"))),
                }
            }
            Ok(Leaf::Verified)
        })
    }
}
