//! `/v1/reports`, `/v1/reports/summary`, `/v1/clusters/{name}/policyreports`, `/v1/verify`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json as Out;
use serde::{Deserialize, Serialize};

use super::extract::{Caller, Json, Path, Query};
use super::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::store::{DecisionFilter, DecisionRecord, RESULT_FILTERS};

/// Report filters; all optional.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Cluster name.
    pub cluster: Option<String>,
    /// Namespace.
    pub namespace: Option<String>,
    /// Policy name.
    pub policy: Option<String>,
    /// Image as written.
    pub image: Option<String>,
    /// Image digest.
    pub digest: Option<String>,
    /// pass, fail, warn (a fail under Audit), error or skip; fail selects warnings too.
    pub result: Option<String>,
    /// From this time (Unix milliseconds).
    pub since: Option<i64>,
    /// Until this time (Unix milliseconds).
    pub until: Option<i64>,
    /// Page size (1–1000, default 100).
    pub limit: Option<u32>,
    /// Opaque cursor from the previous page.
    pub cursor: Option<String>,
}

impl ReportQuery {
    fn filter(&self) -> Result<DecisionFilter, ApiError> {
        if let Some(r) = &self.result {
            if !RESULT_FILTERS.contains(&r.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "result {r:?}: expected one of {}",
                    RESULT_FILTERS.join(", ")
                )));
            }
        }
        Ok(DecisionFilter {
            cluster: self.cluster.clone(),
            namespace: self.namespace.clone(),
            policy: self.policy.clone(),
            image: self.image.clone(),
            digest: self.digest.clone(),
            result: self.result.clone(),
            since: self.since,
            until: self.until,
        })
    }
}

/// One recorded decision.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionOut {
    /// Id.
    pub id: String,
    /// Unix milliseconds.
    pub time: i64,
    /// Cluster.
    pub cluster: String,
    /// Namespace.
    pub namespace: String,
    /// Resource kind.
    pub kind: String,
    /// Resource name.
    pub name: String,
    /// CREATE, UPDATE, …
    pub operation: String,
    /// Image as written.
    pub image: String,
    /// Digest.
    pub digest: Option<String>,
    /// Policy.
    pub policy: String,
    /// Policy version used.
    pub policy_version: i64,
    /// Rule.
    pub rule: String,
    /// pass, fail, skip or error.
    pub result: String,
    /// enforce or audit.
    pub action: String,
    /// Why.
    pub message: String,
}

impl From<DecisionRecord> for DecisionOut {
    fn from(d: DecisionRecord) -> Self {
        DecisionOut {
            id: d.id,
            time: d.time,
            cluster: d.cluster,
            namespace: d.namespace,
            kind: d.kind,
            name: d.name,
            operation: d.operation,
            image: d.image,
            digest: d.digest,
            policy: d.policy,
            policy_version: d.policy_version,
            rule: d.rule,
            result: d.result,
            action: d.action,
            message: d.message,
        }
    }
}

/// A page of decisions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportPageOut {
    /// Newest first.
    pub items: Vec<DecisionOut>,
    /// Cursor of the next page, absent on the last.
    pub next: Option<String>,
}

/// Recorded decisions across the fleet (a cluster token sees its own cluster only).
#[utoipa::path(get, path = "/v1/reports", tag = "reports", params(ReportQuery),
    responses((status = 200, body = ReportPageOut), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    Caller(c): Caller,
    Query(q): Query<ReportQuery>,
) -> Result<Out<ReportPageOut>, ApiError> {
    let page = s
        .service
        .reports(&c, q.filter()?, q.limit.unwrap_or(100), q.cursor.as_deref())
        .await?;
    Ok(Out(ReportPageOut {
        items: page.items.into_iter().map(Into::into).collect(),
        next: page.next,
    }))
}

/// Counts by cluster and policy.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SummaryOut {
    /// Cluster.
    pub cluster: String,
    /// Policy.
    pub policy: String,
    /// Passed.
    pub pass: i64,
    /// Failed under Enforce.
    pub fail: i64,
    /// Failed under Audit.
    pub warn: i64,
    /// Could not be decided.
    pub error: i64,
    /// Skipped.
    pub skip: i64,
}

/// pass/fail/warn/error/skip counts by cluster and policy.
#[utoipa::path(get, path = "/v1/reports/summary", tag = "reports", params(ReportQuery),
    responses((status = 200, body = Vec<SummaryOut>)), security(("bearer" = [])))]
pub async fn summary(
    State(s): State<AppState>,
    Caller(c): Caller,
    Query(q): Query<ReportQuery>,
) -> Result<Out<Vec<SummaryOut>>, ApiError> {
    let rows = s.service.report_summary(&c, q.filter()?).await?;
    Ok(Out(rows
        .into_iter()
        .map(|r| SummaryOut {
            cluster: r.cluster,
            policy: r.policy,
            pass: r.pass,
            fail: r.fail,
            warn: r.warn,
            error: r.error,
            skip: r.skip,
        })
        .collect()))
}

/// The cluster's `wgpolicyk8s.io/v1alpha2` PolicyReports as Kyverno writes them: one per
/// resource (its `scope`), with the latest result of each of its policy rules and images.
#[utoipa::path(get, path = "/v1/clusters/{name}/policyreports", tag = "reports", params(("name" = String, Path)),
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn policy_reports(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(name): Path<String>,
) -> Result<Out<Vec<serde_json::Value>>, ApiError> {
    Ok(Out(s.service.policy_reports(&c, &name).await?))
}

/// A pipeline's question: would this image be admitted?
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyBody {
    /// Image reference.
    pub image: String,
    /// Namespace the Pod would run in (default "default").
    pub namespace: Option<String>,
    /// Labels of that namespace.
    #[serde(default)]
    pub namespace_labels: BTreeMap<String, String>,
    /// Only these policies.
    #[serde(default)]
    pub policies: Vec<String>,
}

/// The answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifyOut {
    /// Whether a Pod running the image would be admitted.
    pub allowed: bool,
    /// Why not.
    pub message: Option<String>,
    /// Every verdict.
    #[schema(value_type = Vec<Object>)]
    pub verdicts: Vec<signet_verify::Verdict>,
}

/// Judge an image as if it ran in a Pod created in `namespace` by the caller's cluster.
#[utoipa::path(post, path = "/v1/verify", tag = "verify", request_body = VerifyBody,
    responses((status = 200, body = VerifyOut), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
pub async fn verify(
    State(s): State<AppState>,
    Caller(c): Caller,
    Json(b): Json<VerifyBody>,
) -> Result<Out<VerifyOut>, ApiError> {
    let namespace = b.namespace.as_deref().unwrap_or("default");
    let d = s
        .service
        .verify_image(&c, &b.image, namespace, &b.namespace_labels, &b.policies)
        .await?;
    s.metrics.record_decision(&d);
    Ok(Out(VerifyOut {
        allowed: d.allowed,
        message: d.message,
        verdicts: d.verdicts,
    }))
}
