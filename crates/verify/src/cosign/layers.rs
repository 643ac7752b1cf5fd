//! The OCI image manifest of a `.sig` / `.att` image: reading its layers and writing the
//! manifest and config that cosign 2.x pushes (go-containerregistry `v1.Manifest` /
//! `v1.ConfigFile` of cosign's `empty.Signatures()` with the layers appended).

use std::collections::BTreeMap;

use aws_lc_rs::digest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::payload::is_sha256_digest;
use super::{
    gojson, BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, DSSE_MEDIA_TYPE,
    OCI_CONFIG_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE, PREDICATE_TYPE_ANNOTATION,
    SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE,
};
use crate::{Error, Result};

/// The manifest of a cosign signature or attestation image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureManifest {
    /// One layer per signature or attestation.
    pub layers: Vec<Layer>,
}

/// A layer descriptor: one signature (simple signing payload) or attestation (DSSE).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Layer {
    /// `mediaType`.
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// `digest` of the blob, `sha256:<hex>`.
    pub digest: String,
    /// `size` of the blob in bytes.
    pub size: u64,
    /// `annotations`: signature, certificate, chain, bundle, predicate type.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawManifest {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(default)]
    layers: Vec<Layer>,
}

impl SignatureManifest {
    /// Reads an image manifest (OCI or Docker schema 2).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let raw: RawManifest = serde_json::from_slice(bytes)
            .map_err(|e| Error::Malformed(format!("signature manifest: {e}")))?;
        if raw.schema_version != 2 {
            return Err(Error::Malformed(format!(
                "signature manifest: schemaVersion {} (expected 2)",
                raw.schema_version
            )));
        }
        if let Some(bad) = raw.layers.iter().find(|l| !is_sha256_digest(&l.digest)) {
            return Err(Error::Malformed(format!(
                "signature manifest: layer digest {:?} is not sha256:<64 hex>",
                bad.digest
            )));
        }
        Ok(SignatureManifest { layers: raw.layers })
    }
}

impl Layer {
    fn new(media_type: &str, blob: &[u8], annotations: BTreeMap<String, String>) -> Self {
        Layer {
            media_type: media_type.to_string(),
            digest: sha256_digest(blob),
            size: blob.len() as u64,
            annotations,
        }
    }

    /// The layer of a key-based signature: `payload` (simple signing JSON) with its
    /// base64 signature, as `cosign sign` pushes it.
    pub fn simple_signing(payload: &[u8], signature: &[u8]) -> Self {
        let annotations =
            BTreeMap::from([(SIGNATURE_ANNOTATION.to_string(), STANDARD.encode(signature))]);
        Layer::new(SIMPLE_SIGNING_MEDIA_TYPE, payload, annotations)
    }

    /// The layer of an attestation: the DSSE `envelope` JSON, an empty signature
    /// annotation and the `predicateType` annotation, as `cosign attest` pushes it.
    pub fn attestation(envelope: &[u8], predicate_type: &str) -> Self {
        let annotations = BTreeMap::from([
            (SIGNATURE_ANNOTATION.to_string(), String::new()),
            (
                PREDICATE_TYPE_ANNOTATION.to_string(),
                predicate_type.to_string(),
            ),
        ]);
        Layer::new(DSSE_MEDIA_TYPE, envelope, annotations)
    }

    /// Adds the signing certificate and chain (PEM) annotations, as cosign does whenever a
    /// certificate is given (the chain annotation may be empty).
    pub fn with_certificate(mut self, certificate_pem: &str, chain_pem: &str) -> Self {
        self.annotations.insert(
            CERTIFICATE_ANNOTATION.to_string(),
            certificate_pem.to_string(),
        );
        self.annotations
            .insert(CHAIN_ANNOTATION.to_string(), chain_pem.to_string());
        self
    }

    fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Whether the layer holds a simple signing payload (a `.sig` signature).
    pub fn is_simple_signing(&self) -> bool {
        self.media_type == SIMPLE_SIGNING_MEDIA_TYPE
    }

