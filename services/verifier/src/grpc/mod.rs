//! gRPC (`proto/signet/v1/verifier.proto`): `Review` for relays, `VerifyImage` for
//! pipelines and the CLI. Like the REST handlers, these are thin: authenticate the
//! `authorization` metadata, call [`Service`], convert the answer; every error goes
//! through the one table in [`crate::error`]. Around them, [`observe`] gives each call a
//! request id and a span, and counts it.

pub mod observe;
mod review;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use signet_proto::v1::verifier_server::VerifierServer;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic::{Request, Status};

use crate::auth::Principal;
use crate::error::{tonic_code, ApiError};
use crate::metrics::Metrics;
use crate::service::Service;
use observe::ObserveLayer;

/// The longest a call may run when the caller sends no shorter `grpc-timeout`: a call
/// past its deadline is cancelled and answered `CANCELLED` ("Timeout expired").
pub const MAX_CALL_DURATION: Duration = Duration::from_secs(60);

/// Largest request or response message, in bytes. An UPDATE's AdmissionRequest carries
/// the object and the old object, each up to the API server's 3 MiB.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

/// Why the gRPC server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listen address could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server failed while serving.
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
}

/// The `signet.v1.Verifier` service on top of the domain [`Service`].
#[derive(Debug, Clone)]
pub struct GrpcVerifier {
    service: Service,
    /// Decisions by result and their latencies, as REST records them.
    metrics: Metrics,
}

impl GrpcVerifier {
    /// Wraps the domain service; decisions are counted in `metrics`.
    pub fn new(service: Service, metrics: Metrics) -> Self {
        GrpcVerifier { service, metrics }
    }

    /// The caller behind the `authorization` metadata (`Bearer <jwt>`).
    async fn authenticate<T>(&self, request: &Request<T>) -> Result<Principal, Status> {
        let header = match request.metadata().get("authorization") {
            None => None,
            Some(value) => Some(value.to_str().map_err(|_| {
                Status::from(ApiError::Unauthenticated(
                    "the authorization metadata is not a bearer token".into(),
                ))
            })?),
        };
        Ok(self.service.auth().authenticate(header).await?)
    }
}

/// The tonic service, ready for [`Server::add_service`].
pub fn server(service: Service, metrics: Metrics) -> VerifierServer<GrpcVerifier> {
    VerifierServer::new(GrpcVerifier::new(service, metrics))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES)
}

/// Binds the gRPC listener on `addr`, with TCP_NODELAY (small unary answers are not held
/// back waiting for more to send).
pub fn bind(addr: SocketAddr) -> Result<TcpIncoming, ServeError> {
    Ok(TcpIncoming::bind(addr)
        .map_err(|source| ServeError::Bind { addr, source })?
        .with_nodelay(Some(true)))
}

/// Serves gRPC on `addr` until `shutdown` resolves, then finishes the calls in flight.
pub async fn serve(
    service: Service,
    metrics: Metrics,
    addr: SocketAddr,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    serve_incoming(service, metrics, bind(addr)?, shutdown).await
}

/// Like [`serve`], on a listener bound already ([`bind`]; port 0 in tests, read back
/// with `local_addr`). Calls are counted, and decisions recorded, in `metrics`.
pub async fn serve_incoming(
    service: Service,
    metrics: Metrics,
    incoming: TcpIncoming,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    if let Ok(addr) = incoming.local_addr() {
        tracing::info!(grpc = %addr, "gRPC listening");
    }
    // Each call's deadline is the shorter of its `grpc-timeout` and MAX_CALL_DURATION;
    // tonic drops the handler (and the verification under it) when it passes. The
    // observing layer sits inside the deadline, so a call cut short counts as CANCELLED.
    Server::builder()
        .timeout(MAX_CALL_DURATION)
        .layer(ObserveLayer::new(metrics.grpc_requests()))
        .add_service(server(service, metrics))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await?;
    Ok(())
}

/// The gRPC code for each row of the error table, one to one.
fn code(c: tonic_code::Code) -> tonic::Code {
    match c {
        tonic_code::Code::Unauthenticated => tonic::Code::Unauthenticated,
        tonic_code::Code::PermissionDenied => tonic::Code::PermissionDenied,
        tonic_code::Code::InvalidArgument => tonic::Code::InvalidArgument,
        tonic_code::Code::NotFound => tonic::Code::NotFound,
        tonic_code::Code::AlreadyExists => tonic::Code::AlreadyExists,
        tonic_code::Code::ResourceExhausted => tonic::Code::ResourceExhausted,
        tonic_code::Code::Unavailable => tonic::Code::Unavailable,
        tonic_code::Code::Internal => tonic::Code::Internal,
    }
}

impl From<ApiError> for Status {
    /// Through [`ApiError::classify`]; the message is the error's `Display`, which
    /// carries no internal detail (those are logged here, once).
    fn from(e: ApiError) -> Self {
        match &e {
            ApiError::Internal(detail) => tracing::error!(error = %detail, "internal error"),
            ApiError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "dependency unavailable")
            }
            _ => tracing::debug!(error = %e, "call refused"),
        }
        let (_, c, _) = e.classify();
        Status::new(code(c), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_maps_to_its_table_code_and_display() {
        let cases = [
            (
                ApiError::Unauthenticated("no bearer token".into()),
                tonic::Code::Unauthenticated,
            ),
            (
                ApiError::Forbidden("x".into()),
                tonic::Code::PermissionDenied,
            ),
            (ApiError::bad_request("bad"), tonic::Code::InvalidArgument),
            (ApiError::NotFound("x".into()), tonic::Code::NotFound),
            (ApiError::Conflict("x".into()), tonic::Code::AlreadyExists),
            (ApiError::PayloadTooLarge, tonic::Code::ResourceExhausted),
            (ApiError::Unavailable("x".into()), tonic::Code::Unavailable),
            (ApiError::Internal("x".into()), tonic::Code::Internal),
        ];
        for (e, want) in cases {
            let display = e.to_string();
            let status = Status::from(e);
            assert_eq!(status.code(), want);
            assert_eq!(status.message(), display);
        }
    }

    #[test]
    fn internal_details_stay_out_of_the_status() {
        let status = Status::from(ApiError::Internal(
            "password=hunter2 in the pool URL".into(),
        ));
        assert_eq!(status.message(), "internal error");
    }
}
