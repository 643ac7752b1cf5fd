//! `signet login`: the verifier's URL and token in the user's config dir, mode 0600.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// What `signet login` stores.
#[derive(Debug, Serialize, Deserialize)]
pub struct Stored {
    /// Verifier URL.
    pub server: String,
    /// Token.
    pub token: String,
}

fn path() -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .context("no HOME or XDG_CONFIG_HOME")?;
    Ok(base.join("signet").join("login.json"))
}

/// Stores server and token.
pub fn store(server: &str, token: &str) -> anyhow::Result<PathBuf> {
    let path = path()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(
        serde_json::to_string_pretty(&Stored {
            server: server.to_owned(),
            token: token.to_owned(),
        })?
        .as_bytes(),
    )?;
    Ok(path)
}

/// Reads the stored login.
pub fn load() -> anyhow::Result<Stored> {
    let text = std::fs::read_to_string(path()?)?;
    Ok(serde_json::from_str(&text)?)
}
