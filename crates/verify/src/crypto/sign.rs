//! The signing key of `signet sign` / `signet attest`: what `cosign generate-key-pair`
//! creates, in cosign's encrypted PEM format.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use sigstore::crypto::signing_key::{
    kdf, COSIGN_PRIVATE_KEY_PEM_LABEL, SIGSTORE_PRIVATE_KEY_PEM_LABEL,
};
use sigstore::errors::SigstoreError;
use zeroize::Zeroizing;

use super::pem;
use super::verify::VerificationKey;
use crate::{Error, Result};

/// A cosign-compatible signing key: ECDSA P-256 with SHA-256 and ASN.1 DER signatures, like
/// `cosign generate-key-pair`. `Debug` shows only the public key's fingerprint.
pub struct SigningKey {
    key_pair: EcdsaKeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
    spki_der: Vec<u8>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fingerprint = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.spki_der);
        f.debug_struct("SigningKey")
            .field("algorithm", &"ECDSA P-256 SHA-256")
            .field("public_key_fingerprint", &hex::encode(fingerprint))
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> Result<Self> {
        let key_pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
            .map_err(|_| Error::Key("cannot generate an ECDSA P-256 key".into()))?;
        let pkcs8 = key_pair
            .to_pkcs8v1()
            .map_err(|_| Error::Key("cannot encode the new key as PKCS#8".into()))?;
        Self::from_pkcs8(Zeroizing::new(pkcs8.as_ref().to_vec()))
    }

    fn from_pkcs8(pkcs8: Zeroizing<Vec<u8>>) -> Result<Self> {
        let key_pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8).map_err(|e| {
                Error::Key(format!(
                "the private key is not an ECDSA P-256 key ({e}); Signet signs with P-256 keys \
                 like the ones `cosign generate-key-pair` creates"
            ))
            })?;
        let spki_der = key_pair
            .public_key()
            .as_der()
            .map_err(|_| Error::Key("cannot encode the public key".into()))?
            .as_ref()
            .to_vec();
        Ok(SigningKey {
            key_pair,
            pkcs8,
            spki_der,
        })
    }

    /// Reads cosign's encrypted private key PEM (`ENCRYPTED SIGSTORE PRIVATE KEY`, or the
    /// older `ENCRYPTED COSIGN PRIVATE KEY`: scrypt + NaCl secretbox over PKCS#8) with
    /// `password`.
    pub fn from_encrypted_pem(pem_text: &[u8], password: &[u8]) -> Result<Self> {
        let (label, encrypted) = pem::decode(pem_text)?;
        if label != SIGSTORE_PRIVATE_KEY_PEM_LABEL && label != COSIGN_PRIVATE_KEY_PEM_LABEL {
            return Err(Error::Key(format!(
                "PEM block {label:?} is not an encrypted cosign private key \
                 (expected {SIGSTORE_PRIVATE_KEY_PEM_LABEL:?} or {COSIGN_PRIVATE_KEY_PEM_LABEL:?})"
            )));
        }
        // sigstore's own decryption (what `SigStoreKeyPair::from_encrypted_pem` runs), called
        // directly so that scrypt runs once and a wrong password is named as such.
        let pkcs8 = kdf::decrypt(&encrypted, password).map_err(|e| match e {
            // sigstore reports a failed secretbox open under this variant.
            SigstoreError::PrivateKeyEncryptError(_) => Error::Key(
                "cannot decrypt the private key: wrong password (or a corrupted key file)".into(),
            ),
            other => Error::Key(format!("unreadable encrypted private key: {other}")),
        })?;
        Self::from_pkcs8(Zeroizing::new(pkcs8))
    }

    /// The key in the format `cosign generate-key-pair` writes (`ENCRYPTED SIGSTORE PRIVATE
    /// KEY`, scrypt + secretbox), encrypted with `password`; cosign 2.x reads it.
    pub fn to_encrypted_pem(&self, password: &[u8]) -> Result<Zeroizing<String>> {
        let encrypted = kdf::encrypt(&self.pkcs8, password)
            .map_err(|e| Error::Key(format!("cannot encrypt the private key: {e}")))?;
        Ok(Zeroizing::new(pem::encode(
            SIGSTORE_PRIVATE_KEY_PEM_LABEL,
            &encrypted,
        )))
    }

    /// The public key as a `PUBLIC KEY` PEM block, as in cosign's `cosign.pub`.
    pub fn public_key_pem(&self) -> Result<String> {
        Ok(pem::encode("PUBLIC KEY", &self.spki_der))
    }

    /// The public key, for checking this key's signatures.
    pub fn verification_key(&self) -> Result<VerificationKey> {
        VerificationKey::from_spki_der(&self.spki_der)
    }

    /// An ASN.1 DER ECDSA signature over SHA-256(`message`), as cosign signs.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let signature = self
            .key_pair
            .sign(&SystemRandom::new(), message)
            .map_err(|_| Error::Signing("ECDSA signing failed".into()))?;
        Ok(signature.as_ref().to_vec())
    }
}
