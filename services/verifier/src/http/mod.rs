//! REST under `/v1` (axum), plus `/healthz`, `/readyz`, `/metrics` and `/openapi.json`.
//! Handlers extract, call the domain service, and map the result; errors go through the
//! one table in [`crate::error`].

mod clusters;
mod extract;
mod keys;
pub mod openapi;
mod ops;
mod policies;
mod reports;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use extract::Caller;

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::service::Service;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The domain service.
    pub service: Service,
    /// Prometheus metrics.
    pub metrics: Metrics,
}

impl axum::extract::FromRef<AppState> for Service {
    fn from_ref(state: &AppState) -> Service {
        state.service.clone()
    }
}

/// The HTTP application.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    let v1 = Router::new()
        .route("/policies", get(policies::list).post(policies::apply))
        .route("/policies/lint", post(policies::lint))
        .route(
            "/policies/{*name}",
            get(policies::get).delete(policies::delete),
        )
        .route("/keys", get(keys::list).post(keys::put))
        .route(
            "/keys/{namespace}/{name}",
            get(keys::get).delete(keys::delete),
        )
        .route("/trust-roots", get(keys::list_roots).post(keys::put_root))
        .route(
            "/trust-roots/{name}",
            get(keys::get_root).delete(keys::delete_root),
        )
        .route(
            "/registry-credentials",
            get(keys::list_credentials).post(keys::put_credential),
        )
        .route(
            "/registry-credentials/{registry}",
            axum::routing::delete(keys::delete_credential),
        )
        .route("/clusters", get(clusters::list).post(clusters::register))
        .route(
            "/clusters/{name}",
            get(clusters::get).delete(clusters::delete),
        )
        .route("/clusters/{name}/labels", put(clusters::set_labels))
        .route("/clusters/{name}/policies", get(clusters::policies))
        .route(
            "/clusters/{name}/policyreports",
            get(reports::policy_reports),
        )
        .route(
            "/tokens",
            get(clusters::list_tokens).post(clusters::issue_token),
        )
        .route(
            "/tokens/{id}",
            axum::routing::delete(clusters::revoke_token),
        )
        .route("/verify", post(reports::verify))
        .route("/reports", get(reports::list))
        .route("/reports/summary", get(reports::summary));
    Router::new()
        .nest("/v1", v1)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), ops::count_requests))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// The policies that apply to clusters with these labels, as listed.
async fn policies_out(
    s: &AppState,
    labels: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<crate::service::PolicySummary>, ApiError> {
    let active = s.service.active_policies();
    let names: Vec<String> = crate::service::Service::policies_for(&active, labels)
        .iter()
        .map(|p| p.policy.qualified_name())
        .collect();
    Ok(s.service
        .list_policies()
        .await?
        .into_iter()
        .filter(|p| names.contains(&p.name))
        .collect())
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route {}", uri.path()))
}
