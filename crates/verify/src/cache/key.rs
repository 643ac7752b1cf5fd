//! The cache key: SHA-256 over the image digest and location, the entry as written
//! (attestors, attestations with their conditions, repository, credentials), the public
//! keys its named keys resolve to now, the revisions of the named registry-credential
//! sets it reads with, and the trust root. Any change to one of them gives a new key, so
//! no stale verdict is ever answered. An entry allowing an insecure registry
//! (`imageRegistryCredentials.allowInsecureRegistry`, part of the entry as written) has
//! its own key, so its verdict is never the answer for an entry that reads the same image
//! over verified TLS only; likewise an entry naming `imageRegistryCredentials.secrets`,
//! whose key also changes whenever one of those sets is replaced (a deleted set gives an
//! error verdict before any key is made).

use aws_lc_rs::digest::{Context, SHA256};
use signet_policy::image::ImageRef;
use signet_policy::{AttestorKind, AttestorSet, ImageVerification, KeySource, SecretReference};

use crate::engine::Verifier;
use crate::{Error, Result};

/// A verdict's key: the SHA-256 of everything its verdict depends on. Kept in process as
/// the 32 bytes themselves (a fraction of the hex string's memory and hashing, for each of
/// up to `max_entries` verdicts and every lookup); the shared tier stores it under
/// [`VerdictKey::shared`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerdictKey(pub [u8; 32]);

impl VerdictKey {
    /// The key in the shared tier: `signet:v1:` and the digest in hex, as every replica and
    /// every earlier version writes it.
    pub fn shared(&self) -> String {
        format!("signet:v1:{}", hex::encode(self.0))
    }
}

/// The key of `entry` on `image` at `digest` under the trust root `trust`, read with the
/// credentials known as `credentials` ([`RegistryClient::credentials_identity`]).
///
/// [`RegistryClient::credentials_identity`]: crate::registry::RegistryClient::credentials_identity
pub(super) async fn cache_key(
    verifier: &Verifier,
    trust: &str,
    credentials: &str,
    image: &ImageRef,
    digest: &str,
    entry: &ImageVerification,
) -> Result<VerdictKey> {
    let mut h = Context::new(&SHA256);
    for part in [digest, image.registry(), image.repository(), trust] {
        h.update(part.as_bytes());
        h.update(b"\0");
    }
    h.update(&written_digest(entry)?);
    // Left out when empty, so the keys of entries without secrets stay what they were.
    if !credentials.is_empty() {
        h.update(b"\0credentials\0");
        h.update(credentials.as_bytes());
    }
    let mut secrets = Vec::new();
    for set in entry
        .attestors
        .iter()
        .chain(entry.attestations.iter().flat_map(|a| a.attestors.iter()))
    {
        collect_secrets(set, &mut secrets);
    }
    for secret in secrets {
        h.update(b"\0secret\0");
        h.update(secret.namespace.as_bytes());
        h.update(b"/");
        h.update(secret.name.as_bytes());
        for key in verifier.keys.resolve(secret).await? {
            h.update(b"\0");
            h.update(&key.spki_der);
        }
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(h.finish().as_ref());
    Ok(VerdictKey(key))
}

/// SHA-256 of `entry` as written, worked out once per loaded entry.
fn written_digest(entry: &ImageVerification) -> Result<[u8; 32]> {
    if let Some(d) = entry.written_digest.get() {
        return Ok(*d);
    }
    let written = serde_json::to_vec(entry).map_err(|e| Error::Malformed(e.to_string()))?;
    let mut d = [0u8; 32];
    d.copy_from_slice(aws_lc_rs::digest::digest(&SHA256, &written).as_ref());
    Ok(*entry.written_digest.get_or_init(|| d))
}

/// Every named key of `set`, nested sets included.
fn collect_secrets<'a>(set: &'a AttestorSet, out: &mut Vec<&'a SecretReference>) {
    for attestor in &set.entries {
        match &attestor.kind {
            AttestorKind::Keys(k) => {
                if let KeySource::Secret(r) = &k.source {
                    out.push(r);
                }
            }
            AttestorKind::Nested(nested) => collect_secrets(nested, out),
            AttestorKind::Keyless(_) | AttestorKind::Certificates(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::VerdictKey;

    #[test]
    fn the_shared_key_is_the_digest_in_hex_after_the_version() {
        let mut digest = [0u8; 32];
        digest[0] = 0xab;
        digest[31] = 0x01;
        let shared = VerdictKey(digest).shared();
        assert_eq!(shared.len(), "signet:v1:".len() + 64);
        assert!(shared.starts_with("signet:v1:ab00"), "{shared}");
        assert!(shared.ends_with("0001"), "{shared}");
    }
}