    /// Whether the layer holds a DSSE envelope (a `.att` attestation).
    pub fn is_dsse(&self) -> bool {
        self.media_type == DSSE_MEDIA_TYPE
    }

    /// The base64 signature annotation; `None` when absent or empty (attestation layers
    /// carry an empty one: their signature is inside the envelope).
    pub fn signature_b64(&self) -> Option<&str> {
        self.annotation(SIGNATURE_ANNOTATION)
    }

    /// The signature annotation decoded (cosign writes standard base64).
    pub fn signature(&self) -> Result<Option<Vec<u8>>> {
        self.signature_b64()
            .map(|b64| {
                STANDARD.decode(b64.trim()).map_err(|_| {
                    Error::Malformed(format!(
                        "layer {}: signature annotation is not base64",
                        self.digest
                    ))
                })
            })
            .transpose()
    }

    /// The signing certificate (PEM), for keyless and certificate signatures.
    pub fn certificate(&self) -> Option<&str> {
        self.annotation(CERTIFICATE_ANNOTATION)
    }

    /// The certificate chain (PEM, concatenated).
    pub fn chain(&self) -> Option<&str> {
        self.annotation(CHAIN_ANNOTATION)
    }

    /// The Rekor bundle JSON (`{"SignedEntryTimestamp", "Payload": {...}}`).
    pub fn bundle(&self) -> Option<&str> {
        self.annotation(BUNDLE_ANNOTATION)
    }

    /// The `predicateType` annotation of an attestation layer (a hint: the statement inside
    /// the signed envelope is the authority).
    pub fn predicate_type(&self) -> Option<&str> {
        self.annotation(PREDICATE_TYPE_ANNOTATION)
    }
}

fn sha256_digest(blob: &[u8]) -> String {
    format!(
        "sha256:{}",
        hex::encode(digest::digest(&digest::SHA256, blob))
    )
}

/// The config blob cosign pushes with a signature image whose layers have the digests
/// `layer_digests` (each layer is its own diff ID: signature blobs are not compressed).
pub fn signature_config(layer_digests: &[&str]) -> Vec<u8> {
    let zero = Value::String(super::gotime::ZERO_TIME.to_string());
    let config = json!({
        "architecture": "",
        "created": zero,
        "history": layer_digests.iter().map(|_| json!({"created": zero})).collect::<Vec<_>>(),
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": layer_digests},
        "config": {},
    });
    gojson::to_vec(&config)
}

/// The manifest cosign pushes for a signature image: OCI manifest, OCI config of
/// `config_digest` / `config_size`, then `layers` in order.
pub fn signature_manifest(config_digest: &str, config_size: u64, layers: &[Layer]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + layers.len() * 256);
    out.extend_from_slice(br#"{"schemaVersion":2,"mediaType":"#);
    gojson::write_str(&mut out, OCI_MANIFEST_MEDIA_TYPE);
    out.extend_from_slice(br#","config":"#);
    write_descriptor(
        &mut out,
        OCI_CONFIG_MEDIA_TYPE,
        config_size,
        config_digest,
        &BTreeMap::new(),
    );
    out.extend_from_slice(br#","layers":["#);
    for (i, layer) in layers.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_descriptor(
            &mut out,
            &layer.media_type,
            layer.size,
            &layer.digest,
            &layer.annotations,
        );
    }
    out.extend_from_slice(b"]}");
    out
}

/// A go-containerregistry `v1.Descriptor`: mediaType, size, digest, then annotations
/// (omitted when empty, keys sorted).
fn write_descriptor(
    out: &mut Vec<u8>,
    media_type: &str,
    size: u64,
    digest: &str,
    annotations: &BTreeMap<String, String>,
) {
    out.extend_from_slice(br#"{"mediaType":"#);
    gojson::write_str(out, media_type);
    out.extend_from_slice(br#","size":"#);
    gojson::write_int(out, size);
    out.extend_from_slice(br#","digest":"#);
    gojson::write_str(out, digest);
    if !annotations.is_empty() {
        out.extend_from_slice(br#","annotations":"#);
        let map: Map<String, Value> = annotations
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        gojson::write(out, &Value::Object(map));
    }
    out.push(b'}');
}
