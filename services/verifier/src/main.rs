//! `signet-verifier`: see DESIGN.md, Contracts.

use clap::Parser;
use signet_verifier::{app, config::Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    signet_verifier::logging::init(std::io::stdout);
    app::run(Config::parse()).await
}
