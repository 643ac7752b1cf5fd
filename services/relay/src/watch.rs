//! Namespace labels from a watch on Namespaces (feature `kube`), for a relay
//! running inside its cluster. Needs RBAC: `list` and `watch` on `namespaces`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures_util::{Stream, StreamExt as _};
use k8s_openapi::api::core::v1::Namespace;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt as _;
use kube::{Api, Client};

use crate::labels::NamespaceLabels;

/// Keeps `labels` up to date with the cluster's Namespaces until the process
/// ends; watch errors are logged and the watcher retries with backoff.
pub async fn watch_namespaces(labels: Arc<NamespaceLabels>) -> anyhow::Result<()> {
    let client = Client::try_default().await?;
    let api: Api<Namespace> = Api::all(client);
    let events = watcher::watcher(api, watcher::Config::default()).default_backoff();
    follow(events, &labels).await;
    Ok(())
}

/// Applies watch events to `labels` until the stream ends.
///
/// A (re)listing (`Init` … `InitDone`) replaces everything known only when it is
/// complete, so namespaces deleted while the watch was down disappear, and requests
/// keep the previous labels while the listing runs.
pub async fn follow<E: std::fmt::Display>(
    events: impl Stream<Item = Result<Event<Namespace>, E>>,
    labels: &NamespaceLabels,
) {
    let mut events = std::pin::pin!(events);
    let mut listing: Option<HashMap<String, BTreeMap<String, String>>> = None;
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::Init) => listing = Some(HashMap::new()),
            Ok(Event::InitApply(ns)) => {
                let (name, l) = name_and_labels(ns);
                match listing.as_mut() {
                    Some(listed) => {
                        listed.insert(name, l);
                    }
                    None => labels.set(&name, l),
                }
            }
            Ok(Event::InitDone) => {
                if let Some(listed) = listing.take() {
                    tracing::info!(namespaces = listed.len(), "namespace labels listed");
                    labels.replace_all(listed);
                }
            }
            Ok(Event::Apply(ns)) => {
                let (name, l) = name_and_labels(ns);
                labels.set(&name, l);
            }
            Ok(Event::Delete(ns)) => labels.remove(&ns.metadata.name.unwrap_or_default()),
            Err(error) => tracing::warn!(%error, "watching Namespaces"),
        }
    }
}

fn name_and_labels(ns: Namespace) -> (String, BTreeMap<String, String>) {
    (
        ns.metadata.name.unwrap_or_default(),
        ns.metadata.labels.unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::NAME_LABEL;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn ns(name: &str, labels: &[(&str, &str)]) -> Namespace {
        Namespace {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        }
    }

    fn env(labels: &NamespaceLabels, namespace: &str) -> Option<String> {
        labels.get(namespace).get("env").cloned()
    }

    #[tokio::test]
    async fn listings_replace_and_events_update_the_labels() {
        let labels = NamespaceLabels::default();
        let first: Vec<Result<Event<Namespace>, String>> = vec![
            Ok(Event::Init),
            Ok(Event::InitApply(ns("prod", &[("env", "production")]))),
            Ok(Event::InitApply(ns("dev", &[("env", "development")]))),
            Ok(Event::InitApply(ns("gone", &[("env", "old")]))),
            Ok(Event::InitDone),
            Ok(Event::Apply(ns("dev", &[("env", "staging")]))),
            Err("connection reset".to_owned()),
            Ok(Event::Delete(ns("prod", &[]))),
        ];
        follow(futures_util::stream::iter(first), &labels).await;
        assert_eq!(env(&labels, "dev").as_deref(), Some("staging"));
        assert_eq!(env(&labels, "prod"), None, "deleted");
        assert_eq!(env(&labels, "gone").as_deref(), Some("old"));

        // A relisting after the watch was down: what it does not list is gone, and
        // until it is done the earlier labels still answer.
        let relist: Vec<Result<Event<Namespace>, String>> = vec![
            Ok(Event::Init),
            Ok(Event::InitApply(ns("dev", &[("env", "development")]))),
        ];
        follow(futures_util::stream::iter(relist), &labels).await;
        assert_eq!(
            env(&labels, "gone").as_deref(),
            Some("old"),
            "listing not done"
        );
        let relist: Vec<Result<Event<Namespace>, String>> = vec![
            Ok(Event::Init),
            Ok(Event::InitApply(ns("dev", &[("env", "development")]))),
            Ok(Event::InitDone),
        ];
        follow(futures_util::stream::iter(relist), &labels).await;
        assert_eq!(env(&labels, "gone"), None);
        assert_eq!(env(&labels, "dev").as_deref(), Some("development"));
        assert_eq!(
            labels.get("dev").get(NAME_LABEL).map(String::as_str),
            Some("dev")
        );
    }
}
