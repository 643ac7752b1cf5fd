//! `/v1/clusters` and `/v1/tokens`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as Out;
use serde::{Deserialize, Serialize};

use super::extract::{Caller, Json, Path, Query};
use super::policies_out;
use super::AppState;
use crate::auth::Role;
use crate::error::{ApiError, ErrorBody};
use crate::service::{IssuedToken, NewToken, PolicySummary};
use crate::store::{ClusterRecord, TokenRecord};

/// A cluster registration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCluster {
    /// Cluster name.
    pub name: String,
    /// Labels that `signet.dev/cluster-selector` annotations match.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// A cluster.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterOut {
    /// Name.
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Registered, Unix milliseconds.
    pub created_at: i64,
    /// Last Review from its relay, Unix milliseconds.
    pub last_seen: Option<i64>,
    /// Its relay's version.
    pub relay_version: Option<String>,
}

impl From<ClusterRecord> for ClusterOut {
    fn from(c: ClusterRecord) -> Self {
        ClusterOut {
            name: c.name,
            labels: c.labels,
            created_at: c.created_at,
            last_seen: c.last_seen,
            relay_version: c.relay_version,
        }
    }
}

/// A registered cluster and its relay's token (shown once).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    /// The cluster.
    pub cluster: ClusterOut,
    /// The relay's token.
    pub token: IssuedToken,
}

/// Register a cluster; the answer holds its relay's token, shown only now.
#[utoipa::path(post, path = "/v1/clusters", tag = "clusters", request_body = NewCluster,
    responses((status = 201, body = Registered), (status = 409, body = ErrorBody), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
pub async fn register(
    State(s): State<AppState>,
    Caller(c): Caller,
    Json(n): Json<NewCluster>,
) -> Result<(StatusCode, Out<Registered>), ApiError> {
    c.require_admin()?;
    let (cluster, token) = s.service.register_cluster(&n.name, &n.labels).await?;
    Ok((
        StatusCode::CREATED,
        Out(Registered {
            cluster: cluster.into(),
            token,
        }),
    ))
}

/// Every cluster.
#[utoipa::path(get, path = "/v1/clusters", tag = "clusters", responses((status = 200, body = Vec<ClusterOut>)), security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    Caller(c): Caller,
) -> Result<Out<Vec<ClusterOut>>, ApiError> {
    c.require_admin()?;
    Ok(Out(s
        .service
        .store()
        .list_clusters()
        .await?
        .into_iter()
        .map(Into::into)
        .collect()))
}

async fn one(s: &AppState, name: &str) -> Result<ClusterRecord, ApiError> {
    s.service
        .store()
        .get_cluster(name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("cluster {name}")))
}

/// One cluster.
#[utoipa::path(get, path = "/v1/clusters/{name}", tag = "clusters", params(("name" = String, Path)),
    responses((status = 200, body = ClusterOut), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(name): Path<String>,
) -> Result<Out<ClusterOut>, ApiError> {
    if !(c.role == Role::Admin || c.cluster.as_deref() == Some(name.as_str())) {
        return Err(ApiError::Forbidden("admins, or the cluster itself".into()));
    }
    Ok(Out(one(&s, &name).await?.into()))
}

/// Replace a cluster's labels.
#[utoipa::path(put, path = "/v1/clusters/{name}/labels", tag = "clusters", params(("name" = String, Path)),
    request_body = BTreeMap<String, String>,
    responses((status = 200, body = ClusterOut), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn set_labels(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(name): Path<String>,
    Json(labels): Json<BTreeMap<String, String>>,
) -> Result<Out<ClusterOut>, ApiError> {
    c.require_admin()?;
    s.service.set_cluster_labels(&name, &labels).await?;
    Ok(Out(one(&s, &name).await?.into()))
}

/// Delete a cluster; its tokens stop working.
#[utoipa::path(delete, path = "/v1/clusters/{name}", tag = "clusters", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    c.require_admin()?;
    s.service.delete_cluster(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The policies that apply to a cluster (its labels against each cluster selector).
#[utoipa::path(get, path = "/v1/clusters/{name}/policies", tag = "clusters", params(("name" = String, Path)),
    responses((status = 200, body = Vec<PolicySummary>), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn policies(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(name): Path<String>,
) -> Result<Out<Vec<PolicySummary>>, ApiError> {
    if !(c.role == Role::Admin || c.cluster.as_deref() == Some(name.as_str())) {
        return Err(ApiError::Forbidden("admins, or the cluster itself".into()));
    }
    let cluster = one(&s, &name).await?;
    policies_out(&s, &cluster.labels).await.map(Out)
}

/// A token as listed: never the secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenOut {
    /// Id.
    pub id: String,
    /// Role.
    pub role: String,
    /// Cluster of a cluster token.
    pub cluster: Option<String>,
    /// Issued, Unix milliseconds.
    pub created_at: i64,
    /// Expiry, Unix milliseconds.
    pub expires_at: Option<i64>,
    /// Revoked.
    pub revoked: bool,
    /// What it is for.
    pub description: Option<String>,
}

impl From<TokenRecord> for TokenOut {
    fn from(t: TokenRecord) -> Self {
        TokenOut {
            id: t.id,
            role: t.role,
            cluster: t.cluster,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked: t.revoked,
            description: t.description,
        }
    }
}

/// Filter for token listings.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TokenQuery {
    /// Only this cluster's tokens.
    pub cluster: Option<String>,
}

/// Issue a token; the secret is in the answer only.
#[utoipa::path(post, path = "/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, body = IssuedToken), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
pub async fn issue_token(
    State(s): State<AppState>,
    Caller(c): Caller,
    Json(t): Json<NewToken>,
) -> Result<(StatusCode, Out<IssuedToken>), ApiError> {
    c.require_admin()?;
    Ok((StatusCode::CREATED, Out(s.service.issue_token(&t).await?)))
}

/// Tokens.
#[utoipa::path(get, path = "/v1/tokens", tag = "tokens", params(TokenQuery),
    responses((status = 200, body = Vec<TokenOut>)), security(("bearer" = [])))]
pub async fn list_tokens(
    State(s): State<AppState>,
    Caller(c): Caller,
    Query(q): Query<TokenQuery>,
) -> Result<Out<Vec<TokenOut>>, ApiError> {
    c.require_admin()?;
    Ok(Out(s
        .service
        .list_tokens(q.cluster.as_deref())
        .await?
        .into_iter()
        .map(Into::into)
        .collect()))
}

/// Revoke a token.
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_token(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    c.require_admin()?;
    s.service.revoke_token(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
