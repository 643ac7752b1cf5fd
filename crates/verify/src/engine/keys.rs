//! Where named keys come from: the service resolves `secret: {name, namespace}` from its
//! store, the CLI from files it was given.

use std::collections::HashMap;

use async_trait::async_trait;
use signet_policy::pem_material::PublicKey;
use signet_policy::SecretReference;

use crate::{Error, Result};

/// Resolves a named key (Kyverno's Secret reference) to its public keys.
#[async_trait]
pub trait KeyResolver: Send + Sync + std::fmt::Debug {
    /// The keys stored under `reference`; `Error::NotFound` when there is none.
    async fn resolve(&self, reference: &SecretReference) -> Result<Vec<PublicKey>>;
}

/// A fixed map of named keys (the CLI's `--secret namespace/name=FILE`, tests).
#[derive(Debug, Default, Clone)]
pub struct StaticKeys {
    keys: HashMap<SecretReference, Vec<PublicKey>>,
}

impl StaticKeys {
    /// No named keys: every reference is "not found".
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds keys under `namespace/name`.
    pub fn insert(&mut self, namespace: &str, name: &str, keys: Vec<PublicKey>) {
        self.keys.insert(
            SecretReference {
                name: name.to_owned(),
                namespace: namespace.to_owned(),
            },
            keys,
        );
    }
}

#[async_trait]
impl KeyResolver for StaticKeys {
    async fn resolve(&self, reference: &SecretReference) -> Result<Vec<PublicKey>> {
        self.keys.get(reference).cloned().ok_or_else(|| {
            Error::NotFound(format!("key {}/{}", reference.namespace, reference.name))
        })
    }
}
