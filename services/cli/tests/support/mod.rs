//! A verifier for the CLI's administration tests: REST on a loopback port over the
//! embedded store in a temporary folder, with its bootstrap admin token.

// Each test binary uses part of this.
#![allow(dead_code)]

use signet_verifier::app::{self, Secrets};
use signet_verifier::cache::CacheOptions;
use signet_verifier::http::{router, AppState};
use signet_verifier::metrics::Metrics;
use signet_verifier::service::Service;
use signet_verifier::store::Store;
use signet_verify::registry::{RegistryConfig, Transport};
use signet_verify::trust::TrustRoot;

/// A running verifier; its folder (the store, and a home for `signet`'s login) lives as
/// long as the value.
pub struct Verifier {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The bootstrap admin token.
    pub admin: String,
    pub service: Service,
    pub store: Store,
    pub dir: tempfile::TempDir,
}

/// Starts a verifier with `secrets` (plain-HTTP registries allowed, as in the lab).
pub async fn start_verifier(secrets: Secrets) -> Verifier {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(None, &dir.path().join("data"))
        .await
        .expect("store");
    let registry = RegistryConfig {
        default_transport: Transport::Http,
        ..RegistryConfig::default()
    };
    let service = app::build_service_with(
        store.clone(),
        registry,
        TrustRoot::default(),
        CacheOptions::default(),
        secrets,
    )
    .await
    .expect("service");
    let admin = service
        .bootstrap_admin()
        .await
        .expect("bootstrap")
        .expect("admin")
        .token;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let state = AppState {
        service: service.clone(),
        metrics: Metrics::default(),
    };
    tokio::spawn(async move {
        let _ = axum::serve(listener, router(state, 1 << 20)).await;
    });
    Verifier {
        url,
        admin,
        service,
        store,
        dir,
    }
}
