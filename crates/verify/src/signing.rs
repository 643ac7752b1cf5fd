//! Signing and attesting images as `cosign sign --key` and `cosign attest --key` do, so a
//! fleet needs no other signer: the same payloads, envelopes, layers and tags, appended
//! to what the image already carries. Nothing is uploaded to a transparency log.

use std::collections::BTreeMap;

use bytes::Bytes;
use signet_policy::image::ImageRef;

use crate::cosign::{
    attestation_tag, predicate_for, signature_config, signature_manifest, signature_tag, Envelope,
    Layer, SignatureManifest, SimpleSigning, Statement, IN_TOTO_PAYLOAD_TYPE,
    OCI_MANIFEST_MEDIA_TYPE,
};
use crate::crypto::SigningKey;
use crate::registry::RegistryClient;
use crate::Result;

/// Where a signature or attestation went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The digest of the image that was signed.
    pub digest: String,
    /// `registry/repository:sha256-<hex>.sig` (or `.att`).
    pub location: String,
}

async fn digest_of(registry: &RegistryClient, image: &ImageRef) -> Result<String> {
    match image.digest() {
        Some(d) => Ok(d.to_owned()),
        None => {
            registry
                .resolve_digest(
                    image.registry(),
                    image.repository(),
                    image.tag().unwrap_or("latest"),
                )
                .await
        }
    }
}

/// Signs `image` (resolving its tag to the digest that gets signed) with `key`;
/// `annotations` go into the payload's `optional` map like cosign's `-a`.
pub async fn sign_image(
    registry: &RegistryClient,
    key: &SigningKey,
    image: &ImageRef,
    annotations: &BTreeMap<String, String>,
) -> Result<Pushed> {
    let digest = digest_of(registry, image).await?;
    let mut payload = SimpleSigning::new(image.name(), &digest);
    payload.annotations = annotations
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let bytes = payload.to_bytes();
    let signature = key.sign(&bytes)?;
    let layer = Layer::simple_signing(&bytes, &signature);
    let tag = signature_tag(&digest);
    append_layer(registry, image, &tag, layer, Bytes::from(bytes)).await?;
    Ok(Pushed {
        location: format!("{}:{tag}", image.name()),
        digest,
    })
}

/// Attests `image` with a predicate of `type_name` (cosign's `--type`, whose URI is
/// `predicate_type`) read from `raw_predicate`.
pub async fn attest_image(
    registry: &RegistryClient,
    key: &SigningKey,
    image: &ImageRef,
    type_name: &str,
    predicate_type: &str,
    raw_predicate: &[u8],
) -> Result<Pushed> {
    let digest = digest_of(registry, image).await?;
    let predicate = predicate_for(type_name, raw_predicate)?;
    let statement = Statement::new(predicate_type, &image.name(), &digest, predicate);
    let envelope = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, statement.to_bytes(), key)?;
    let json = envelope.to_json();
    let layer = Layer::attestation(&json, predicate_type);
    let tag = attestation_tag(&digest);
    append_layer(registry, image, &tag, layer, Bytes::from(json)).await?;
    Ok(Pushed {
        location: format!("{}:{tag}", image.name()),
        digest,
    })
}

/// Adds `layer` (whose blob is `blob`) to the signature image at `tag`, keeping the layers
/// already there, as cosign appends; an identical layer is not added twice.
async fn append_layer(
    registry: &RegistryClient,
    image: &ImageRef,
    tag: &str,
    layer: Layer,
    blob: Bytes,
) -> Result<()> {
    let (host, repo) = (image.registry(), image.repository());
    let mut layers = match registry.manifest(host, repo, tag).await? {
        Some(existing) => SignatureManifest::parse(&existing.bytes)?.layers,
        None => Vec::new(),
    };
    if layers.contains(&layer) {
        return Ok(());
    }
    registry.push_blob(host, repo, blob).await?;
    layers.push(layer);
    let digests: Vec<&str> = layers.iter().map(|l| l.digest.as_str()).collect();
    let config = signature_config(&digests);
    let config_len = config.len() as u64;
    let config_digest = registry.push_blob(host, repo, Bytes::from(config)).await?;
    let manifest = signature_manifest(&config_digest, config_len, &layers);
    registry
        .push_manifest(
            host,
            repo,
            tag,
            OCI_MANIFEST_MEDIA_TYPE,
            Bytes::from(manifest),
        )
        .await?;
    Ok(())
}
