//! Signature checks with the answers cosign gives.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};
use signet_policy::pem_material::{KeyAlgorithm, PublicKey};
use signet_policy::SignatureAlgorithm;

use super::der;
use crate::{Error, Result};

/// Why a signature did not verify. `Display` gives a short reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureError(String);

impl SignatureError {
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        SignatureError(reason.into())
    }
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SignatureError {}

/// A public key ready to check signatures, backed by aws-lc-rs. Cheap to clone: the parsed
/// key is shared.
#[derive(Clone)]
pub struct VerificationKey(Arc<Inner>);

struct Inner {
    spki_der: Vec<u8>,
    algorithm: KeyAlgorithm,
    fingerprint: String,
    checker: Checker,
}

// Keys are parsed once here, so a check never re-parses DER or re-validates a point.
enum Checker {
    /// Parsed for the curve's own hash, whose length is the curve order's byte length. Any
    /// other hash is fitted to that length and checked with `verify_digest_sig`, which is
    /// what Go's crypto/ecdsa (cosign) does with a digest of another size: truncate a longer
    /// one to the order's length, read a shorter one as a smaller integer.
    Ecdsa {
        key: ParsedPublicKey,
        native: SignatureAlgorithm,
        native_digest: &'static digest::Algorithm,
    },
    /// One parsed key per hash cosign accepts for RSA (sha256, sha384, sha512).
    Rsa {
        sha256: ParsedPublicKey,
        sha384: ParsedPublicKey,
        sha512: ParsedPublicKey,
    },
    Ed25519(ParsedPublicKey),
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("algorithm", &self.0.algorithm)
            .field("fingerprint", &self.0.fingerprint)
            .finish()
    }
}

fn parse(
    algorithm: &'static dyn VerificationAlgorithm,
    spki: &[u8],
    what: &str,
) -> Result<ParsedPublicKey> {
    ParsedPublicKey::new(algorithm, spki)
        .map_err(|e| Error::Key(format!("{what} key rejected: {e}")))
}

fn digest_algorithm(hash: SignatureAlgorithm) -> &'static digest::Algorithm {
    match hash {
        SignatureAlgorithm::Sha224 => &digest::SHA224,
        SignatureAlgorithm::Sha256 => &digest::SHA256,
        SignatureAlgorithm::Sha384 => &digest::SHA384,
        SignatureAlgorithm::Sha512 => &digest::SHA512,
    }
}

fn hash_name(hash: SignatureAlgorithm) -> &'static str {
    match hash {
        SignatureAlgorithm::Sha224 => "sha224",
        SignatureAlgorithm::Sha256 => "sha256",
        SignatureAlgorithm::Sha384 => "sha384",
        SignatureAlgorithm::Sha512 => "sha512",
    }
}

impl VerificationKey {
    /// A key from the policy crate's parsed PEM key.
    pub fn from_public_key(key: &PublicKey) -> Result<Self> {
        let spki = key.spki_der.as_slice();
        let checker = match key.algorithm {
            KeyAlgorithm::EcdsaP256 => Checker::Ecdsa {
                key: parse(&signature::ECDSA_P256_SHA256_ASN1, spki, "ECDSA P-256")?,
                native: SignatureAlgorithm::Sha256,
                native_digest: &digest::SHA256,
            },
            KeyAlgorithm::EcdsaP384 => Checker::Ecdsa {
                key: parse(&signature::ECDSA_P384_SHA384_ASN1, spki, "ECDSA P-384")?,
                native: SignatureAlgorithm::Sha384,
                native_digest: &digest::SHA384,
            },
            // P-521's order is 66 bytes: every supported hash is shorter, so fitting to the
            // 64 bytes of SHA-512 only left-pads, which keeps the integer Go would use.
            KeyAlgorithm::EcdsaP521 => Checker::Ecdsa {
                key: parse(&signature::ECDSA_P521_SHA512_ASN1, spki, "ECDSA P-521")?,
                native: SignatureAlgorithm::Sha512,
                native_digest: &digest::SHA512,
            },
            KeyAlgorithm::Rsa => {
                let bits = aws_lc_rs::rsa::PublicEncryptingKey::from_der(spki)
                    .map_err(|e| Error::Key(format!("RSA key rejected: {e}")))?
                    .key_size_bits();
                if !(2048..=8192).contains(&bits) {
                    return Err(Error::Key(format!(
                        "RSA key of {bits} bits: only 2048 to 8192 bits are accepted"
                    )));
                }
                Checker::Rsa {
                    sha256: parse(&signature::RSA_PKCS1_2048_8192_SHA256, spki, "RSA")?,
                    sha384: parse(&signature::RSA_PKCS1_2048_8192_SHA384, spki, "RSA")?,
                    sha512: parse(&signature::RSA_PKCS1_2048_8192_SHA512, spki, "RSA")?,
                }
            }
            KeyAlgorithm::Ed25519 => Checker::Ed25519(parse(&signature::ED25519, spki, "Ed25519")?),
        };
        Ok(VerificationKey(Arc::new(Inner {
            spki_der: key.spki_der.clone(),
            algorithm: key.algorithm,
            fingerprint: hex::encode(digest::digest(&digest::SHA256, spki)),
            checker,
        })))
    }

