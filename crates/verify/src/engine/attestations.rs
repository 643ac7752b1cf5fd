//! Attestations: DSSE envelopes whose signature verifies like an attestor's, whose
//! in-toto statement names this image's digest, of the wanted predicate type, and whose
//! predicate satisfies the attestation's conditions.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use signet_policy::conditions::{evaluate_blocks, Outcome};
use signet_policy::{Attestation, SignatureAlgorithm};

use super::attestors::{CertLeaf, KeyLeaf, Leaf, LeafCheck};
use super::certs::CertCheck;
use super::fetch::AttestationLayer;
use super::tlog::LoggedArtifact;
use super::Ctx;
use crate::cosign::{pae, Statement};
use crate::Result;

/// Checks leaves against the image's `.att` attestations of one `attestations[]` entry.
pub(crate) struct Attestations<'p> {
    pub(crate) attestation: &'p Attestation,
}

/// What one attestation layer amounts to for a leaf.
enum Found {
    /// Signed by the leaf, of the wanted type, for this image, logged as required.
    Statement(Box<Statement>),
    /// Not a candidate; the message says why when that is worth telling.
    Skip(Option<String>),
    /// A candidate that fails the whole leaf (Kyverno: a verified attestation of the
    /// wanted type signed by another identity).
    Fail(String),
}

impl Attestations<'_> {
    async fn layers(
        &self,
        ctx: &Ctx<'_>,
        repository: Option<&str>,
    ) -> Result<(Arc<Vec<AttestationLayer>>, String)> {
        let (host, repository) = ctx.location(repository)?;
        let layers = ctx
            .cache
            .attestations(ctx.registry, &host, &repository, ctx.digest)
            .await
            .map_err(super::shared_error)?;
        let none = format!(
            "no {} found in {host}/{repository}",
            of_type(self.attestation)
        );
        Ok((layers, none))
    }

    /// The signed statement of the wanted type for this image, or why not.
    fn statement(&self, ctx: &Ctx<'_>, layer: &AttestationLayer) -> Result<Box<Statement>, String> {
        let wanted = &self.attestation.predicate_type;
        let statement = Statement::parse(&layer.envelope.payload)
            .map_err(|e| format!("a signed attestation is not an in-toto statement: {e}"))?;
        if statement.predicate_type != *wanted {
            return Err(String::new());
        }
        if !statement.covers_digest(ctx.digest) {
            return Err(format!(
                "a signed {wanted} attestation is for another image"
            ));
        }
        Ok(Box::new(statement))
    }

    /// The leaf's outcome from what the layers amounted to: the conditions over the
    /// statements found, or the last reason worth telling.
    fn decide(&self, found: Vec<Found>, mut last: String) -> Leaf {
        let mut statements = Vec::new();
        for f in found {
            match f {
                Found::Statement(s) => statements.push(s),
                Found::Skip(Some(why)) if !why.is_empty() => last = why,
                Found::Skip(_) => {}
                Found::Fail(why) => return Leaf::Failed(why),
            }
        }
        if statements.is_empty() {
            return Leaf::Failed(last);
        }
        conditions_hold(self.attestation, statements.iter().map(|s| &s.predicate))
    }
}

/// How messages name an `attestations[]` entry: `attestation "build" (<type>)` when it
/// has a `name`, else `attestation <type>`.
pub(super) fn describe(attestation: &Attestation) -> String {
    match &attestation.name {
        Some(name) => format!("attestation {name:?} ({})", attestation.predicate_type),
        None => format!("attestation {}", attestation.predicate_type),
    }
}

/// `attestation "build" of type <type>`, or `attestation of type <type>` without a name.
pub(super) fn of_type(attestation: &Attestation) -> String {
    match &attestation.name {
        Some(name) => format!(
            "attestation {name:?} of type {}",
            attestation.predicate_type
        ),
        None => format!("attestation of type {}", attestation.predicate_type),
    }
}

/// Every statement of the type must satisfy the attestation's conditions, as in Kyverno. A
/// condition that cannot be evaluated (a missing field, say) fails the attestation, as in
/// Kyverno; it is not an error of Signet's.
pub(super) fn conditions_hold<'p>(
    attestation: &Attestation,
    predicates: impl IntoIterator<Item = &'p serde_json::Value>,
) -> Leaf {
    for predicate in predicates {
        match evaluate_blocks(&attestation.conditions, predicate) {
            Ok(Outcome::Pass) => {}
            Ok(Outcome::Fail { message }) => {
                return Leaf::Failed(format!("{}: {message}", describe(attestation)))
            }
            Err(e) => return Leaf::Failed(format!("{}: {e}", describe(attestation))),
        }
    }
    Leaf::Verified
}

