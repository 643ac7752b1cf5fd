//! The HTTPS server: routes, handlers and the TLS accept loop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::admission::{self, ParseError, Response};
use crate::forward::Forwarder;
use crate::labels::NamespaceLabels;
use crate::metrics::Metrics;
use crate::tls::ReloadingCert;
use crate::Config;

/// Largest AdmissionReview accepted (the API server's own limit is 3 MiB of object).
const BODY_LIMIT: usize = 8 << 20;
/// Time a client has to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Shared state of the handlers.
#[derive(Debug)]
pub struct AppState {
    forwarder: Forwarder,
    labels: Arc<NamespaceLabels>,
    metrics: Metrics,
}

/// A relay bound to its address, ready to serve.
pub struct Relay {
    listener: TcpListener,
    cert: Arc<ReloadingCert>,
    acceptor: TlsAcceptor,
    app: Router,
    state: Arc<AppState>,
}

impl Relay {
    /// Loads the certificate and labels and binds `config.listen`.
    pub async fn bind(config: &Config) -> anyhow::Result<Self> {
        let labels = match &config.namespace_labels {
            Some(path) => NamespaceLabels::from_file(path)?,
            None => NamespaceLabels::default(),
        };
        Self::bind_with_labels(config, Arc::new(labels)).await
    }

    /// Like [`Relay::bind`], with labels kept up to date by the caller (a watch).
    pub async fn bind_with_labels(
        config: &Config,
        labels: Arc<NamespaceLabels>,
    ) -> anyhow::Result<Self> {
        let cert = Arc::new(ReloadingCert::new(
            config.tls_cert.clone(),
            config.tls_key.clone(),
        )?);
        let acceptor = TlsAcceptor::from(Arc::new(cert.server_config()?));
        let state = Arc::new(AppState {
            forwarder: Forwarder::new(config)?,
            labels,
            metrics: Metrics::default(),
        });
        let app = Router::new()
            .route("/mutate", post(mutate))
            .route("/validate", post(validate))
            .route("/healthz", get(|| async { "ok" }))
            .route("/metrics", get(metrics))
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .with_state(state.clone());
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        Ok(Relay {
            listener,
            cert,
            acceptor,
            app,
            state,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes. Before each new connection the
    /// certificate files are checked and reloaded when they changed.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        tokio::pin!(shutdown);
        loop {
            let (tcp, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => return Ok(()),
            };
            // Admission answers are small writes; without NODELAY, Nagle's algorithm and
            // the API server's delayed ACKs hold some of them back ~40 ms.
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, %peer, "TCP_NODELAY not set");
            }
            if self.cert.reload_if_changed() {
                self.state.metrics.cert_reloads.inc();
            }
            let acceptor = self.acceptor.clone();
            let service = TowerToHyperService::new(self.app.clone());
            tokio::spawn(async move {
                let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
                {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(error)) => return tracing::debug!(%peer, %error, "TLS handshake failed"),
                    Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
                };
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                if let Err(error) = builder.serve_connection(TokioIo::new(tls), service).await {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
            });
        }
    }
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("listener", &self.listener)
            .field("cert", &self.cert)
            .finish_non_exhaustive()
    }
}

async fn mutate(State(state): State<Arc<AppState>>, body: Bytes) -> HttpResponse {
    review(&state, "mutate", &body).await
}

async fn validate(State(state): State<Arc<AppState>>, body: Bytes) -> HttpResponse {
    review(&state, "validate", &body).await
}

async fn metrics(State(state): State<Arc<AppState>>) -> HttpResponse {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    (
        [(header::CONTENT_TYPE, content_type)],
        state.metrics.encode(),
    )
        .into_response()
}

/// Decides one AdmissionReview; `/validate` answers without the patch.
async fn review(state: &AppState, endpoint: &str, body: &[u8]) -> HttpResponse {
    let request = match admission::parse(body) {
        Ok(request) => request,
        Err(ParseError::NotAdmissionReview(message)) => {
            state.metrics.count(endpoint, "malformed");
            return (
                StatusCode::BAD_REQUEST,
                format!("not an AdmissionReview: {message}\n"),
            )
                .into_response();
        }
        Err(ParseError::BadRequest { uid, message }) => {
            state.metrics.count(endpoint, "malformed");
            return Json(Response::deny(&uid, 400, message).to_review()).into_response();
        }
    };
    let mut decision = state
        .forwarder
        .decide(&request, &state.labels, &state.metrics)
        .await;
    if endpoint == "validate" {
        decision.response.patch.clear();
    }
    tracing::info!(
        uid = %request.uid, namespace = %request.namespace, operation = %request.operation,
        kind = %request.kind, dry_run = request.dry_run, endpoint, outcome = decision.outcome,
        "admission request decided"
    );
    state.metrics.count(endpoint, decision.outcome);
    Json(decision.response.to_review()).into_response()
}
