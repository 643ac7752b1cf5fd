//! # signet-relay
//!
//! The per-cluster admission webhook of Signet (DESIGN.md, "Relay"). It serves
//! `POST /mutate` and `POST /validate` over HTTPS for the API server's
//! Mutating- and ValidatingWebhookConfiguration, forwards each
//! `admission.k8s.io/v1` AdmissionRequest with its namespace's labels to
//! `signet-verifier` over gRPC (`signet.v1.Verifier/Review`) and answers with the
//! verifier's decision (and, on `/mutate`, its JSON Patch).
//!
//! When the verifier cannot answer within the deadline, the last `failurePolicy`
//! the verifier reported decides (Fail denies, Ignore admits with a warning),
//! unless a recent allow decision for the same namespace, operation, kind and
//! image set is cached (`--allow-cache-seconds`, off by default).
//!
//! The crate depends on tonic, axum/hyper and rustls only: no database, cache,
//! signature or verification crate.

pub mod admission;
pub mod forward;
pub mod labels;
pub mod metrics;
pub mod server;
pub mod tls;
#[cfg(feature = "kube")]
pub mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use server::Relay;

/// What the relay does when the verifier cannot answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailurePolicy {
    /// Deny the request with a message that the verifier is unreachable.
    Fail,
    /// Admit the request with a warning.
    Ignore,
}

/// Everything the relay needs to run (the command line, parsed).
#[derive(Debug, Clone)]
pub struct Config {
    /// The verifier's gRPC endpoint, e.g. `http://signet-verifier:50051` or
    /// `https://signet.example.com:443`.
    pub verifier: String,
    /// PEM CA certificate(s) trusted for an `https://` verifier, besides the
    /// system's roots.
    pub verifier_ca: Option<PathBuf>,
    /// The cluster's bearer token (the content of `--token-file`).
    pub token: String,
    /// PEM certificate chain served to the API server; reloaded when it changes.
    pub tls_cert: PathBuf,
    /// PEM private key for `tls_cert`; reloaded when it changes.
    pub tls_key: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// YAML map namespace → labels (outside a cluster).
    pub namespace_labels: Option<PathBuf>,
    /// Failure policy used before the verifier has reported one.
    pub failure_policy: FailurePolicy,
    /// Upper bound of the deadline for one Review call.
    pub timeout: Duration,
    /// Maximum age of a cached allow decision; zero disables the cache.
    pub allow_cache: Duration,
}

/// The relay's version, sent to the verifier with each Review.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
