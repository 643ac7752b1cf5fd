//! Checks of cosign image signatures, with cosign's semantics: the signature verifies over
//! the payload, the payload names this image's digest (a signature copied from another
//! image never verifies), required annotations are present, and the signature is in the
//! transparency log unless the policy says `ignoreTlog`. Keyless and certificate
//! signatures add the certificate checks of [`super::certs`].

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::Value;
use signet_policy::SignatureAlgorithm;

use super::attestors::{CertLeaf, KeyLeaf, Leaf, LeafCheck};
use super::certs::CertCheck;
use super::fetch::SignatureLayer;
use super::tlog::{LoggedArtifact, LoggedSigner};
use super::Ctx;
use crate::cosign::SimpleSigning;
use crate::Result;

/// Checks leaves against the image's `.sig` signatures.
pub(crate) struct Signatures;

/// The image's signatures where the attestor looks for them; `Err(why)` when there are none.
async fn layers(
    ctx: &Ctx<'_>,
    repository: Option<&str>,
) -> Result<std::result::Result<Arc<Vec<SignatureLayer>>, String>> {
    let (host, repository) = ctx.location(repository)?;
    let layers = ctx
        .cache
        .signatures(ctx.registry, &host, &repository, ctx.digest)
        .await
        .map_err(super::shared_error)?;
    if layers.is_empty() {
        return Ok(Err(format!("no signatures found in {host}/{repository}")));
    }
    Ok(Ok(layers))
}

/// The payload's claims: this image's digest and the required annotations.
fn check_claims(
    ctx: &Ctx<'_>,
    layer: &SignatureLayer,
    annotations: &[(String, String)],
    signed_by: &str,
) -> std::result::Result<(), String> {
    let payload = SimpleSigning::parse(&layer.payload)
        .map_err(|e| format!("signed payload is not a cosign signature: {e}"))?;
    if payload.manifest_digest != ctx.digest {
        return Err(format!(
            "a signature by this {signed_by} is for another image (payload names {})",
            payload.manifest_digest
        ));
    }
    match missing_annotation(&payload.annotations, annotations) {
        Some(missing) => Err(missing),
        None => Ok(()),
    }
}

impl LeafCheck for Signatures {
    fn check_keys<'a>(
        &'a self,
        ctx: &'a Ctx<'a>,
        leaf: &'a KeyLeaf<'a>,
    ) -> BoxFuture<'a, Result<Leaf>> {
        Box::pin(async move {
            let layers = match layers(ctx, leaf.repository).await? {
                Ok(l) => l,
                Err(why) => return Ok(Leaf::Failed(why)),
            };
            let mut last = String::from("no signature matched");
            for layer in layers.iter() {
                let Some(key) = leaf.keys.iter().find(|k| {
                    k.verify(&layer.payload, &layer.signature, leaf.algorithm)
                        .is_ok()
                }) else {
                    continue;
                };
                if let Err(why) = check_claims(ctx, layer, leaf.annotations, "key") {
                    last = why;
                    continue;
                }
                let logged = LoggedArtifact::Signature {
                    payload: &layer.payload,
                    signature: &layer.signature,
                    signer: LoggedSigner::Key(key.spki_der()),
                };
                let rekor = leaf.attestor.rekor.as_ref();
                let bundle = layer.bundle.as_deref();
                if let Err(why) =
                    ctx.logged_time(rekor, bundle, logged, "the signature", "signatures")?
                {
                    last = why;
                    continue;
                }
                return Ok(Leaf::Verified);
            }
            Ok(Leaf::Failed(last))
        })
    }

    fn check_certs<'a>(
        &'a self,
        ctx: &'a Ctx<'a>,
        leaf: &'a CertLeaf<'a>,
    ) -> BoxFuture<'a, Result<Leaf>> {
        Box::pin(async move {
            let check = match CertCheck::prepare(ctx, leaf)? {
                Ok(c) => c,
                Err(why) => return Ok(Leaf::Failed(why)),
            };
            let layers = match layers(ctx, leaf.repository).await? {
                Ok(l) => l,
                Err(why) => return Ok(Leaf::Failed(why)),
            };
            let mut last = String::from("no signature matched");
            for layer in layers.iter() {
                let signer =
                    match check.signer(layer.certificate.as_deref(), layer.chain.as_deref()) {
                        Ok(s) => s,
                        Err(why) => {
                            last = why;
                            continue;
                        }
                    };
                // cosign loads a certificate's verifier with SHA-256.
                if signer
                    .key
                    .verify(&layer.payload, &layer.signature, SignatureAlgorithm::Sha256)
                    .is_err()
                {
                    last = "the signature does not verify with its certificate's key".into();
                    continue;
                }
                if let Err(why) = check_claims(ctx, layer, leaf.annotations, "certificate") {
                    last = why;
                    continue;
                }
                let logged = LoggedArtifact::Signature {
                    payload: &layer.payload,
                    signature: &layer.signature,
                    signer: check.logged(&signer),
                };
                let bundle = layer.bundle.as_deref();
                let integrated = match ctx.logged_time(
                    leaf.rekor(),
                    bundle,
                    logged,
                    "the signature",
                    "signatures",
                )? {
                    Ok(t) => t,
                    Err(why) => {
                        last = why;
                        continue;
                    }
                };
                let checked = check
                    .check_time(&signer, integrated)
                    .and_then(|()| check.identity_mismatch(&signer).map_or(Ok(()), Err));
                match checked {
                    Ok(()) => return Ok(Leaf::Verified),
                    Err(why) => last = why,
                }
            }
            Ok(Leaf::Failed(last))
        })
    }
}

/// The first required annotation the payload lacks, as a message.
pub(crate) fn missing_annotation(
    have: &std::collections::BTreeMap<String, Value>,
    want: &[(String, String)],
) -> Option<String> {
    want.iter().find_map(|(k, v)| {
        let matches = match have.get(k) {
            Some(Value::String(s)) => s == v,
            Some(other) => serde_json::to_string(other).is_ok_and(|s| s == *v),
            None => false,
        };
        (!matches).then(|| format!("signature lacks annotation {k}={v}"))
    })
}
