//! Signatures and attestations of an image, fetched once per decision whatever the number
//! of rules, attestors, keys and containers that need them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use bytes::Bytes;
use futures_util::future::Either;
use futures_util::{stream, StreamExt, TryStreamExt};
use signet_policy::image::{DOCKER_HUB, DOCKER_HUB_LEGACY};
use tokio::sync::OnceCell;

use crate::cosign::{
    attestation_tag, signature_tag, Envelope, Layer, SignatureManifest, SimpleSigning,
    BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, DSSE_MEDIA_TYPE,
    SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE,
};
use crate::digest::sha256_digest;
use crate::registry::{RegistryClient, Transport};
use crate::{Error, Result};

/// At most this many signature or attestation layers are read per image: an attacker who
/// can push to a repository must not make every admission read unbounded data.
pub const MAX_LAYERS: usize = 64;

/// Layer blobs of one signature or attestation manifest read at once, in as many
/// connections: enough for the images of a promotion pipeline (a signature per stage),
/// few enough that one image's layers do not take every connection the pool keeps.
pub const BLOB_FETCHES: usize = 8;

/// One cosign signature: the signed payload and what accompanies it.
#[derive(Debug, Clone)]
pub struct SignatureLayer {
    /// The simple-signing payload, as signed.
    pub payload: Bytes,
    /// The raw signature bytes.
    pub signature: Vec<u8>,
    /// The signing certificate (PEM), for keyless and certificate attestors.
    pub certificate: Option<String>,
    /// The certificate chain (PEM).
    pub chain: Option<String>,
    /// The Rekor bundle (JSON), when the signature was logged.
    pub bundle: Option<String>,
}

/// One cosign attestation: a DSSE envelope and what accompanies it.
#[derive(Debug, Clone)]
pub struct AttestationLayer {
    /// The envelope (payload decoded).
    pub envelope: Envelope,
    /// The envelope exactly as stored, for transparency-log checks.
    pub raw: Bytes,
    /// The signing certificate (PEM).
    pub certificate: Option<String>,
    /// The certificate chain (PEM).
    pub chain: Option<String>,
    /// The Rekor bundle (JSON).
    pub bundle: Option<String>,
}

type Shared<T> = Arc<OnceCell<std::result::Result<Arc<Vec<T>>, Arc<Error>>>>;
/// (transport, credentials identity, registry, repository, digest).
pub(crate) type Key = (Transport, String, String, String, String);

/// The artifacts fetched during one decision, keyed by (transport, credentials identity,
/// registry, repository, digest): entries that reach a registry the same way with the same
/// credentials share one fetch; what an entry allowing an insecure registry read is never
/// handed to one that does not, nor what one entry read with its registry credentials
/// secrets to an entry with other credentials (or none).
#[derive(Debug, Default)]
pub struct ArtifactCache {
    signatures: Mutex<HashMap<Key, Shared<SignatureLayer>>>,
    attestations: Mutex<HashMap<Key, Shared<AttestationLayer>>>,
    /// Sigstore bundles (OCI referrers), for `type: SigstoreBundle` entries.
    pub(crate) bundles: super::bundles::BundleCache,
}

fn slot<T>(map: &Mutex<HashMap<Key, Shared<T>>>, key: Key) -> Shared<T> {
    match map.lock() {
        Ok(mut m) => m.entry(key).or_default().clone(),
        // A poisoned map only means another task panicked; fetch again rather than share.
        Err(_) => Shared::default(),
    }
}

impl ArtifactCache {
    /// The signatures of `digest` stored in `host/repository`, fetched on first use.
    pub async fn signatures(
        &self,
        registry: &RegistryClient,
        host: &str,
        repository: &str,
        digest: &str,
    ) -> std::result::Result<Arc<Vec<SignatureLayer>>, Arc<Error>> {
        let cell = slot(
            &self.signatures,
            (
                registry.transport_for(host),
                registry.credentials_identity().into(),
                host.into(),
                repository.into(),
                digest.into(),
            ),
        );
        cell.get_or_init(|| async {
            fetch_signatures(registry, host, repository, digest)
                .await
                .map(Arc::new)
                .map_err(Arc::new)
        })
        .await
        .clone()
    }

    /// The attestations of `digest` stored in `host/repository`, fetched on first use.
    pub async fn attestations(
        &self,
        registry: &RegistryClient,
        host: &str,
        repository: &str,
        digest: &str,
    ) -> std::result::Result<Arc<Vec<AttestationLayer>>, Arc<Error>> {
        let cell = slot(
            &self.attestations,
            (
                registry.transport_for(host),
                registry.credentials_identity().into(),
                host.into(),
                repository.into(),
                digest.into(),
            ),
        );
        cell.get_or_init(|| async {
            fetch_attestations(registry, host, repository, digest)
                .await
                .map(Arc::new)
                .map_err(Arc::new)
        })
        .await
        .clone()
    }
}

/// Blobs known here without asking the registry, by digest: a layer whose digest and
/// size are one of these is not fetched. Content addressing makes this exact: bytes with
/// the layer's SHA-256 are the bytes the registry would send, which [`RegistryClient::blob`]
/// checks the same way.
type Known = [(String, Bytes)];

