//! Configuration by flags and environment (DESIGN.md, Contracts).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use signet_verify::cache::CacheConfig;

use crate::cache::CacheOptions;

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
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
    /// Redis URL for the shared verdict cache; without one only the in-process cache is used.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// How long a passing verdict stays cached, in seconds.
    #[arg(long, env = "SIGNET_CACHE_TTL_SECONDS", default_value_t = 300)]
    pub cache_ttl_seconds: u64,
    /// How long a failing verdict stays cached, in seconds (errors are never cached).
    #[arg(long, env = "SIGNET_CACHE_FAIL_TTL_SECONDS", default_value_t = 30)]
    pub cache_fail_ttl_seconds: u64,
    /// How long a tag → digest resolution stays cached, in seconds (0: never).
    #[arg(long, env = "SIGNET_DIGEST_TTL_SECONDS", default_value_t = 30)]
    pub digest_ttl_seconds: u64,
    /// Most verdicts kept in process.
    #[arg(long, env = "SIGNET_CACHE_MAX_ENTRIES", default_value_t = 100_000)]
    pub cache_max_entries: u64,
    /// Where the embedded store keeps its data.
    #[arg(
        long,
        env = "SIGNET_DATA_DIR",
        default_value = "./signet-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Where the first start writes the bootstrap admin token (mode 0600); printed once
    /// when not set.
    #[arg(long, env = "SIGNET_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// File holding the HMAC key tokens are signed with (at least 32 bytes, the same file
    /// on every replica); without one the key is generated into the store at first start.
    #[arg(long, env = "SIGNET_JWT_KEY_FILE")]
    pub jwt_key_file: Option<PathBuf>,
    /// File holding the key that seals stored registry credentials (32 bytes, base64);
    /// or set SIGNET_CREDENTIALS_KEY.
    #[arg(long, env = "SIGNET_CREDENTIALS_KEY_FILE")]
    pub credentials_key_file: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "SIGNET_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
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

impl Config {
    /// The verdict cache settings of these flags.
    pub fn cache_options(&self) -> CacheOptions {
        CacheOptions {
            redis_url: self.redis_url.clone(),
            config: CacheConfig {
                pass_ttl: Duration::from_secs(self.cache_ttl_seconds),
                fail_ttl: Duration::from_secs(self.cache_fail_ttl_seconds),
                digest_ttl: Duration::from_secs(self.digest_ttl_seconds),
                max_entries: self.cache_max_entries,
                l2: None,
                ..CacheConfig::default()
            },
        }
    }
}
