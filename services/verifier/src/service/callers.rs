//! The calling clusters' labels, held in memory, and their heartbeats, throttled.
//!
//! Every Review needs the caller's labels (fleet scoping) and marks the cluster as seen.
//! Reading the row and writing the heartbeat on every call cost a query and a durable
//! write per admission; labels change rarely and every change is announced
//! ([`ChangeKind::Cluster`](crate::store::ChangeKind)), so they are cached until the
//! next announcement, and `last_seen` is written at most once per [`HEARTBEAT`] per
//! cluster (or at once when the relay's version changes).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::store::{now_ms, Store, StoreError};

/// How stale `last_seen` may get while a cluster keeps calling.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
struct Entry {
    labels: Arc<BTreeMap<String, String>>,
    /// When this replica last wrote the heartbeat, and with which relay version.
    touched: Option<(Instant, Option<String>)>,
}

/// Cluster labels by name, and heartbeat bookkeeping; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Callers {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    /// Bumped by every invalidation, so a read that raced with a change is not cached.
    generation: Arc<AtomicU64>,
}

impl Callers {
    /// The labels of cluster `name`, `None` when it does not exist.
    pub async fn labels(
        &self,
        store: &Store,
        name: &str,
    ) -> Result<Option<Arc<BTreeMap<String, String>>>, StoreError> {
        if let Some(e) = self.lock().get(name) {
            return Ok(Some(e.labels.clone()));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let Some(cluster) = store.get_cluster(name).await? else {
            return Ok(None);
        };
        let labels = Arc::new(cluster.labels);
        let mut entries = self.lock();
        if self.generation.load(Ordering::Acquire) == generation {
            entries.insert(
                name.to_owned(),
                Entry {
                    labels: labels.clone(),
                    touched: None,
                },
            );
        }
        Ok(Some(labels))
    }

    /// Forgets everything: a cluster was registered, relabelled or deleted (here or on
    /// another replica).
    pub fn invalidate(&self) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    /// Records that `name` called, writing the heartbeat in the background when it is
    /// due. A failed heartbeat is logged and retried on a later call.
    pub fn seen(&self, store: &Store, name: &str, relay_version: Option<&str>) {
        let version = relay_version.map(str::to_owned);
        {
            let mut entries = self.lock();
            let Some(entry) = entries.get_mut(name) else {
                return;
            };
            let due = match &entry.touched {
                None => true,
                Some((at, v)) => at.elapsed() >= HEARTBEAT || *v != version,
            };
            if !due {
                return;
            }
            entry.touched = Some((Instant::now(), version.clone()));
        }
        let (store, callers, name) = (store.clone(), self.clone(), name.to_owned());
        tokio::spawn(async move {
            if let Err(e) = store
                .touch_cluster(&name, version.as_deref(), now_ms())
                .await
            {
                tracing::warn!(cluster = %name, error = %e, "heartbeat not recorded");
                if let Some(entry) = callers.lock().get_mut(&name) {
                    entry.touched = None;
                }
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(None, dir.path()).await.expect("store");
        (dir, store)
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[tokio::test]
    async fn labels_are_cached_until_invalidated() {
        let (_dir, store) = store().await;
        store
            .create_cluster("c1", &labels(&[("env", "prod")]))
            .await
            .expect("create");
        let callers = Callers::default();
        let got = callers.labels(&store, "c1").await.expect("labels");
        assert_eq!(got.as_deref(), Some(&labels(&[("env", "prod")])));
        store
            .set_cluster_labels("c1", &labels(&[("env", "dev")]))
            .await
            .expect("relabel");
        // Cached: the change has not been announced to this cache yet.
        let got = callers.labels(&store, "c1").await.expect("labels");
        assert_eq!(got.as_deref(), Some(&labels(&[("env", "prod")])));
        callers.invalidate();
        let got = callers.labels(&store, "c1").await.expect("labels");
        assert_eq!(got.as_deref(), Some(&labels(&[("env", "dev")])));
        assert_eq!(callers.labels(&store, "nope").await.expect("none"), None);
    }

    #[tokio::test]
    async fn heartbeats_are_written_once_per_interval_or_on_a_new_relay_version() {
        let (_dir, store) = store().await;
        store
            .create_cluster("c1", &BTreeMap::new())
            .await
            .expect("create");
        let callers = Callers::default();
        callers.labels(&store, "c1").await.expect("labels");
        callers.seen(&store, "c1", Some("v1"));
        let seen = || async {
            for _ in 0..200 {
                let c = store.get_cluster("c1").await.expect("get").expect("c1");
                if c.last_seen.is_some() {
                    return c;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("no heartbeat written");
        };
        let first = seen().await;
        assert_eq!(first.relay_version.as_deref(), Some("v1"));
        // Within the interval with the same version: nothing due.
        let entry = callers.lock().get("c1").cloned().expect("entry");
        callers.seen(&store, "c1", Some("v1"));
        let after = callers.lock().get("c1").cloned().expect("entry");
        assert_eq!(
            entry.touched.map(|t| t.0),
            after.touched.map(|t| t.0),
            "a heartbeat was written again within the interval"
        );
        // A new relay version is written at once.
        callers.seen(&store, "c1", Some("v2"));
        for _ in 0..200 {
            let c = store.get_cluster("c1").await.expect("get").expect("c1");
            if c.relay_version.as_deref() == Some("v2") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the new relay version was not recorded");
    }
}
