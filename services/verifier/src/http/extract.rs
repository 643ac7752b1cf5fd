//! Extractors: the authenticated caller, and bodies, query strings and path parameters
//! whose rejections speak the API's error format (413 for oversized bodies, 400 for
//! malformed JSON or a parameter that does not parse), not axum's plain text.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::service::Service;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    Service: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let service = Service::from_ref(state);
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        Ok(Caller(service.auth().authenticate(header).await?))
    }
}

/// A UTF-8 body (policy documents are YAML or JSON text).
#[derive(Debug)]
pub struct Text(pub String);

fn body_error(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::bad_request(text)
    }
}

impl<S: Send + Sync> FromRequest<S> for Text {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e: BytesRejection| body_error(e.status(), e.body_text()))?;
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| ApiError::bad_request("the body is not UTF-8"))?;
        Ok(Text(text))
    }
}

/// A JSON body.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(e) => {
                let status = e.status();
                let text = match &e {
                    JsonRejection::JsonDataError(_) | JsonRejection::JsonSyntaxError(_) => {
                        format!("invalid JSON body: {}", e.body_text())
                    }
                    _ => e.body_text(),
                };
                Err(body_error(status, text))
            }
        }
    }
}

/// Query parameters. A parameter that does not parse (`?since=abc`) is a 400 naming it.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            // The source is serde's error with the parameter's name in front:
            // `since: invalid digit found in string`.
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let why = std::error::Error::source(&e)
                    .map(ToString::to_string)
                    .unwrap_or_else(|| e.body_text());
                Err(ApiError::bad_request(format!(
                    "invalid query string: {why}"
                )))
            }
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}

/// Path parameters. One that is not valid (percent-encoded bytes that are not UTF-8) is a
/// 400; a route whose parameters do not fit the handler's type is a bug, so a 500.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) if e.status().is_server_error() => Err(ApiError::Internal(e.body_text())),
            // The kind names the parameter: "Invalid UTF-8 in `name`".
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(ApiError::bad_request(
                format!("invalid path parameter: {}", e.kind()),
            )),
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}
