//! Namespace labels from a watch on Namespaces (feature `kube`), for a relay
//! running inside its cluster. Needs RBAC: `list` and `watch` on `namespaces`.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::StreamExt as _;
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
    let mut events = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::Apply(ns) | Event::InitApply(ns)) => {
                let name = ns.metadata.name.unwrap_or_default();
                let l: BTreeMap<String, String> = ns.metadata.labels.unwrap_or_default();
                labels.set(&name, l);
            }
            Ok(Event::Delete(ns)) => labels.remove(&ns.metadata.name.unwrap_or_default()),
            Ok(Event::Init | Event::InitDone) => {}
            Err(error) => tracing::warn!(%error, "watching Namespaces"),
        }
    }
    Ok(())
}
