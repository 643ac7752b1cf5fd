//! Reports: recorded decisions across the fleet, filtered and paginated; summaries; and
//! `wgpolicyk8s.io/v1alpha2` PolicyReports as Kyverno writes them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};

use super::Service;
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::store::{DecisionFilter, DecisionRecord, SummaryRow};

/// One page of decisions.
#[derive(Debug, Clone, Serialize)]
pub struct ReportPage {
    /// Newest first.
    pub items: Vec<DecisionRecord>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// A PolicyReport document.
pub type PolicyReport = Value;

/// A cluster token reads its own cluster only: the filter is narrowed, or refused when it
/// names another cluster.
fn scope(caller: &Principal, filter: &mut DecisionFilter) -> Result<(), ApiError> {
    if caller.role != Role::Cluster {
        return Ok(());
    }
    let own = caller.cluster.clone().unwrap_or_default();
    match &filter.cluster {
        Some(c) if *c != own => Err(ApiError::Forbidden(format!(
            "a cluster token reads only its own cluster's reports ({own})"
        ))),
        _ => {
            filter.cluster = Some(own);
            Ok(())
        }
    }
}

/// How long a report query waits for this replica's queued decisions to be committed.
/// Past it (the store is struggling) the query reads what is there.
const SETTLE: Duration = Duration::from_secs(2);

impl Service {
    /// Waits (briefly) until the decisions this replica has answered are committed, so a
    /// report read after a Review shows it.
    async fn settle_decisions(&self) {
        if !self.journal.flush_within(SETTLE).await {
            tracing::debug!(
                backlog = self.journal.backlog(),
                "reading reports before every queued decision is committed"
            );
        }
    }

    /// Decisions matching `filter`, newest first.
    pub async fn reports(
        &self,
        caller: &Principal,
        mut filter: DecisionFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<ReportPage, ApiError> {
        scope(caller, &mut filter)?;
        self.settle_decisions().await;
        let (items, next) = self
            .store
            .query_decisions(&filter, limit.clamp(1, 1000), cursor)
            .await?;
        Ok(ReportPage { items, next })
    }

    /// Counts by cluster and policy.
    pub async fn report_summary(
        &self,
        caller: &Principal,
        mut filter: DecisionFilter,
    ) -> Result<Vec<SummaryRow>, ApiError> {
        scope(caller, &mut filter)?;
        self.settle_decisions().await;
        Ok(self.store.summary(&filter).await?)
    }

    /// The cluster's PolicyReports, one per namespace, latest result per (resource,
    /// policy, rule, image), as Kyverno's reports controller writes them.
    pub async fn policy_reports(
        &self,
        caller: &Principal,
        cluster: &str,
    ) -> Result<Vec<PolicyReport>, ApiError> {
        if !caller.may_read_cluster(cluster) {
            return Err(ApiError::Forbidden(
                "a cluster token reads only its own cluster's reports".into(),
            ));
        }
        if self.store.get_cluster(cluster).await?.is_none() {
            return Err(ApiError::NotFound(format!("cluster {cluster}")));
        }
        self.settle_decisions().await;
        let filter = DecisionFilter {
            cluster: Some(cluster.to_owned()),
            ..DecisionFilter::default()
        };
        let mut latest: BTreeMap<(String, String, String, String, String, String), DecisionRecord> =
            BTreeMap::new();
        let mut cursor = None;
        loop {
            let (items, next) = self
                .store
                .query_decisions(&filter, 1000, cursor.as_deref())
                .await?;
            for d in items {
                let key = (
                    d.namespace.clone(),
                    d.kind.clone(),
                    d.name.clone(),
                    d.policy.clone(),
                    d.rule.clone(),
                    d.image.clone(),
                );
                // Newest first: the first seen is the latest.
                latest.entry(key).or_insert(d);
            }
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        let mut by_ns: BTreeMap<String, Vec<DecisionRecord>> = BTreeMap::new();
        for d in latest.into_values() {
            by_ns.entry(d.namespace.clone()).or_default().push(d);
        }
        Ok(by_ns
            .into_iter()
            .map(|(ns, ds)| policy_report(cluster, &ns, &ds))
            .collect())
    }
}

fn report_result(d: &DecisionRecord) -> &'static str {
    match (d.result.as_str(), d.action.as_str()) {
        ("pass", _) => "pass",
        ("fail", "audit") => "warn",
        ("fail", _) => "fail",
        ("skip", _) => "skip",
        _ => "error",
    }
}

fn policy_report(cluster: &str, namespace: &str, ds: &[DecisionRecord]) -> Value {
    let mut summary = BTreeMap::from([
        ("pass", 0),
        ("fail", 0),
        ("warn", 0),
        ("error", 0),
        ("skip", 0),
    ]);
    let results: Vec<Value> = ds
        .iter()
        .map(|d| {
            let result = report_result(d);
            *summary.entry(result).or_default() += 1;
            json!({
                "source": "signet",
                "policy": d.policy,
                "rule": d.rule,
                "result": result,
                "message": d.message,
                "scored": true,
                "category": "Software Supply Chain Security",
                "severity": "high",
                "timestamp": {"seconds": d.time / 1000, "nanos": 0},
                "properties": {"image": d.image, "digest": d.digest.clone().unwrap_or_default(), "cluster": cluster},
                "resources": [{"kind": d.kind, "name": d.name, "namespace": namespace}]
            })
        })
        .collect();
    let name = if namespace.is_empty() {
        "cpol-signet".to_owned()
    } else {
        format!("polr-ns-{namespace}")
    };
    let mut metadata = json!({"name": name, "labels": {"app.kubernetes.io/managed-by": "signet", "signet.dev/cluster": cluster}});
    if !namespace.is_empty() {
        metadata["namespace"] = json!(namespace);
    }
    json!({
        "apiVersion": "wgpolicyk8s.io/v1alpha2",
        "kind": if namespace.is_empty() { "ClusterPolicyReport" } else { "PolicyReport" },
        "metadata": metadata,
        "results": results,
        "summary": summary,
    })
}
