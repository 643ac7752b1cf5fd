//! Operations endpoints: liveness, readiness (the store answers), metrics, the OpenAPI
//! document; and the middleware that counts requests.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use utoipa::OpenApi;

use super::openapi::ApiDoc;
use super::AppState;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the store answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, description = "The store is unreachable")))]
pub async fn readyz(State(s): State<AppState>) -> Response {
    // A probe answers within its own deadline even when the pool waits for a connection.
    let ping =
        tokio::time::timeout(std::time::Duration::from_secs(2), s.service.store().ping()).await;
    // Redis is reported but never makes the verifier unready: it decides with L1 alone.
    let redis = match s.service.redis() {
        Some(r) => Some(match r.ping().await {
            Ok(()) => "ok".to_owned(),
            Err(why) => format!("unavailable: {why}"),
        }),
        None => None,
    };
    // Decisions are written behind the answers: a backlog or a failing writer is reported,
    // and makes the verifier unready only through the store itself.
    let journal = s.service.journal();
    let decisions = json!({
        "backlog": journal.backlog(),
        "failing": journal.failure(),
    });
    match ping.unwrap_or_else(|_| {
        Err(crate::store::StoreError::Unavailable(
            "no answer within 2 s".into(),
        ))
    }) {
        Ok(()) => {
            let mut body = json!({"status": "ready", "store": "ok", "decisions": decisions});
            if let Some(redis) = redis {
                body["redis"] = json!(redis);
            }
            (StatusCode::OK, Json(body)).into_response()
        }
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "store": e.to_string(), "decisions": decisions})),
        )
            .into_response(),
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        {
            let redis = s.service.redis().map(|r| r.is_up());
            s.metrics
                .sync_cache(s.service.verifier().cache_stats(), redis);
            s.metrics.sync_journal(s.service.journal());
            s.metrics.render()
        },
    )
        .into_response()
}

/// This API's OpenAPI document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1")))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Counts every request by method and status.
pub async fn count_requests(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let response = next.run(req).await;
    s.metrics
        .record_request(&method, response.status().as_u16());
    response
}
