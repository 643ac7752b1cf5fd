//! Public keys parsed for checking, kept by their DER.
//!
//! Policies hold keys as validated DER; turning one into an aws-lc key validates the curve
//! point again, which cost about a tenth of a cold verification. The cache is addressed by
//! the key material itself, so a changed key can never be answered by an old entry.

use std::collections::HashMap;
use std::sync::Mutex;

use signet_policy::pem_material::PublicKey;

use crate::crypto::VerificationKey;
use crate::Result;

/// Parsed keys held at most; past this the cache starts again (keys come from policies and
/// stored secrets, so a fleet's working set is far smaller).
const MAX_KEYS: usize = 1024;

/// Parsed verification keys by SubjectPublicKeyInfo DER.
#[derive(Debug, Default)]
pub(crate) struct ParsedKeys {
    keys: Mutex<HashMap<Vec<u8>, VerificationKey>>,
}

impl ParsedKeys {
    /// `key`, ready to check signatures.
    pub(crate) fn get(&self, key: &PublicKey) -> Result<VerificationKey> {
        if let Some(k) = self.lock().get(&key.spki_der) {
            return Ok(k.clone());
        }
        let parsed = VerificationKey::from_public_key(key)?;
        let mut keys = self.lock();
        if keys.len() >= MAX_KEYS {
            keys.clear();
        }
        keys.insert(key.spki_der.clone(), parsed.clone());
        Ok(parsed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, VerificationKey>> {
        self.keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SigningKey;
    use signet_policy::pem_material::parse_public_keys;

    fn public(k: &SigningKey) -> PublicKey {
        parse_public_keys(&k.public_key_pem().expect("pem"))
            .expect("parse")
            .remove(0)
    }

    #[test]
    fn keys_are_parsed_once_and_told_apart_by_their_material() {
        let (a, b) = (
            SigningKey::generate().expect("a"),
            SigningKey::generate().expect("b"),
        );
        let cache = ParsedKeys::default();
        let first = cache.get(&public(&a)).expect("a");
        let again = cache.get(&public(&a)).expect("a again");
        let other = cache.get(&public(&b)).expect("b");
        assert_eq!(first.fingerprint(), again.fingerprint());
        assert_ne!(first.fingerprint(), other.fingerprint());
        assert_eq!(cache.lock().len(), 2);
    }
}
