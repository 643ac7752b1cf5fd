//! `/v1/policies`: Kyverno documents in, stored and enforced as written.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;

use super::extract::{Caller, Path, Text};
use super::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::service::{AppliedPolicy, PolicySummary};

/// Create or replace a policy from a Kyverno `ClusterPolicy`/`Policy` (YAML or JSON).
#[utoipa::path(post, path = "/v1/policies", tag = "policies",
    request_body(content = String, content_type = "application/yaml", description = "One Kyverno policy document"),
    responses(
        (status = 201, description = "Created", body = AppliedPolicy),
        (status = 200, description = "Replaced a policy of the same name", body = AppliedPolicy),
        (status = 400, description = "Invalid: every error with its field path", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn apply(
    State(s): State<AppState>,
    Caller(c): Caller,
    Text(body): Text,
) -> Result<impl IntoResponse, ApiError> {
    c.require_admin()?;
    let applied = s.service.apply_policy(&body).await?;
    let status = if applied.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(applied)))
}

/// Check a policy document without storing it.
#[utoipa::path(post, path = "/v1/policies/lint", tag = "policies",
    request_body(content = String, content_type = "application/yaml"),
    responses((status = 200, description = "Valid"), (status = 400, description = "Invalid", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn lint(
    State(s): State<AppState>,
    Caller(c): Caller,
    Text(body): Text,
) -> Result<Json<serde_json::Value>, ApiError> {
    c.require_admin()?;
    let name = s.service.lint_policy(&body)?;
    Ok(Json(serde_json::json!({"valid": true, "name": name})))
}

/// Every stored policy.
#[utoipa::path(get, path = "/v1/policies", tag = "policies",
    responses((status = 200, body = Vec<PolicySummary>)), security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    Caller(c): Caller,
) -> Result<Json<Vec<PolicySummary>>, ApiError> {
    c.require_admin()?;
    Ok(Json(s.service.list_policies().await?))
}

/// One policy, with its document as applied (`name`, or `namespace/name`).
#[utoipa::path(get, path = "/v1/policies/{name}", tag = "policies",
    params(("name" = String, Path, description = "Policy name, or namespace/name")),
    responses((status = 200, body = PolicySummary), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(name): Path<String>,
) -> Result<Json<PolicySummary>, ApiError> {
    c.require_admin()?;
    Ok(Json(s.service.get_policy(&name).await?))
}

/// Delete a policy.
#[utoipa::path(delete, path = "/v1/policies/{name}", tag = "policies",
    params(("name" = String, Path, description = "Policy name, or namespace/name")),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    c.require_admin()?;
    s.service.delete_policy(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}
