//! Certificate signatures: the algorithms Go's `crypto/x509` checks for Sigstore chains
//! (ECDSA and RSA PKCS#1 v1.5 with SHA-256/384/512, Ed25519), with aws-lc-rs.

use signet_policy::pem_material::KeyAlgorithm;
use signet_policy::SignatureAlgorithm;
use x509_parser::certificate::X509Certificate;

use crate::crypto::VerificationKey;

/// Checks `child`'s signature with `issuer`'s key.
pub(super) fn check_signature(
    child: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
) -> Result<(), String> {
    let oid = child.signature_algorithm.algorithm.to_id_string();
    let (family, hash) = match oid.as_str() {
        "1.2.840.10045.4.3.2" => ("ecdsa", SignatureAlgorithm::Sha256),
        "1.2.840.10045.4.3.3" => ("ecdsa", SignatureAlgorithm::Sha384),
        "1.2.840.10045.4.3.4" => ("ecdsa", SignatureAlgorithm::Sha512),
        "1.2.840.113549.1.1.11" => ("rsa", SignatureAlgorithm::Sha256),
        "1.2.840.113549.1.1.12" => ("rsa", SignatureAlgorithm::Sha384),
        "1.2.840.113549.1.1.13" => ("rsa", SignatureAlgorithm::Sha512),
        "1.3.101.112" => ("ed25519", SignatureAlgorithm::Sha512),
        other => {
            return Err(format!(
                "unsupported certificate signature algorithm {other}"
            ))
        }
    };
    let key = VerificationKey::from_spki_der(issuer.public_key().raw)
        .map_err(|e| format!("unusable public key: {e}"))?;
    let key_family = match key.algorithm() {
        KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 | KeyAlgorithm::EcdsaP521 => "ecdsa",
        KeyAlgorithm::Rsa => "rsa",
        KeyAlgorithm::Ed25519 => "ed25519",
    };
    if key_family != family {
        return Err(format!(
            "a {key_family} key cannot check a {family} signature"
        ));
    }
    key.verify(
        child.tbs_certificate.as_ref(),
        &child.signature_value.data,
        hash,
    )
    .map_err(|_| format!("its signature on {} does not verify", child.subject()))
}
