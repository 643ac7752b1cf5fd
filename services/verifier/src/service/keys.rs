//! Named keys: stored under namespace/name as Kyverno Secrets are, resolved for policies
//! that say `secret: {name, namespace}`.

use async_trait::async_trait;
use signet_policy::pem_material::{parse_public_keys, PublicKey};
use signet_policy::SecretReference;
use signet_verify::KeyResolver;

use super::Service;
use crate::error::ApiError;
use crate::store::{KeyRecord, Store};

/// Resolves named keys from the store.
#[derive(Debug, Clone)]
pub struct StoreKeys(pub Store);

#[async_trait]
impl KeyResolver for StoreKeys {
    async fn resolve(&self, r: &SecretReference) -> signet_verify::Result<Vec<PublicKey>> {
        let record = self
            .0
            .get_key(&r.namespace, &r.name)
            .await
            .map_err(|e| signet_verify::Error::Registry {
                registry: "store".into(),
                reason: e.to_string(),
            })?
            .ok_or_else(|| {
                signet_verify::Error::NotFound(format!("key {}/{}", r.namespace, r.name))
            })?;
        parse_public_keys(&record.pem)
            .map_err(|e| signet_verify::Error::Key(format!("{}/{}: {e}", r.namespace, r.name)))
    }
}

impl Service {
    /// Stores a public key (PEM, one or many keys) under namespace/name.
    pub async fn put_key(
        &self,
        namespace: &str,
        name: &str,
        pem: &str,
    ) -> Result<(KeyRecord, bool), ApiError> {
        for (what, v) in [("namespace", namespace), ("name", name)] {
            if v.is_empty() || v.len() > 253 || v.contains('/') {
                return Err(ApiError::bad_request(format!("invalid key {what} {v:?}")));
            }
        }
        parse_public_keys(pem)
            .map_err(|e| ApiError::bad_request(format!("not a public key: {e}")))?;
        Ok(self.store.put_key(namespace, name, pem).await?)
    }
}
