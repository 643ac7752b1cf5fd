//! `signet-relay`: the per-cluster admission webhook (see the crate docs).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use std::sync::Arc;

use signet_relay::labels::NamespaceLabels;
use signet_relay::{Config, FailurePolicy, Relay};

/// HTTPS admission webhook forwarding AdmissionReviews to signet-verifier.
#[derive(Debug, Parser)]
#[command(name = "signet-relay", version)]
struct Args {
    /// The verifier's gRPC URL, e.g. http://signet-verifier:50051 or https://… (TLS).
    #[arg(long, env = "SIGNET_VERIFIER")]
    verifier: String,
    /// PEM CA certificate(s) to trust for an https:// verifier, besides the system's roots.
    #[arg(long)]
    verifier_ca: Option<PathBuf>,
    /// File holding the cluster's token.
    #[arg(long)]
    token_file: PathBuf,
    /// PEM certificate chain (reloaded when it changes).
    #[arg(long)]
    tls_cert: PathBuf,
    /// PEM private key (reloaded when it changes).
    #[arg(long)]
    tls_key: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:8443")]
    listen: SocketAddr,
    /// YAML map namespace → labels, for use outside a cluster.
    #[arg(long)]
    namespace_labels: Option<PathBuf>,
    /// What to do when the verifier cannot answer, until it reports its policies' failurePolicy.
    #[arg(long, value_enum, default_value = "fail")]
    failure_policy: FailurePolicy,
    /// Deadline of a Review call in seconds (lowered to the verifier's webhook timeout − 1).
    #[arg(long, default_value_t = 9.0)]
    timeout_seconds: f64,
    /// Answer from recent allow decisions for identical image sets, at most this old,
    /// when the verifier cannot answer; 0 (default) disables the cache.
    #[arg(long, default_value_t = 0)]
    allow_cache_seconds: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let token = std::fs::read_to_string(&args.token_file)
        .with_context(|| format!("reading {}", args.token_file.display()))?;
    anyhow::ensure!(
        args.timeout_seconds.is_finite() && args.timeout_seconds > 0.0,
        "--timeout-seconds must be positive"
    );
    let config = Config {
        verifier: args.verifier,
        verifier_ca: args.verifier_ca,
        token: token.trim().to_string(),
        tls_cert: args.tls_cert,
        tls_key: args.tls_key,
        listen: args.listen,
        namespace_labels: args.namespace_labels,
        failure_policy: args.failure_policy,
        timeout: Duration::from_secs_f64(args.timeout_seconds),
        allow_cache: Duration::from_secs(args.allow_cache_seconds),
    };
    let relay = match &config.namespace_labels {
        Some(_) => Relay::bind(&config).await?,
        None => Relay::bind_with_labels(&config, namespace_watch()).await?,
    };
    tracing::info!(addr = %relay.local_addr()?, verifier = %config.verifier, "signet-relay listening");
    relay.serve(shutdown_signal()).await
}

/// Labels kept up to date by a watch on Namespaces when built with the `kube`
/// feature; otherwise only each namespace's name label is known.
fn namespace_watch() -> Arc<NamespaceLabels> {
    let labels = Arc::new(NamespaceLabels::default());
    #[cfg(feature = "kube")]
    {
        let watched = labels.clone();
        tokio::spawn(async move {
            if let Err(error) = signet_relay::watch::watch_namespaces(watched).await {
                tracing::error!(%error, "cannot watch Namespaces; only name labels are known");
            }
        });
    }
    #[cfg(not(feature = "kube"))]
    tracing::warn!(
        "no --namespace-labels and built without the `kube` feature: only each namespace's \
         kubernetes.io/metadata.name label is forwarded"
    );
    labels
}

/// Completes on SIGTERM (Kubernetes stopping the Pod) or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}
