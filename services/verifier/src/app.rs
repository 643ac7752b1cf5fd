//! Start-up: open the store, load keys and policies, bootstrap the first admin token,
//! serve REST and gRPC until a shutdown signal, then finish in-flight calls.

use std::future::Future;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use futures_util::FutureExt;
use signet_verify::registry::{RegistryClient, RegistryConfig, Transport};
use signet_verify::trust::TrustRoot;
use signet_verify::Verifier;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;

use crate::auth::Authenticator;
use crate::cache::{CacheOptions, RedisStore};
use crate::config::{Command, Config};
use crate::http::{router, AppState};
use crate::metrics::Metrics;
use crate::service::{CredentialsKey, IssuedToken, Service, StoreKeys};
use crate::store::Store;

/// The service's own secrets, each from a file every replica mounts or the environment.
#[derive(Debug, Default)]
pub struct Secrets {
    /// The HMAC key tokens are signed with; `None`: the key kept in the store.
    pub jwt_key: Option<Vec<u8>>,
    /// The key that seals registry credentials; `None`: they cannot be stored.
    pub credentials_key: Option<CredentialsKey>,
}

impl Secrets {
    /// Reads `--jwt-key-file` and `--credentials-key-file`, or `SIGNET_CREDENTIALS_KEY`.
    pub fn load(config: &Config) -> anyhow::Result<Secrets> {
        let jwt_key = match &config.jwt_key_file {
            Some(path) => Some(
                std::fs::read(path)
                    .with_context(|| format!("reading the JWT key {}", path.display()))?,
            ),
            None => None,
        };
        let from_env = credentials_key_from_env()?;
        let credentials_key = match (&config.credentials_key_file, from_env) {
            (Some(_), Some(_)) => anyhow::bail!(
                "both --credentials-key-file and SIGNET_CREDENTIALS_KEY are set; set one"
            ),
            (Some(path), None) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading the credentials key {}", path.display()))?;
                Some(
                    CredentialsKey::from_base64(&text)
                        .map_err(anyhow::Error::msg)
                        .with_context(|| path.display().to_string())?,
                )
            }
            (None, from_env) => from_env,
        };
        Ok(Secrets {
            jwt_key,
            credentials_key,
        })
    }
}

/// The credentials key in `SIGNET_CREDENTIALS_KEY`, if set.
fn credentials_key_from_env() -> anyhow::Result<Option<CredentialsKey>> {
    std::env::var("SIGNET_CREDENTIALS_KEY")
        .ok()
        .map(|text| {
            CredentialsKey::from_base64(&text)
                .map_err(anyhow::Error::msg)
                .context("SIGNET_CREDENTIALS_KEY")
        })
        .transpose()
}

/// Builds the domain service on an open store, with the default in-process verdict
/// cache and no Redis.
pub async fn build_service(
    store: Store,
    registry: RegistryConfig,
    trust: TrustRoot,
) -> anyhow::Result<Service> {
    build_service_cached(store, registry, trust, CacheOptions::default()).await
}

/// Builds the domain service on an open store with the verdict cache `cache` (and its
/// Redis tier when `cache.redis_url` is set); the credentials key, if any, comes from
/// `SIGNET_CREDENTIALS_KEY`.
pub async fn build_service_cached(
    store: Store,
    registry: RegistryConfig,
    trust: TrustRoot,
    cache: CacheOptions,
) -> anyhow::Result<Service> {
    let secrets = Secrets {
        jwt_key: None,
        credentials_key: credentials_key_from_env()?,
    };
    build_service_with(store, registry, trust, cache, secrets).await
}

/// Builds the domain service on an open store with the verdict cache `cache` and the
/// service's `secrets`.
pub async fn build_service_with(
    store: Store,
    registry: RegistryConfig,
    trust: TrustRoot,
    cache: CacheOptions,
    secrets: Secrets,
) -> anyhow::Result<Service> {
    let auth = Authenticator::load(store.clone(), secrets.jwt_key).await?;
    let registry = RegistryClient::new(registry)?;
    let mut config = cache.config;
    let redis = match cache.redis_url.as_deref() {
        Some(url) => {
            let redis = Arc::new(RedisStore::new(url).context("REDIS_URL")?);
            config.l2 = Some(redis.clone());
            Some(redis)
        }
        None => None,
    };
    let verifier =
        Verifier::new(registry, Arc::new(StoreKeys(store.clone())), trust).with_cache(config);
    let service = Service::new(store, auth, verifier, secrets.credentials_key).await?;
    service.reload_trust_roots().await?;
    Ok(match redis {
        Some(redis) => service.with_redis(redis),
        None => service,
    })
}