/// The payloads `cosign sign` (and `signet sign`) write for `digest` in `host/repository`
/// without `-a` annotations: the repository as cosign names it (Docker Hub's as
/// `index.docker.io/…`) and as it is written. Most signatures are one of these, so their
/// `.sig` layer is known from the manifest alone and its round trip is saved; any other
/// (annotated, or naming another repository) is fetched.
fn unannotated_payloads(host: &str, repository: &str, digest: &str) -> Vec<(String, Bytes)> {
    let mut names = vec![format!("{host}/{repository}")];
    if host == DOCKER_HUB {
        names.push(format!("{DOCKER_HUB_LEGACY}/{repository}"));
    }
    names
        .into_iter()
        .map(|name| {
            let bytes = Bytes::from(SimpleSigning::new(name, digest).to_bytes());
            (sha256_digest(&bytes), bytes)
        })
        .collect()
}

async fn layers_of(
    registry: &RegistryClient,
    host: &str,
    repository: &str,
    tag: &str,
    media_type: &str,
    known: &Known,
) -> Result<Vec<(Layer, Bytes)>> {
    let Some(manifest) = registry.manifest(host, repository, tag).await? else {
        return Ok(Vec::new());
    };
    let parsed = SignatureManifest::parse(&manifest.bytes)?;
    let layers: Vec<_> = parsed
        .layers
        .into_iter()
        .filter(|l| l.media_type == media_type)
        .collect();
    if layers.len() > MAX_LAYERS {
        return Err(Error::Malformed(format!(
            "{host}/{repository}:{tag} has {} layers; at most {MAX_LAYERS} are read",
            layers.len()
        )));
    }
    // Each `cosign sign` of an image adds a layer, so an image signed at every promotion
    // carries several, and reading them one after another cost a round trip each.
    // The requests are made before they are streamed: a closure inside the stream's type
    // would not be `Send` for every lifetime, as the boxed leaf checks calling this need.
    let requests: Vec<_> = layers
        .iter()
        .map(|layer| {
            let found = known.iter().find(|(digest, bytes)| {
                *digest == layer.digest && bytes.len() as u64 == layer.size
            });
            match found {
                Some((_, bytes)) => Either::Left(std::future::ready(Ok(bytes.clone()))),
                None => Either::Right(registry.blob(host, repository, &layer.digest)),
            }
        })
        .collect();
    let blobs: Vec<Bytes> = stream::iter(requests)
        .buffered(BLOB_FETCHES)
        .try_collect()
        .await?;
    Ok(layers.into_iter().zip(blobs).collect())
}

async fn fetch_signatures(
    registry: &RegistryClient,
    host: &str,
    repository: &str,
    digest: &str,
) -> Result<Vec<SignatureLayer>> {
    let tag = signature_tag(digest);
    let known = unannotated_payloads(host, repository, digest);
    let layers = layers_of(
        registry,
        host,
        repository,
        &tag,
        SIMPLE_SIGNING_MEDIA_TYPE,
        &known,
    )
    .await?;
    let mut out = Vec::with_capacity(layers.len());
    for (layer, payload) in layers {
        // A layer without a readable signature cannot verify; it is skipped like cosign
        // skips it, and the verdict then says no signature matched.
        let Some(signature) = layer.annotations.get(SIGNATURE_ANNOTATION).and_then(|s| {
            base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .ok()
        }) else {
            continue;
        };
        out.push(SignatureLayer {
            payload,
            signature,
            certificate: layer.annotations.get(CERTIFICATE_ANNOTATION).cloned(),
            chain: layer.annotations.get(CHAIN_ANNOTATION).cloned(),
            bundle: layer.annotations.get(BUNDLE_ANNOTATION).cloned(),
        });
    }
    Ok(out)
}

async fn fetch_attestations(
    registry: &RegistryClient,
    host: &str,
    repository: &str,
    digest: &str,
) -> Result<Vec<AttestationLayer>> {
    let tag = attestation_tag(digest);
    // An envelope carries its signature, so none is known before it is read.
    let layers = layers_of(registry, host, repository, &tag, DSSE_MEDIA_TYPE, &[]).await?;
    let mut out = Vec::with_capacity(layers.len());
    for (layer, raw) in layers {
        let Ok(envelope) = Envelope::parse(&raw) else {
            continue;
        };
        out.push(AttestationLayer {
            envelope,
            raw,
            certificate: layer.annotations.get(CERTIFICATE_ANNOTATION).cloned(),
            chain: layer.annotations.get(CHAIN_ANNOTATION).cloned(),
            bundle: layer.annotations.get(BUNDLE_ANNOTATION).cloned(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f";

    /// The names a payload is predicted under, each payload checked against its digest.
    fn predicted(host: &str, repository: &str) -> Vec<String> {
        unannotated_payloads(host, repository, DIGEST)
            .iter()
            .map(|(digest, bytes)| {
                assert_eq!(*digest, sha256_digest(bytes));
                let payload = SimpleSigning::parse(bytes).expect("a cosign payload");
                assert_eq!(payload.manifest_digest, DIGEST);
                assert!(payload.annotations.is_empty());
                payload.docker_reference
            })
            .collect()
    }

    #[test]
    fn docker_hub_payloads_are_predicted_as_cosign_and_signet_name_the_repository() {
        // cosign names Docker Hub `index.docker.io`; `signet sign` writes `docker.io`.
        assert_eq!(
            predicted("docker.io", "library/nginx"),
            ["docker.io/library/nginx", "index.docker.io/library/nginx"]
        );
        assert_eq!(predicted("ghcr.io", "acme/app"), ["ghcr.io/acme/app"]);
        assert_eq!(predicted("127.0.0.1:5000", "app"), ["127.0.0.1:5000/app"]);
    }
}
