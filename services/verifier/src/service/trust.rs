//! Trust roots (named `trusted_root.json` documents) and registry credentials (sealed with
//! AES-256-GCM under a key from the environment; never returned, never logged).

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::Engine;
use signet_policy::{Policy, TRUST_ROOT_ANNOTATION};
use signet_verify::registry::{CredentialSet, Credentials};
use signet_verify::trust::{TrustRoot, TrustRoots};

use super::Service;
use crate::error::ApiError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The key that seals registry credentials.
#[derive(Clone)]
pub struct CredentialsKey(Vec<u8>);

impl std::fmt::Debug for CredentialsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialsKey(<redacted>)")
    }
}

impl CredentialsKey {
    /// A key from base64 text (32 bytes).
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let key = B64
            .decode(text.trim())
            .map_err(|_| "the credentials key is not base64".to_owned())?;
        if key.len() != 32 {
            return Err(format!(
                "the credentials key has {} bytes; 32 are needed",
                key.len()
            ));
        }
        Ok(CredentialsKey(key))
    }

    fn sealing(&self) -> Result<LessSafeKey, ApiError> {
        let unbound = UnboundKey::new(&AES_256_GCM, &self.0)
            .map_err(|_| ApiError::Internal("bad credentials key".into()))?;
        Ok(LessSafeKey::new(unbound))
    }

    /// Seals `secret`, binding it to `registry`.
    pub fn seal(&self, registry: &str, secret: &str) -> Result<String, ApiError> {
        self.seal_bound(registry.as_bytes(), secret)
    }

    /// Opens what `seal` produced for the same registry.
    pub fn open(&self, registry: &str, sealed: &str) -> Result<String, ApiError> {
        self.open_bound(registry.as_bytes(), sealed)
    }

    /// Seals `secret`, the password for `registry` in the named set `set`, binding it to
    /// both: it opens for no other set or registry, nor as an unnamed credential.
    pub fn seal_named(&self, set: &str, registry: &str, secret: &str) -> Result<String, ApiError> {
        self.seal_bound(&named_aad(set, registry), secret)
    }

    /// Opens what `seal_named` produced for the same set and registry.
    pub fn open_named(&self, set: &str, registry: &str, sealed: &str) -> Result<String, ApiError> {
        self.open_bound(&named_aad(set, registry), sealed)
    }

    fn seal_bound(&self, aad: &[u8], secret: &str) -> Result<String, ApiError> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce)
            .map_err(|_| ApiError::Internal("no randomness".into()))?;
        let mut data = secret.as_bytes().to_vec();
        self.sealing()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut data,
            )
            .map_err(|_| ApiError::Internal("sealing failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(B64.encode(out))
    }

    fn open_bound(&self, aad: &[u8], sealed: &str) -> Result<String, ApiError> {
        let raw = B64
            .decode(sealed)
            .map_err(|_| ApiError::Internal("sealed credential is not base64".into()))?;
        if raw.len() < NONCE_LEN {
            return Err(ApiError::Internal("sealed credential is truncated".into()));
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| ApiError::Internal("bad nonce".into()))?;
        let mut data = rest.to_vec();
        let plain = self
            .sealing()?
            .open_in_place(nonce, Aad::from(aad), &mut data)
            .map_err(|_| {
                ApiError::Internal("a sealed credential does not open with this key".into())
            })?;
        String::from_utf8(plain.to_vec())
            .map_err(|_| ApiError::Internal("sealed credential is not UTF-8".into()))
    }
}

/// The associated data that binds a named set's password: a prefix no registry host has
/// (hosts hold no NUL), then the set's name and the registry, NUL-separated.
fn named_aad(set: &str, registry: &str) -> Vec<u8> {
    format!("signet-registry-secret\0{set}\0{registry}").into_bytes()
}

impl Service {
    /// Stores a named trust root after checking that it parses; policies name it in their
    /// `signet.dev/trust-root` annotation.
    pub async fn put_trust_root(&self, name: &str, json: &str) -> Result<bool, ApiError> {
        if name.is_empty() || name.len() > 253 || name.contains('/') {
            return Err(ApiError::bad_request(format!(
                "invalid trust root name {name:?}"
            )));
        }
        TrustRoot::from_trusted_root_json(json.as_bytes())
            .map_err(|e| ApiError::bad_request(format!("invalid trusted_root.json: {e}")))?;
        let (_, created) = self.store.put_trust_root(name, json).await?;
        // Other replicas reload on the change notification; this one reloads now.
        self.reload_trust_roots().await?;
        Ok(created)
    }

