//! Named trust roots a policy may select with its `signet.dev/trust-root` annotation, held
//! beside the verifier's default root and replaced whole whenever the stored set changes.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use signet_policy::ImageVerification;

use super::Verifier;
use crate::trust::{TrustRoot, TrustRoots};
use crate::{Error, Result};

/// One named root and the fingerprint of its material (for verdict cache keys).
#[derive(Debug)]
struct Named {
    root: Arc<TrustRoot>,
    fingerprint: String,
}

/// The named roots, shared by every clone of a [`Verifier`].
#[derive(Debug, Default)]
pub(crate) struct NamedRoots(RwLock<Arc<BTreeMap<String, Named>>>);

impl NamedRoots {
    fn current(&self) -> Arc<BTreeMap<String, Named>> {
        match self.0.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl Verifier {
    /// Replaces the named trust roots that policies can select with `roots`.
    pub fn set_trust_roots(&self, roots: &TrustRoots) {
        let named: BTreeMap<String, Named> = roots
            .iter()
            .map(|(name, root)| {
                let named = Named {
                    fingerprint: root.fingerprint(),
                    root: Arc::new(root.clone()),
                };
                (name.to_owned(), named)
            })
            .collect();
        match self.named.0.write() {
            Ok(mut w) => *w = Arc::new(named),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(named),
        }
    }

    /// The names of the trust roots policies can select, sorted.
    pub fn trust_root_names(&self) -> Vec<String> {
        self.named.current().keys().cloned().collect()
    }

    /// The trust root `entry` selects and its fingerprint; `None` for the default root.
    /// A name the verifier does not hold is an error: the entry cannot be decided.
    pub(crate) fn trust_for(
        &self,
        entry: &ImageVerification,
    ) -> Result<Option<(Arc<TrustRoot>, String)>> {
        let Some(name) = &entry.trust_root else {
            return Ok(None);
        };
        let current = self.named.current();
        match current.get(name) {
            Some(n) => Ok(Some((n.root.clone(), n.fingerprint.clone()))),
            None => {
                let known: Vec<&str> = current.keys().map(String::as_str).collect();
                let known = if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                };
                Err(Error::NotFound(format!(
                    "trust root {name:?} (named by the policy's signet.dev/trust-root \
                     annotation; known: {known})"
                )))
            }
        }
    }
}
