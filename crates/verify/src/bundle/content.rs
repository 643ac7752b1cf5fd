//! The bundle's content against the artifact: a message signature over the artifact (or,
//! given only its digest, over the SHA-256 digest), or a DSSE envelope whose in-toto
//! statement names the artifact as a subject.

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::signature::{self, ParsedPublicKey};
use serde_json::Value;
use signet_policy::pem_material::KeyAlgorithm;
use signet_policy::SignatureAlgorithm;

use super::error::{BundleError, FailureClass};
use super::model::Content;
use super::Artifact;
use crate::cosign::{pae, IN_TOTO_PAYLOAD_TYPE};
use crate::crypto::VerificationKey;

fn err(class: FailureClass, msg: impl Into<String>) -> BundleError {
    BundleError::new(class, msg)
}

/// Checks an ECDSA P-256 or RSA PKCS#1 v1.5 signature over a SHA-256 `digest`, for when the
/// artifact itself is not at hand.
fn verify_prehashed(key: &VerificationKey, digest: &[u8; 32], sig: &[u8]) -> Result<(), String> {
    let algorithm: &'static dyn signature::VerificationAlgorithm = match key.algorithm() {
        KeyAlgorithm::EcdsaP256 => &signature::ECDSA_P256_SHA256_ASN1,
        KeyAlgorithm::Rsa => &signature::RSA_PKCS1_2048_8192_SHA256,
        other => {
            return Err(format!(
                "a {other:?} signature cannot be checked against a SHA-256 digest: \
                 verify the artifact file instead"
            ))
        }
    };
    let parsed = ParsedPublicKey::new(algorithm, key.spki_der())
        .map_err(|e| format!("unusable key: {e}"))?;
    let digest = Digest::import_less_safe(digest, &digest::SHA256)
        .map_err(|_| "cannot prepare the digest".to_owned())?;
    parsed.verify_digest_sig(&digest, sig).map_err(|_| {
        format!(
            "signature does not verify with key {}",
            &key.fingerprint()[..12]
        )
    })
}

/// The in-toto statement's subjects must include the artifact's SHA-256.
fn check_subject(payload: &[u8], artifact: &[u8; 32]) -> Result<(), BundleError> {
    let statement: Value = serde_json::from_slice(payload).map_err(|_| {
        err(
            FailureClass::Malformed,
            "the DSSE payload is not an in-toto statement (not JSON)",
        )
    })?;
    let wanted = hex::encode(artifact);
    let subjects = statement
        .get("subject")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let named = subjects.iter().any(|s| {
        s.pointer("/digest/sha256")
            .and_then(Value::as_str)
            .is_some_and(|d| d.eq_ignore_ascii_case(&wanted))
    });
    if named {
        Ok(())
    } else {
        Err(err(
            FailureClass::ArtifactMismatch,
            format!("the in-toto statement has no subject with digest sha256:{wanted}"),
        ))
    }
}

/// Verifies the content's signature with `key` and its binding to `artifact`; returns the
/// artifact's SHA-256.
pub(crate) fn verify(
    content: &Content,
    artifact: &Artifact<'_>,
    key: &VerificationKey,
) -> Result<[u8; 32], BundleError> {
    let artifact_digest = artifact.sha256();
    match content {
        Content::Message { digest, signature } => {
            if let Some((algorithm, hint)) = digest {
                if algorithm != "SHA2_256" {
                    return Err(err(
                        FailureClass::Malformed,
                        format!("message digest algorithm {algorithm:?} is not supported"),
                    ));
                }
                if hint.as_slice() != artifact_digest {
                    return Err(err(
                        FailureClass::ArtifactMismatch,
                        format!(
                            "the artifact (sha256:{}) is not the one the bundle's message digest names (sha256:{})",
                            hex::encode(artifact_digest),
                            hex::encode(hint)
                        ),
                    ));
                }
            }
            let checked = match artifact {
                Artifact::Bytes(bytes) => key
                    .verify(bytes, signature, SignatureAlgorithm::Sha256)
                    .map_err(|e| e.to_string()),
                Artifact::Sha256(d) => verify_prehashed(key, d, signature),
            };
            checked.map_err(|e| {
                err(
                    FailureClass::Signature,
                    format!("the signature is not over this artifact by this signer: {e}"),
                )
            })?;
        }
        Content::Dsse {
            payload_type,
            payload,
            signature,
        } => {
            if payload_type != IN_TOTO_PAYLOAD_TYPE {
                return Err(err(
                    FailureClass::Malformed,
                    format!("DSSE payload type {payload_type:?} is not {IN_TOTO_PAYLOAD_TYPE}"),
                ));
            }
            key.verify(
                &pae(payload_type, payload),
                signature,
                SignatureAlgorithm::Sha256,
            )
            .map_err(|e| {
                err(
                    FailureClass::Signature,
                    format!("the DSSE envelope signature does not verify: {e}"),
                )
            })?;
            check_subject(payload, &artifact_digest)?;
        }
    }
    Ok(artifact_digest)
}