    /// A key from the DER of a SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        let key = PublicKey::from_spki_der(der).map_err(Error::Key)?;
        Self::from_public_key(&key)
    }

    /// The public key of an X.509 certificate (DER), as keyless and certificate attestors
    /// use it. The certificate is not validated here.
    pub fn from_certificate_der(der: &[u8]) -> Result<Self> {
        let spki = der::certificate_spki(der)
            .ok_or_else(|| Error::Key("not a DER X.509 certificate".into()))?;
        Self::from_spki_der(spki)
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.0.algorithm
    }

    /// The DER of the key's SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.0.spki_der
    }

    /// Hex SHA-256 of the SPKI DER: stable id for caches and messages.
    pub fn fingerprint(&self) -> String {
        self.0.fingerprint.clone()
    }

    /// Whether `hash` can be used with this key, as cosign decides when it loads a verifier:
    /// RSA keys take sha256, sha384 or sha512; ECDSA keys all four; Ed25519 ignores it.
    pub fn supports(&self, hash: SignatureAlgorithm) -> Result<()> {
        match (&self.0.checker, hash) {
            (Checker::Rsa { .. }, SignatureAlgorithm::Sha224) => Err(Error::Key(format!(
                "signatureAlgorithm {} is not supported for RSA keys (sha256, sha384, sha512 are)",
                hash_name(hash)
            ))),
            _ => Ok(()),
        }
    }

    /// Checks `signature` over `message` with cosign's semantics: ECDSA is an ASN.1 DER
    /// signature over `hash(message)`; RSA is PKCS#1 v1.5 with `hash`; Ed25519 is pure
    /// Ed25519 over the message (`hash` ignored). Never panics, whatever the bytes.
    pub fn verify(
        &self,
        message: &[u8],
        signature: &[u8],
        hash: SignatureAlgorithm,
    ) -> Result<(), SignatureError> {
        let checked = match &self.0.checker {
            Checker::Ecdsa {
                key,
                native,
                native_digest,
            } => {
                if hash == *native {
                    key.verify_sig(message, signature)
                } else {
                    let digest = fitted_digest(message, hash, native_digest)?;
                    key.verify_digest_sig(&digest, signature)
                }
            }
            Checker::Rsa {
                sha256,
                sha384,
                sha512,
            } => match hash {
                SignatureAlgorithm::Sha256 => sha256.verify_sig(message, signature),
                SignatureAlgorithm::Sha384 => sha384.verify_sig(message, signature),
                SignatureAlgorithm::Sha512 => sha512.verify_sig(message, signature),
                SignatureAlgorithm::Sha224 => {
                    return Err(SignatureError::new(
                        "signatureAlgorithm sha224 is not supported for RSA keys",
                    ))
                }
            },
            Checker::Ed25519(key) => key.verify_sig(message, signature),
        };
        checked.map_err(|_| {
            SignatureError::new(format!(
                "{} signature does not verify with key {}",
                algorithm_name(self.0.algorithm),
                short_fingerprint(&self.0.fingerprint)
            ))
        })
    }
}

/// `hash(message)` truncated or left-padded to the length of `native`, labelled `native`.
fn fitted_digest(
    message: &[u8],
    hash: SignatureAlgorithm,
    native: &'static digest::Algorithm,
) -> Result<Digest, SignatureError> {
    let computed = digest::digest(digest_algorithm(hash), message);
    let bytes = computed.as_ref();
    let len = native.output_len();
    let mut fitted = [0u8; digest::MAX_OUTPUT_LEN];
    if bytes.len() >= len {
        // The orders of P-256 and P-384 are whole bytes long, so keeping the leftmost bytes
        // is exactly the leftmost-bits truncation of ECDSA.
        fitted[..len].copy_from_slice(&bytes[..len]);
    } else {
        // A shorter digest is the same integer with leading zero bytes.
        fitted[len - bytes.len()..len].copy_from_slice(bytes);
    }
    Digest::import_less_safe(&fitted[..len], native)
        .map_err(|_| SignatureError::new("cannot prepare the message digest"))
}

fn algorithm_name(algorithm: KeyAlgorithm) -> &'static str {
    match algorithm {
        KeyAlgorithm::EcdsaP256 => "ECDSA P-256",
        KeyAlgorithm::EcdsaP384 => "ECDSA P-384",
        KeyAlgorithm::EcdsaP521 => "ECDSA P-521",
        KeyAlgorithm::Rsa => "RSA",
        KeyAlgorithm::Ed25519 => "Ed25519",
    }
}

fn short_fingerprint(fingerprint: &str) -> &str {
    fingerprint.get(..12).unwrap_or(fingerprint)
}