/// How long shutdown waits for queued decisions to reach the store.
const SHUTDOWN_FLUSH: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs the verifier as configured.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let store = Store::open(config.database_url.as_deref(), &config.data_dir)
        .await
        .context("opening the store")?;
    if let Some(Command::Migrate) = config.command {
        store.migrate().await?;
        tracing::info!("migrations applied");
        return Ok(());
    }
    let registry = RegistryConfig {
        default_transport: if config.allow_http_registry {
            Transport::Http
        } else {
            Transport::Https
        },
        ..RegistryConfig::default()
    };
    let cache = config.cache_options();
    let secrets = Secrets::load(&config)?;
    let trust = TrustRoot::public_good()?;
    let service = build_service_with(store, registry, trust, cache, secrets).await?;
    if let Some(token) = service.bootstrap_admin().await? {
        hand_over_admin_token(&token, config.admin_token_file.as_deref())?;
    }
    let _watch = service.watch_changes();
    let listeners = Listeners {
        http: TcpListener::bind(config.http_addr)
            .await
            .with_context(|| format!("binding {}", config.http_addr))?,
        grpc: crate::grpc::bind(config.grpc_addr)?,
    };
    serve(service, listeners, config.max_body_bytes, shutdown_signal()).await
}

/// The verifier's listeners, bound already (port 0 in tests, read back with `local_addr`).
#[derive(Debug)]
pub struct Listeners {
    /// REST, `/metrics` and the probes.
    pub http: TcpListener,
    /// gRPC (see [`crate::grpc::bind`]).
    pub grpc: TcpIncoming,
}

/// Serves REST and gRPC over `service`, sharing one set of metrics, until `shutdown`
/// resolves. Then both stop accepting connections and finish the calls in flight, and
/// the decisions queued by then are written to the store before this returns.
pub async fn serve(
    service: Service,
    listeners: Listeners,
    max_body_bytes: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let metrics = Metrics::default();
    let state = AppState {
        service: service.clone(),
        metrics: metrics.clone(),
    };
    if let (Ok(http), Ok(grpc)) = (listeners.http.local_addr(), listeners.grpc.local_addr()) {
        tracing::info!(http = %http, grpc = %grpc, "signet-verifier listening");
    }
    let shutdown = shutdown.shared();
    let app = router(state, max_body_bytes);
    let http = axum::serve(listeners.http, app).with_graceful_shutdown(shutdown.clone());
    let grpc = crate::grpc::serve_incoming(service.clone(), metrics, listeners.grpc, shutdown);
    let (h, g) = tokio::join!(http, grpc);
    // Everything answered is stored before the process ends.
    let backlog = service.journal().backlog();
    if !service.journal().flush_within(SHUTDOWN_FLUSH).await {
        tracing::error!(
            backlog = service.journal().backlog(),
            "stopping with decisions not stored: the store did not accept them in time"
        );
    } else if backlog > 0 {
        tracing::info!(decisions = backlog, "queued decisions stored");
    }
    h.context("HTTP server")?;
    g.context("gRPC server")?;
    tracing::info!("stopped");
    Ok(())
}

/// Writes the first admin token to `file` (0600), or prints it once.
fn hand_over_admin_token(token: &IssuedToken, file: Option<&Path>) -> anyhow::Result<()> {
    match file {
        Some(path) => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("writing the admin token to {}", path.display()))?;
            // `mode` applies only when the file is created; a file that was there keeps
            // its mode unless it is set.
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            writeln!(f, "{}", token.token)?;
            tracing::info!(path = %path.display(), "bootstrap admin token written");
        }
        None => {
            // Printed once, to stdout, never logged: this is the only copy.
            println!(
                "Bootstrap admin token (shown once; store it now):\n{}",
                token.token
            );
        }
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight calls");
}
