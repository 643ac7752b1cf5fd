//! cosign's formats, byte-compatible with cosign 2.x: simple signing payloads (`.sig`),
//! DSSE envelopes with in-toto statements (`.att`), the predicates `cosign attest`
//! writes, and the manifests of signature images.

mod dsse;
mod gojson;
mod gostruct;
mod gotime;
mod layers;
mod payload;
mod predicate;
mod statement;

#[cfg(test)]
mod tests;

pub use dsse::{pae, Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE};
pub use layers::{signature_config, signature_manifest, Layer, SignatureManifest};
pub use payload::{SimpleSigning, COSIGN_SIGNATURE_TYPE};
pub use predicate::{
    predicate_for, predicate_for_at, predicate_type_uri, CUSTOM_PREDICATE_TYPE, VULN_PREDICATE_TYPE,
};
pub use statement::{Statement, Subject, STATEMENT_V01, STATEMENT_V1};

/// Media type of a `.sig` layer: a simple signing payload.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Media type of a `.att` layer: a DSSE envelope.
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Media type of the manifests cosign pushes.
pub const OCI_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of the config blob of the images cosign pushes.
pub const OCI_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";

/// Layer annotation: the base64 signature of the payload (empty on attestations).
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Layer annotation: the signing certificate, PEM.
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Layer annotation: the certificate chain, PEM.
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// Layer annotation: the Rekor bundle, JSON.
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// Layer annotation of attestations: the statement's predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";

fn tag_for(digest: &str, suffix: &str) -> String {
    format!("{}.{suffix}", digest.replacen(':', "-", 1))
}

/// The tag holding an image's signatures: `sha256:abc` → `sha256-abc.sig`.
pub fn signature_tag(digest: &str) -> String {
    tag_for(digest, "sig")
}

/// The tag holding an image's attestations: `sha256:abc` → `sha256-abc.att`.
pub fn attestation_tag(digest: &str) -> String {
    tag_for(digest, "att")
}
