//! Configuration by flags and environment (DESIGN.md, Contracts).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// signet-verifier: verifies container images for a fleet of clusters.
#[derive(Debug, Clone, Parser)]
#[command(name = "signet-verifier", version, about)]
pub struct Config {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// REST (and /metrics, /healthz) listen address.
    #[arg(long, env = "SIGNET_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,
    /// gRPC listen address.
    #[arg(long, env = "SIGNET_GRPC_ADDR", default_value = "127.0.0.1:50051")]
    pub grpc_addr: SocketAddr,
    /// Postgres URL; without one the embedded store in --data-dir is used.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Redis URL for the shared verdict cache; without one only the in-process cache is used.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Where the embedded store keeps its data.
    #[arg(long, env = "SIGNET_DATA_DIR", default_value = "./signet-data")]
    pub data_dir: PathBuf,
    /// Where the first start writes the bootstrap admin token (mode 0600); printed once
    /// when not set.
    #[arg(long, env = "SIGNET_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Allow plain-HTTP registries (tests and labs only).
    #[arg(long, env = "SIGNET_ALLOW_HTTP_REGISTRY")]
    pub allow_http_registry: bool,
}

/// Subcommands besides serving.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Apply the database migrations and exit.
    Migrate,
}
