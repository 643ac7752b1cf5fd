//! `signet-verifier`: see DESIGN.md, Contracts.

use clap::Parser;
use signet_verifier::{app, config::Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,signet_verifier=info".into()),
        )
        .init();
    app::run(Config::parse()).await
}