    /// Deletes a stored trust root. Policies naming it then decide `error` until it is
    /// stored again.
    pub async fn delete_trust_root(&self, name: &str) -> Result<(), ApiError> {
        if !self.store.delete_trust_root(name).await? {
            return Err(ApiError::NotFound(format!("trust root {name}")));
        }
        self.reload_trust_roots().await
    }

    /// Loads the stored trust roots into the verifier (at start and whenever they change
    /// on any replica), beside the embedded `public-good` root. A stored root that no
    /// longer parses is left out loudly; policies naming it then decide `error`.
    pub async fn reload_trust_roots(&self) -> Result<(), ApiError> {
        let mut roots = TrustRoots::new()
            .map_err(|e| ApiError::Internal(format!("the embedded trust root: {e}")))?;
        for record in self.store.list_trust_roots().await? {
            match TrustRoot::from_trusted_root_json(record.json.as_bytes()) {
                Ok(root) => roots.insert(&record.name, root),
                Err(e) => {
                    tracing::error!(trust_root = %record.name, error = %e, "stored trust root no longer loads")
                }
            }
        }
        self.verifier.set_trust_roots(&roots);
        tracing::info!(trust_roots = roots.names().count(), "trust roots loaded");
        Ok(())
    }

    /// Refuses a policy whose `signet.dev/trust-root` annotation names no stored root.
    pub(crate) async fn check_trust_root(&self, policy: &Policy) -> Result<(), ApiError> {
        let Some(name) = policy.annotations.get(TRUST_ROOT_ANNOTATION) else {
            return Ok(());
        };
        let embedded = name == signet_verify::trust::PUBLIC_GOOD_NAME;
        if embedded || self.store.get_trust_root(name).await?.is_some() {
            return Ok(());
        }
        let stored: Vec<String> = self
            .store
            .list_trust_roots()
            .await?
            .into_iter()
            .map(|r| r.name)
            .collect();
        Err(ApiError::BadRequest {
            message: "invalid policy: 1 error(s)".into(),
            details: vec![format!(
                "document 1: metadata.annotations[{TRUST_ROOT_ANNOTATION}]: trust root {name:?} \
                 is not stored (stored: {}); store it with POST /v1/trust-roots first",
                if stored.is_empty() {
                    "none".to_owned()
                } else {
                    stored.join(", ")
                }
            )],
        })
    }

    /// Stores registry credentials, sealed; refused when no credentials key is configured.
    pub async fn put_credential(
        &self,
        registry: &str,
        username: &str,
        password: &str,
    ) -> Result<bool, ApiError> {
        let key = self.sealing_key()?;
        check_registry(registry)?;
        let sealed = key.seal(registry, password)?;
        let (_, created) = self
            .store
            .put_credential(registry, username, &sealed)
            .await?;
        tracing::info!(registry = %registry, "registry credentials stored");
        // Other replicas reload on the change notification; this one reloads now.
        self.reload_credentials().await?;
        Ok(created)
    }

    /// Deletes a registry's stored credentials.
    pub async fn delete_credential(&self, registry: &str) -> Result<(), ApiError> {
        if !self.store.delete_credential(registry).await? {
            return Err(ApiError::NotFound(format!("credentials for {registry}")));
        }
        self.reload_credentials().await
    }

    /// Stores the credentials for `registry` in the named set `set` (what
    /// `imageRegistryCredentials.secrets` names), sealed and bound to both; refused when no
    /// credentials key is configured or `set` is not a name a policy can write.
    pub async fn put_named_credential(
        &self,
        set: &str,
        registry: &str,
        username: &str,
        password: &str,
    ) -> Result<bool, ApiError> {
        let key = self.sealing_key()?;
        check_registry(registry)?;
        if !signet_policy::is_secret_reference(set) {
            return Err(ApiError::bad_request(format!(
                "invalid secret {set:?}: a Kubernetes Secret name (lowercase letters, digits, \
                 '-' and '.') or namespace/name, as imageRegistryCredentials.secrets writes it"
            )));
        }
        let sealed = key.seal_named(set, registry, password)?;
        let (_, created) = self
            .store
            .put_named_credential(set, registry, username, &sealed)
            .await?;
        tracing::info!(secret = %set, registry = %registry, "registry credentials stored in a named set");
        // Other replicas reload on the change notification; this one reloads now.
        self.reload_credentials().await?;
        Ok(created)
    }

