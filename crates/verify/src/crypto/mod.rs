//! Signature primitives with cosign's semantics, backed by aws-lc-rs.
//!
//! [`VerificationKey`] checks signatures the way cosign's `LoadVerifier` does for a public
//! key and a `signatureAlgorithm`: ECDSA (P-256, P-384, P-521) over the chosen hash with
//! ASN.1 DER signatures, RSA PKCS#1 v1.5, pure Ed25519. [`SigningKey`] is the ECDSA P-256
//! key that `cosign generate-key-pair` creates, read from and written to cosign's encrypted
//! PEM format.

mod der;
mod pem;
mod sign;
mod verify;

#[cfg(test)]
mod sign_tests;
#[cfg(test)]
mod tests;

pub use sign::SigningKey;
pub use verify::{SignatureError, VerificationKey};
