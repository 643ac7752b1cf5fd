//! Public keys and certificates given as PEM in policies. Parsing only: the verification
//! engine does the cryptography, from the DER kept here.

use serde::{Serialize, Serializer};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey as ParsedKey;
use x509_parser::x509::SubjectPublicKeyInfo;

/// The algorithm of a public key, as far as signature verification needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256.
    EcdsaP256,
    /// ECDSA on NIST P-384.
    EcdsaP384,
    /// ECDSA on NIST P-521.
    EcdsaP521,
    /// RSA (PKCS#1 v1.5 or PSS signatures).
    Rsa,
    /// Ed25519.
    Ed25519,
}

/// A public key from a PEM `PUBLIC KEY` block.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublicKey {
    /// DER of the SubjectPublicKeyInfo.
    pub spki_der: Vec<u8>,
    /// The key's algorithm.
    pub algorithm: KeyAlgorithm,
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_pem())
    }
}

impl PublicKey {
    /// The key as a PEM `PUBLIC KEY` block.
    pub fn to_pem(&self) -> String {
        pem::encode(&pem::Pem::new("PUBLIC KEY", self.spki_der.clone()))
    }

    /// Reads one SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, String> {
        let (rest, spki) = SubjectPublicKeyInfo::from_der(der)
            .map_err(|e| format!("not a DER SubjectPublicKeyInfo: {e}"))?;
        if !rest.is_empty() {
            return Err("trailing bytes after the SubjectPublicKeyInfo".into());
        }
        let algorithm = algorithm_of(&spki)?;
        Ok(PublicKey {
            spki_der: der.to_vec(),
            algorithm,
        })
    }
}

fn algorithm_of(spki: &SubjectPublicKeyInfo<'_>) -> Result<KeyAlgorithm, String> {
    let parsed = spki
        .parsed()
        .map_err(|e| format!("unreadable public key: {e}"))?;
    match parsed {
        ParsedKey::RSA(rsa) => {
            if rsa.key_size() < 2048 {
                return Err(format!(
                    "RSA key of {} bits is too short (2048 at least)",
                    rsa.key_size()
                ));
            }
            Ok(KeyAlgorithm::Rsa)
        }
        ParsedKey::EC(point) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string());
            let algorithm = match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => KeyAlgorithm::EcdsaP256,
                Some("1.3.132.0.34") => KeyAlgorithm::EcdsaP384,
                Some("1.3.132.0.35") => KeyAlgorithm::EcdsaP521,
                Some(other) => return Err(format!("unsupported elliptic curve {other}")),
                None => return Err("EC key without a named curve".into()),
            };
            if point.data().is_empty() {
                return Err("EC key without a point".into());
            }
            Ok(algorithm)
        }
        ParsedKey::Unknown(_) if spki.algorithm.algorithm.to_id_string() == "1.3.101.112" => {
            Ok(KeyAlgorithm::Ed25519)
        }
        _ => Err(format!(
            "unsupported key algorithm {}",
            spki.algorithm.algorithm.to_id_string()
        )),
    }
}

/// An X.509 certificate from a PEM `CERTIFICATE` block.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Certificate {
    /// DER of the certificate.
    pub der: Vec<u8>,
}

impl Serialize for Certificate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&pem::encode(&pem::Pem::new(
            "CERTIFICATE",
            self.der.clone(),
        )))
    }
}

/// Parses every PEM block of `text` as a public key. At least one is required, and a
/// block of another type, or text that is not PEM at all, is an error: a truncated key
/// must never load as "no key".
pub fn parse_public_keys(text: &str) -> Result<Vec<PublicKey>, String> {
    let blocks = parse_blocks(text)?;
    blocks
        .iter()
        .enumerate()
        .map(|(i, block)| {
            if block.tag() != "PUBLIC KEY" {
                return Err(format!(
                    "PEM block {} is {:?}, expected \"PUBLIC KEY\"",
                    i + 1,
                    block.tag()
                ));
            }
            PublicKey::from_spki_der(block.contents())
                .map_err(|e| format!("PEM block {}: {e}", i + 1))
        })
        .collect()
}

/// Parses every PEM block of `text` as an X.509 certificate; at least one is required.
pub fn parse_certificates(text: &str) -> Result<Vec<Certificate>, String> {
    let blocks = parse_blocks(text)?;
    blocks
        .iter()
        .enumerate()
        .map(|(i, block)| {
            if block.tag() != "CERTIFICATE" {
                return Err(format!(
                    "PEM block {} is {:?}, expected \"CERTIFICATE\"",
                    i + 1,
                    block.tag()
                ));
            }
            X509Certificate::from_der(block.contents())
                .map_err(|e| format!("PEM block {}: not an X.509 certificate: {e}", i + 1))?;
            Ok(Certificate {
                der: block.contents().to_vec(),
            })
        })
        .collect()
}

fn parse_blocks(text: &str) -> Result<Vec<pem::Pem>, String> {
    let blocks = pem::parse_many(text).map_err(|e| format!("malformed PEM: {e}"))?;
    if blocks.is_empty() {
        return Err("no PEM block found".into());
    }
    // `parse_many` skips text between blocks; anything but whitespace there means a block
    // was mangled (a lost BEGIN line, for instance), so count the markers as well.
    let begins = text.matches("-----BEGIN ").count();
    if begins != blocks.len() {
        return Err(format!(
            "malformed PEM: {begins} BEGIN markers but {} complete blocks",
            blocks.len()
        ));
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM
5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==
-----END PUBLIC KEY-----";

    #[test]
    fn reads_p256_key() {
        let keys = parse_public_keys(P256).expect("valid key");
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].algorithm, KeyAlgorithm::EcdsaP256);
        assert_eq!(
            parse_public_keys(&keys[0].to_pem()).expect("round trip"),
            keys
        );
    }

    #[test]
    fn reads_many_keys() {
        let two = format!("{P256}\n{P256}\n");
        assert_eq!(parse_public_keys(&two).expect("two keys").len(), 2);
    }

    #[test]
    fn refuses_truncated_key() {
        let truncated = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE...\n-----END PUBLIC KEY-----";
        let err = parse_public_keys(truncated).expect_err("truncated");
        assert!(err.contains("PEM"), "{err}");
    }

    #[test]
    fn refuses_non_pem_and_wrong_block() {
        assert!(parse_public_keys("hello").is_err());
        let cert_tagged = P256.replace("PUBLIC KEY", "CERTIFICATE");
        let err = parse_public_keys(&cert_tagged).expect_err("wrong tag");
        assert!(err.contains("expected \"PUBLIC KEY\""), "{err}");
        assert!(parse_certificates(P256).is_err());
    }

    #[test]
    fn refuses_missing_end_marker() {
        let broken = format!("{P256}\n-----BEGIN PUBLIC KEY-----\nMFkw\n");
        assert!(parse_public_keys(&broken).is_err());
    }
}
