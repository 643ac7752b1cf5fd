//! The service's one error type and the one table that maps it to HTTP status codes and
//! gRPC codes. Handlers return `ApiError`; nothing else decides a status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::StoreError;

/// What went wrong, by kind.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// No credentials, or credentials that are invalid, expired or revoked.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// Valid credentials without the right role or scope.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The request is malformed; `details` lists every problem (policy field paths).
    #[error("{message}")]
    BadRequest {
        /// Summary.
        message: String,
        /// One line per problem.
        details: Vec<String>,
    },
    /// No such resource or route.
    #[error("not found: {0}")]
    NotFound(String),
    /// The resource exists already.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The body is larger than allowed.
    #[error("request body too large")]
    PayloadTooLarge,
    /// A dependency (the store) is unreachable; nothing was changed or acknowledged.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; details are logged, not returned.
    #[error("internal error")]
    Internal(String),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Machine-readable kind: `unauthenticated`, `forbidden`, `bad_request`, …
    pub error: String,
    /// For a person.
    pub message: String,
    /// Every problem, when there are several (a policy's field paths).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl ApiError {
    /// The table: kind → (HTTP status, gRPC code, name).
    pub fn classify(&self) -> (StatusCode, tonic_code::Code, &'static str) {
        use tonic_code::Code;
        match self {
            ApiError::Unauthenticated(_) => (
                StatusCode::UNAUTHORIZED,
                Code::Unauthenticated,
                "unauthenticated",
            ),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, Code::PermissionDenied, "forbidden"),
            ApiError::BadRequest { .. } => (
                StatusCode::BAD_REQUEST,
                Code::InvalidArgument,
                "bad_request",
            ),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, Code::NotFound, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, Code::AlreadyExists, "conflict"),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::ResourceExhausted,
                "payload_too_large",
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                Code::Unavailable,
                "unavailable",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Code::Internal,
                "internal",
            ),
        }
    }

    /// A bad request with one message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// The body sent to clients; internal details stay in the log.
    pub fn body(&self) -> ErrorBody {
        let (_, _, name) = self.classify();
        let details = match self {
            ApiError::BadRequest { details, .. } => details.clone(),
            _ => Vec::new(),
        };
        ErrorBody {
            error: name.to_owned(),
            message: self.to_string(),
            details,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _, _) = self.classify();
        // Logged once, here, where the failure is handled.
        match &self {
            ApiError::Internal(detail) => tracing::error!(error = %detail, "internal error"),
            ApiError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "dependency unavailable")
            }
            _ => tracing::debug!(error = %self, "request refused"),
        }
        (status, axum::Json(self.body())).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => ApiError::Unavailable(m),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::NotFound(m) => ApiError::NotFound(m),
            StoreError::Invalid(m) => ApiError::bad_request(m),
            StoreError::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl From<signet_verify::Error> for ApiError {
    fn from(e: signet_verify::Error) -> Self {
        match e {
            signet_verify::Error::Policy(p) => ApiError::bad_request(p.to_string()),
            signet_verify::Error::Key(m) | signet_verify::Error::Malformed(m) => {
                ApiError::bad_request(m)
            }
            other => ApiError::Unavailable(other.to_string()),
        }
    }
}

/// gRPC status codes, named here so this table does not depend on the transport crate;
/// the gRPC layer converts them to `tonic::Code` one to one.
pub mod tonic_code {
    /// The gRPC codes the table uses.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Code {
        /// UNAUTHENTICATED
        Unauthenticated,
        /// PERMISSION_DENIED
        PermissionDenied,
        /// INVALID_ARGUMENT
        InvalidArgument,
        /// NOT_FOUND
        NotFound,
        /// ALREADY_EXISTS
        AlreadyExists,
        /// RESOURCE_EXHAUSTED
        ResourceExhausted,
        /// UNAVAILABLE
        Unavailable,
        /// INTERNAL
        Internal,
    }
}
