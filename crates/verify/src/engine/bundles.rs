//! The Sigstore bundles attached to an image as OCI 1.1 referrers (`type: SigstoreBundle`),
//! found as Kyverno finds them (`fetchBundles` in `pkg/cosign/sigstore.go`): every referrer
//! whose artifact type is a Sigstore bundle, and every untyped referrer (or one typed
//! `application/vnd.oci.empty.v1+json`, as cosign 2.x lists them in the referrers tag
//! schema) whose manifest says it holds a bundle. The bundle is the manifest's first bundle
//! layer, read within [`MAX_BUNDLE_BYTES`]. Fetched once per decision.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::registry::referrers::{Descriptor, ReferrersSource};
use crate::registry::RegistryClient;
use crate::{Error, Result};

/// Artifact and media types of Sigstore bundles start with this.
pub const BUNDLE_MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// The empty artifact type cosign 2.x gives bundle referrers in the tag schema's index.
const OCI_EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// A bundle layer larger than this is refused (Kyverno's `maxLayerSize`).
pub const MAX_BUNDLE_BYTES: u64 = 10_000_000;
/// An image with more referrers than this is refused (Kyverno's `attestationlimit`).
pub const MAX_REFERRERS: usize = 50;

/// One bundle attached to an image.
#[derive(Debug, Clone)]
pub struct BundleArtifact {
    /// The digest of the referrer manifest holding it, for messages.
    pub manifest: String,
    /// The bundle JSON, as stored.
    pub json: Bytes,
    /// The predicate type its DSSE statement claims (unverified: used only to choose
    /// which bundles an attestation check verifies).
    pub claimed_predicate_type: Option<String>,
}

/// The bundles of one image and how they were listed.
#[derive(Debug, Clone)]
pub struct ImageBundles {
    /// Every bundle found.
    pub bundles: Vec<BundleArtifact>,
    /// Referrers API or tag schema.
    pub source: ReferrersSource,
}

type Shared = Arc<OnceCell<std::result::Result<Arc<ImageBundles>, Arc<Error>>>>;

/// Bundles fetched during one decision, by (transport, credentials identity, registry,
/// repository, digest), like [`super::fetch::ArtifactCache`].
#[derive(Debug, Default)]
pub struct BundleCache {
    slots: Mutex<HashMap<super::fetch::Key, Shared>>,
}

impl BundleCache {
    /// The bundles of `digest` in `host/repository`, fetched on first use.
    pub async fn bundles(
        &self,
        registry: &RegistryClient,
        host: &str,
        repository: &str,
        digest: &str,
    ) -> std::result::Result<Arc<ImageBundles>, Arc<Error>> {
        let key = (
            registry.transport_for(host),
            registry.credentials_identity().to_owned(),
            host.to_owned(),
            repository.to_owned(),
            digest.to_owned(),
        );
        let cell = match self.slots.lock() {
            Ok(mut m) => m.entry(key).or_default().clone(),
            Err(_) => Shared::default(),
        };
        cell.get_or_init(|| async {
            fetch(registry, host, repository, digest)
                .await
                .map(Arc::new)
                .map_err(Arc::new)
        })
        .await
        .clone()
    }
}

#[derive(Deserialize)]
struct MediaTyped {
    #[serde(rename = "mediaType", default)]
    media_type: String,
}

#[derive(Deserialize)]
struct LayerDescriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: u64,
}

#[derive(Deserialize)]
struct ReferrerManifest {
    #[serde(rename = "artifactType", default)]
    artifact_type: Option<String>,
    config: Option<MediaTyped>,
    #[serde(default)]
    layers: Vec<LayerDescriptor>,
    subject: Option<LayerDescriptor>,
}

fn is_bundle_type(t: Option<&str>) -> bool {
    t.is_some_and(|t| t.starts_with(BUNDLE_MEDIA_TYPE_PREFIX))
}

/// Whether a listed referrer may hold a bundle: typed as one, or untyped.
fn may_hold_bundle(d: &Descriptor) -> bool {
    match d.artifact_type.as_deref() {
        None | Some("") | Some(OCI_EMPTY_MEDIA_TYPE) => true,
        t => is_bundle_type(t),
    }
}

/// The predicate type a bundle's DSSE statement claims, read without verifying anything.
pub(crate) fn claimed_predicate_type(json: &[u8]) -> Option<String> {
    let bundle: Value = serde_json::from_slice(json).ok()?;
    let payload = bundle.pointer("/dsseEnvelope/payload")?.as_str()?;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .ok()?;
    let statement: Value = serde_json::from_slice(&payload).ok()?;
    statement
        .get("predicateType")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

async fn fetch(
    registry: &RegistryClient,
    host: &str,
    repository: &str,
    digest: &str,
) -> Result<ImageBundles> {
    let referrers = registry.referrers(host, repository, digest).await?;
    if referrers.descriptors.len() > MAX_REFERRERS {
        return Err(Error::Malformed(format!(
            "{host}/{repository}@{digest} has {} referrers; at most {MAX_REFERRERS} are read",
            referrers.descriptors.len()
        )));
    }
    let mut bundles = Vec::new();
    for d in referrers.descriptors.iter().filter(|d| may_hold_bundle(d)) {
        let Some(manifest) = registry.manifest(host, repository, &d.digest).await? else {
            return Err(Error::NotFound(format!(
                "referrer {host}/{repository}@{} listed for {digest}",
                d.digest
            )));
        };
        let parsed: ReferrerManifest = serde_json::from_slice(&manifest.bytes).map_err(|e| {
            Error::Malformed(format!(
                "referrer {host}/{repository}@{} is not an image manifest: {e}",
                d.digest
            ))
        })?;
        // A referrer of another image (a tag-schema index anyone could write) is not this
        // image's; its bundle would fail the digest binding anyway.
        if parsed.subject.as_ref().is_some_and(|s| s.digest != digest) {
            continue;
        }
        let typed = is_bundle_type(parsed.artifact_type.as_deref())
            || is_bundle_type(parsed.config.as_ref().map(|c| c.media_type.as_str()));
        let layer = parsed
            .layers
            .iter()
            .find(|l| is_bundle_type(Some(&l.media_type)))
            .or(parsed.layers.first().filter(|_| typed));
        let Some(layer) = layer else { continue };
        if layer.size > MAX_BUNDLE_BYTES {
            return Err(Error::TooLarge {
                what: format!("Sigstore bundle {host}/{repository}@{}", layer.digest),
                limit: MAX_BUNDLE_BYTES as usize,
            });
        }
        let json = registry.blob(host, repository, &layer.digest).await?;
        if json.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(Error::TooLarge {
                what: format!("Sigstore bundle {host}/{repository}@{}", layer.digest),
                limit: MAX_BUNDLE_BYTES as usize,
            });
        }
        bundles.push(BundleArtifact {
            manifest: d.digest.clone(),
            claimed_predicate_type: claimed_predicate_type(&json),
            json,
        });
    }
    Ok(ImageBundles {
        bundles,
        source: referrers.source,
    })
}
