//! Named trust roots, as policies and the command line refer to them.

use std::collections::BTreeMap;

use super::TrustRoot;
use crate::{Error, Result};

/// Trust roots by name. `public-good` is always there (the embedded Sigstore root);
/// operators add private roots under their own names.
#[derive(Debug, Clone)]
pub struct TrustRoots {
    roots: BTreeMap<String, TrustRoot>,
}

/// The name of the embedded Sigstore public-good root.
pub const PUBLIC_GOOD: &str = "public-good";

impl TrustRoots {
    /// The embedded public-good root alone.
    pub fn new() -> Result<Self> {
        let mut roots = BTreeMap::new();
        roots.insert(PUBLIC_GOOD.to_owned(), TrustRoot::public_good()?);
        Ok(TrustRoots { roots })
    }

    /// Adds (or replaces) a root under `name`.
    pub fn insert(&mut self, name: &str, root: TrustRoot) {
        self.roots.insert(name.to_owned(), root);
    }

    /// The root called `name`; an unknown name is an error that lists the known ones.
    pub fn get(&self, name: &str) -> Result<&TrustRoot> {
        self.roots.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.roots.keys().map(String::as_str).collect();
            Error::NotFound(format!("trust root {name:?} (known: {})", known.join(", ")))
        })
    }

    /// The names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.roots.keys().map(String::as_str)
    }

    /// Every root with its name, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &TrustRoot)> {
        self.roots.iter().map(|(k, v)| (k.as_str(), v))
    }
}
