//! Reports: recorded decisions across the fleet, filtered and paginated; summaries; and
//! `wgpolicyk8s.io/v1alpha2` PolicyReports as Kyverno writes them.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::policy_report::{self, Reporting, Subject};
use super::review::PIPELINE_OPERATION;
use super::Service;
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::store::{DecisionFilter, DecisionRecord, SummaryRow, MAX_PAGE};

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

    /// The cluster's PolicyReports as Kyverno's reports controller writes them: one per
    /// resource, with the results of the latest admission of it under each policy rule
    /// (one per image), for the policies that apply to the cluster now. Pipeline checks
    /// (`POST /v1/verify`) judged no cluster resource and are left out, as are the
    /// decisions on a resource not yet named (`generateName`, at mutation).
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
        let Some(record) = self.store.get_cluster(cluster).await? else {
            return Err(ApiError::NotFound(format!("cluster {cluster}")));
        };
        self.settle_decisions().await;
        // Kyverno drops the results of policies that are gone from the cluster.
        let active = self.active_policies();
        let applying: BTreeSet<String> = Service::policies_for(&active, &record.labels)
            .iter()
            .map(|a| a.policy.qualified_name())
            .collect();
        let filter = DecisionFilter {
            cluster: Some(cluster.to_owned()),
            ..DecisionFilter::default()
        };
        // When each (resource, policy, rule) was last evaluated; an evaluation's verdicts
        // (one per image) share its time.
        let mut evaluated: HashMap<(Subject, String, String), i64> = HashMap::new();
        let mut kept: BTreeMap<Subject, BTreeMap<(String, String, String), DecisionRecord>> =
            BTreeMap::new();
        let mut cursor = None;
        loop {
            let (items, next) = self
                .store
                .query_decisions(&filter, MAX_PAGE, cursor.as_deref())
                .await?;
            // Newest first: the first time seen for a key is its latest evaluation.
            for d in items {
                // A nameless resource is one created with `generateName`, as the
                // mutating webhook sees it: its name is chosen after mutation, and the
                // validating webhook's decisions for it carry that name. Kept, every
                // such resource of a namespace would share one report.
                if d.operation == PIPELINE_OPERATION
                    || d.name.is_empty()
                    || !applying.contains(&d.policy)
                {
                    continue;
                }
                let subject = Subject {
                    namespace: d.namespace.clone(),
                    kind: d.kind.clone(),
                    name: d.name.clone(),
                };
                let latest = *evaluated
                    .entry((subject.clone(), d.policy.clone(), d.rule.clone()))
                    .or_insert(d.time);
                if d.time == latest {
                    kept.entry(subject)
                        .or_default()
                        .entry((d.policy.clone(), d.rule.clone(), d.image.clone()))
                        .or_insert(d);
                }
            }
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        // Each result reports under the annotations of the revision that decided it.
        let mut reporting = BTreeMap::new();
        for d in kept.values().flat_map(BTreeMap::values) {
            if let Entry::Vacant(slot) = reporting.entry((d.policy.clone(), d.policy_version)) {
                let revision = self
                    .store
                    .get_policy_revision(&d.policy, d.policy_version)
                    .await?;
                slot.insert(
                    revision
                        .map(|rev| Reporting::of_document(&rev.document))
                        .unwrap_or_default(),
                );
            }
        }
        Ok(kept
            .iter()
            .map(|(subject, ds)| policy_report::build(cluster, subject, ds.values(), &reporting))
            .collect())
    }
}
