//! Key-based checks of cosign image signatures, with cosign's semantics: the signature
//! verifies over the payload, the payload names this image's digest (a signature copied
//! from another image never verifies), required annotations are present, and the
//! signature is in the transparency log unless the policy says `ignoreTlog`.

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::attestors::{KeyLeaf, Leaf, LeafCheck};
use super::tlog::{verify_bundle, LoggedArtifact};
use super::Ctx;
use crate::cosign::SimpleSigning;
use crate::Result;

/// Checks leaves against the image's `.sig` signatures.
pub(crate) struct Signatures;

impl LeafCheck for Signatures {
    fn check_keys<'a>(
        &'a self,
        ctx: &'a Ctx<'a>,
        leaf: &'a KeyLeaf<'a>,
    ) -> BoxFuture<'a, Result<Leaf>> {
        Box::pin(async move {
            let (host, repository) = ctx.location(leaf.repository)?;
            let layers = ctx
                .cache
                .signatures(&ctx.verifier.registry, &host, &repository, ctx.digest)
                .await
                .map_err(super::shared_error)?;
            if layers.is_empty() {
                return Ok(Leaf::Failed(format!(
                    "no signatures found in {host}/{repository}"
                )));
            }
            let mut last = String::from("no signature matched");
            for layer in layers.iter() {
                let Some(key) = leaf.keys.iter().find(|k| {
                    k.verify(&layer.payload, &layer.signature, leaf.algorithm)
                        .is_ok()
                }) else {
                    continue;
                };
                let payload = match SimpleSigning::parse(&layer.payload) {
                    Ok(p) => p,
                    Err(e) => {
                        last = format!("signed payload is not a cosign signature: {e}");
                        continue;
                    }
                };
                if payload.manifest_digest != ctx.digest {
                    last = format!(
                        "a signature by this key is for another image (payload names {})",
                        payload.manifest_digest
                    );
                    continue;
                }
                if let Some(missing) = missing_annotation(&payload.annotations, leaf.annotations) {
                    last = missing;
                    continue;
                }
                if ctx.tlog_required(leaf.attestor.rekor.as_ref()) {
                    let Some(bundle) = &layer.bundle else {
                        last = "the signature has no Rekor bundle and the policy requires the transparency log (set rekor.ignoreTlog to accept unlogged signatures)".into();
                        continue;
                    };
                    let logs = ctx.tlogs(leaf.attestor.rekor.as_ref())?;
                    let logged = LoggedArtifact::Signature {
                        payload: &layer.payload,
                        signature: &layer.signature,
                        spki_der: key.spki_der(),
                    };
                    if let Err(why) = verify_bundle(bundle, &logs, logged) {
                        last = why;
                        continue;
                    }
                }
                return Ok(Leaf::Verified);
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