impl LeafCheck for Attestations<'_> {
    fn check_keys<'a>(
        &'a self,
        ctx: &'a Ctx<'a>,
        leaf: &'a KeyLeaf<'a>,
    ) -> BoxFuture<'a, Result<Leaf>> {
        Box::pin(async move {
            let wanted = &self.attestation.predicate_type;
            let (layers, none) = self.layers(ctx, leaf.repository).await?;
            let mut found = Vec::with_capacity(layers.len());
            for layer in layers.iter() {
                let env = &layer.envelope;
                let message = pae(&env.payload_type, &env.payload);
                let signed = env.signatures.iter().any(|s| {
                    leaf.keys
                        .iter()
                        .any(|k| k.verify(&message, &s.sig, leaf.algorithm).is_ok())
                });
                if !signed {
                    found.push(Found::Skip(None));
                    continue;
                }
                let statement = match self.statement(ctx, layer) {
                    Ok(s) => s,
                    Err(why) => {
                        found.push(Found::Skip(Some(why)));
                        continue;
                    }
                };
                let logged = LoggedArtifact::Attestation {
                    payload: &env.payload,
                    signer: None,
                };
                let what = format!("the {wanted} attestation");
                let bundle = layer.bundle.as_deref();
                let rekor = leaf.attestor.rekor.as_ref();
                found.push(
                    match ctx.logged_time(rekor, bundle, logged, &what, "attestations")? {
                        Ok(_) => Found::Statement(statement),
                        Err(why) => Found::Skip(Some(why)),
                    },
                );
            }
            Ok(self.decide(found, none))
        })
    }

    fn check_certs<'a>(
        &'a self,
        ctx: &'a Ctx<'a>,
        leaf: &'a CertLeaf<'a>,
    ) -> BoxFuture<'a, Result<Leaf>> {
        Box::pin(async move {
            let wanted = &self.attestation.predicate_type;
            let check = match CertCheck::prepare(ctx, leaf)? {
                Ok(c) => c,
                Err(why) => return Ok(Leaf::Failed(why)),
            };
            let (layers, none) = self.layers(ctx, leaf.repository).await?;
            let mut found = Vec::with_capacity(layers.len());
            for layer in layers.iter() {
                // Only attestations of the wanted type matter, and their failures are the
                // ones worth reporting; the type read here is trusted only to skip.
                let statement = match self.statement(ctx, layer) {
                    Ok(s) => s,
                    Err(why) => {
                        found.push(Found::Skip(Some(why)));
                        continue;
                    }
                };
                let signer =
                    match check.signer(layer.certificate.as_deref(), layer.chain.as_deref()) {
                        Ok(s) => s,
                        Err(why) => {
                            found.push(Found::Skip(Some(format!(
                                "the {wanted} attestation: {why}"
                            ))));
                            continue;
                        }
                    };
                let env = &layer.envelope;
                let message = pae(&env.payload_type, &env.payload);
                let signed = env.signatures.iter().any(|s| {
                    signer
                        .key
                        .verify(&message, &s.sig, SignatureAlgorithm::Sha256)
                        .is_ok()
                });
                if !signed {
                    let why = format!("the {wanted} attestation's signature does not verify with its certificate's key");
                    found.push(Found::Skip(Some(why)));
                    continue;
                }
                let logged = LoggedArtifact::Attestation {
                    payload: &env.payload,
                    signer: Some(check.logged(&signer)),
                };
                let what = format!("the {wanted} attestation");
                let bundle = layer.bundle.as_deref();
                let integrated =
                    match ctx.logged_time(leaf.rekor(), bundle, logged, &what, "attestations")? {
                        Ok(t) => t,
                        Err(why) => {
                            found.push(Found::Skip(Some(why)));
                            continue;
                        }
                    };
                if let Err(why) = check.check_time(&signer, integrated) {
                    found.push(Found::Skip(Some(format!(
                        "the {wanted} attestation: {why}"
                    ))));
                    continue;
                }
                found.push(match check.identity_mismatch(&signer) {
                    None => Found::Statement(statement),
                    Some(why) => Found::Fail(format!(
                        "a verified {wanted} attestation is signed by another identity: {why}"
                    )),
                });
            }
            Ok(self.decide(found, none))
        })
    }
}