    /// Deletes `registry` from the named set `set`. Policies naming a set that has lost its
    /// last registry decide `error` until it is stored again.
    pub async fn delete_named_credential(&self, set: &str, registry: &str) -> Result<(), ApiError> {
        if !self.store.delete_named_credential(set, registry).await? {
            return Err(ApiError::NotFound(format!(
                "credentials for {registry} in secret {set}"
            )));
        }
        self.reload_credentials().await
    }

    fn sealing_key(&self) -> Result<&CredentialsKey, ApiError> {
        self.credentials_key.as_ref().ok_or_else(|| {
            ApiError::bad_request("storing registry credentials needs a credentials key on the verifier (--credentials-key-file or SIGNET_CREDENTIALS_KEY: 32 bytes, base64)")
        })
    }
}

fn check_registry(registry: &str) -> Result<(), ApiError> {
    if registry.is_empty() || registry.contains('/') {
        return Err(ApiError::bad_request(format!(
            "invalid registry host {registry:?}"
        )));
    }
    Ok(())
}

impl Service {
    /// Loads the stored registry credentials into the registry client (at start and
    /// whenever they change on any replica): the unnamed ones, and the named sets that
    /// `imageRegistryCredentials.secrets` names. Without a credentials key they cannot be
    /// opened: that is logged, registries are reached anonymously, and policies naming a
    /// set decide `error` (the set is not loaded).
    pub async fn reload_credentials(&self) -> Result<(), ApiError> {
        let summaries = self.store.list_credentials().await?;
        let named = self.store.list_named_credential_secrets().await?;
        let Some(key) = &self.credentials_key else {
            if !summaries.is_empty() || !named.is_empty() {
                tracing::warn!(
                    count = summaries.len() + named.len(),
                    "stored registry credentials need the credentials key (--credentials-key-file or SIGNET_CREDENTIALS_KEY) to be used"
                );
            }
            return Ok(());
        };
        let mut credentials = std::collections::HashMap::new();
        for s in summaries {
            let Some(secret) = self.store.get_credential_secret(&s.registry).await? else {
                continue;
            };
            let password = key.open(&secret.registry, &secret.secret_ciphertext)?;
            credentials.insert(
                secret.registry,
                signet_verify::registry::Credentials::Basic {
                    username: secret.username,
                    password,
                },
            );
        }
        let sets = named_sets(key, named)?;
        tracing::info!(
            registries = credentials.len(),
            secrets = sets.len(),
            "registry credentials loaded"
        );
        let registry = self.verifier.registry();
        registry.set_stored_credentials(credentials);
        registry.set_named_credentials(sets);
        Ok(())
    }
}

/// The named sets of `rows` (sorted by set name), opened. A set's revision is a digest of
/// its rows as stored: the sealed passwords change with every write (a fresh nonce each
/// time), so the revision does too, and it is the same on every replica (it goes into
/// verdict keys shared through Redis) without revealing anything the store does not.
fn named_sets(
    key: &CredentialsKey,
    rows: Vec<crate::store::NamedCredentialSecret>,
) -> Result<std::collections::HashMap<String, CredentialSet>, ApiError> {
    let mut sets = std::collections::HashMap::new();
    for group in rows.chunk_by(|a, b| a.secret == b.secret) {
        let mut revision = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        for row in group {
            for part in [&row.registry, &row.username, &row.secret_ciphertext] {
                revision.update(part.as_bytes());
                revision.update(b"\0");
            }
        }
        let mut set = CredentialSet::new(hex::encode(revision.finish()));
        for row in group {
            let password = key.open_named(&row.secret, &row.registry, &row.secret_ciphertext)?;
            set.insert(
                row.registry.clone(),
                Credentials::Basic {
                    username: row.username.clone(),
                    password,
                },
            );
        }
        sets.insert(group[0].secret.clone(), set);
    }
    Ok(sets)
}
