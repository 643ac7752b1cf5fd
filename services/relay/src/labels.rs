//! Namespace labels forwarded with each Review.
//!
//! Outside a cluster they come from `--namespace-labels FILE`, a YAML map
//! namespace → labels. Every namespace also carries
//! `kubernetes.io/metadata.name: <name>`, as the API server sets it on all of them.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::RwLock;

use anyhow::Context as _;

/// The label the API server sets on every namespace to its name.
pub const NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Known labels of each namespace; shared by the request handlers and whatever
/// keeps them up to date.
#[derive(Debug, Default)]
pub struct NamespaceLabels {
    by_namespace: RwLock<HashMap<String, BTreeMap<String, String>>>,
}

impl NamespaceLabels {
    /// Loads a YAML map namespace → labels.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading namespace labels {}", path.display()))?;
        let map: Option<HashMap<String, Option<BTreeMap<String, String>>>> =
            serde_yaml_ng::from_str(&text).with_context(|| {
                format!("{}: expected a map namespace → labels", path.display())
            })?;
        let labels = Self::default();
        for (namespace, l) in map.unwrap_or_default() {
            labels.set(&namespace, l.unwrap_or_default());
        }
        Ok(labels)
    }

    /// Replaces the labels of `namespace`.
    pub fn set(&self, namespace: &str, labels: BTreeMap<String, String>) {
        let mut map = self.by_namespace.write().unwrap_or_else(|e| e.into_inner());
        map.insert(namespace.to_string(), labels);
    }

    /// Replaces every namespace's labels at once (after a full listing).
    pub fn replace_all(&self, all: HashMap<String, BTreeMap<String, String>>) {
        let mut map = self.by_namespace.write().unwrap_or_else(|e| e.into_inner());
        *map = all;
    }

    /// Forgets `namespace`.
    pub fn remove(&self, namespace: &str) {
        let mut map = self.by_namespace.write().unwrap_or_else(|e| e.into_inner());
        map.remove(namespace);
    }

    /// The labels of `namespace` (with [`NAME_LABEL`]); empty for cluster-scoped
    /// requests (empty namespace).
    pub fn get(&self, namespace: &str) -> HashMap<String, String> {
        if namespace.is_empty() {
            return HashMap::new();
        }
        let map = self.by_namespace.read().unwrap_or_else(|e| e.into_inner());
        let mut labels: HashMap<String, String> = map
            .get(namespace)
            .map(|l| l.clone().into_iter().collect())
            .unwrap_or_default();
        labels
            .entry(NAME_LABEL.to_string())
            .or_insert_with(|| namespace.to_string());
        labels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_yaml_map_and_adds_the_name_label() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("labels.yaml");
        std::fs::write(&path, "prod:\n  env: prod\n  tier: \"1\"\nempty:\n").expect("write");
        let labels = NamespaceLabels::from_file(&path).expect("loads");
        let prod = labels.get("prod");
        assert_eq!(prod.get("env").map(String::as_str), Some("prod"));
        assert_eq!(prod.get(NAME_LABEL).map(String::as_str), Some("prod"));
        assert_eq!(labels.get("empty").len(), 1);
        assert_eq!(
            labels.get("unknown").get(NAME_LABEL).map(String::as_str),
            Some("unknown")
        );
        assert!(labels.get("").is_empty());
    }
}
