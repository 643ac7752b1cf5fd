//! The cosign CLI (Debian trixie's cosign 2.5, from `scripts/install-test-tools.sh`).

use std::ffi::{OsStr, OsString};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{bail, Context as _};

use crate::Registry;

const INSTALL_HINT: &str = "run scripts/install-test-tools.sh";

/// The cosign binary, run with what a test [`Registry`] needs.
#[derive(Debug, Clone)]
pub struct Cosign {
    binary: PathBuf,
}

impl Cosign {
    /// `$COSIGN_BIN`, else `<workspace>/.cache/bin/cosign`, else `cosign` on `PATH`.
    pub fn find() -> anyhow::Result<Cosign> {
        if let Some(path) = std::env::var_os("COSIGN_BIN").filter(|v| !v.is_empty()) {
            let binary = PathBuf::from(path);
            if !is_executable(&binary) {
                bail!(
                    "COSIGN_BIN={} is not an executable file: {INSTALL_HINT}",
                    binary.display()
                );
            }
            return Ok(Cosign { binary });
        }
        let cached = crate::workspace_root().join(".cache/bin/cosign");
        if is_executable(&cached) {
            return Ok(Cosign { binary: cached });
        }
        if let Some(binary) = find_on_path(OsStr::new("cosign")) {
            return Ok(Cosign { binary });
        }
        bail!(
            "cosign not found ($COSIGN_BIN unset, no {}, none on PATH): {INSTALL_HINT}",
            cached.display()
        )
    }

    /// A cosign at a known path.
    pub fn at(binary: impl Into<PathBuf>) -> Cosign {
        Cosign {
            binary: binary.into(),
        }
    }

    /// The binary's path.
    pub fn path(&self) -> &Path {
        &self.binary
    }

    /// Runs `cosign generate-key-pair` in `dir`; returns `(cosign.key, cosign.pub)`. The
    /// private key is encrypted with `password`.
    pub fn generate_key_pair(
        &self,
        dir: &Path,
        password: &str,
    ) -> anyhow::Result<(PathBuf, PathBuf)> {
        let key = dir.join("cosign.key");
        let public = dir.join("cosign.pub");
        if key.exists() || public.exists() {
            bail!("{} already holds a cosign key pair", dir.display());
        }
        let output = Command::new(&self.binary)
            .arg("generate-key-pair")
            .current_dir(dir)
            .env("COSIGN_PASSWORD", password)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {}", self.binary.display()))?;
        ensure_success(&output, "cosign generate-key-pair")?;
        if !key.is_file() || !public.is_file() {
            bail!("cosign generate-key-pair wrote no cosign.key/cosign.pub");
        }
        Ok((key, public))
    }

    /// A `cosign` command with the environment `registry` needs: `DOCKER_CONFIG` holding
    /// its credentials (an empty config when it has none) and, for a TLS registry,
    /// `SSL_CERT_FILE` naming its test CA. Flags go after the subcommand, so those a
    /// plain-HTTP registry needs come from [`Cosign::registry_flags`]. `COSIGN_PASSWORD`
    /// is left to the caller (an inherited one is removed).
    pub fn command(&self, registry: &Registry) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .stdin(Stdio::null())
            .env("DOCKER_CONFIG", registry.client_docker_config())
            .env_remove("COSIGN_PASSWORD")
            .env_remove("COSIGN_REPOSITORY")
            .env_remove("COSIGN_DOCKER_MEDIA_TYPES");
        if let Some(ca) = registry.ca_cert_pem_path() {
            command.env("SSL_CERT_FILE", ca);
        }
        command
    }

    /// Registry flags for sign/verify/attest subcommands: `--allow-http-registry` for a
    /// plain-HTTP registry, nothing for a TLS one.
    pub fn registry_flags(&self, registry: &Registry) -> Vec<&'static str> {
        if registry.is_tls() {
            Vec::new()
        } else {
            vec!["--allow-http-registry"]
        }
    }

    /// `cosign sign --yes --key KEY --tlog-upload=false [--allow-http-registry] EXTRA… IMAGE`.
    pub fn sign(
        &self,
        registry: &Registry,
        key: &Path,
        password: &str,
        image: &str,
        extra: &[&str],
    ) -> anyhow::Result<Output> {
        let mut command = self.command(registry);
        command
            .env("COSIGN_PASSWORD", password)
            .args(["sign", "--yes", "--tlog-upload=false", "--key"])
            .arg(key)
            .args(self.registry_flags(registry))
            .args(extra)
            .arg(image);
        run(command)
    }

    /// `cosign verify --key PUB --insecure-ignore-tlog [--allow-http-registry] EXTRA… IMAGE`.
    pub fn verify(
        &self,
        registry: &Registry,
        pubkey: &Path,
        image: &str,
        extra: &[&str],
    ) -> anyhow::Result<Output> {
        let mut command = self.command(registry);
        command
            .args(["verify", "--insecure-ignore-tlog", "--key"])
            .arg(pubkey)
            .args(self.registry_flags(registry))
            .args(extra)
            .arg(image);
        run(command)
    }

    /// `cosign attest --yes --key KEY --tlog-upload=false --type TYPE --predicate FILE
    /// [--allow-http-registry] IMAGE`.
    pub fn attest(
        &self,
        registry: &Registry,
        key: &Path,
        password: &str,
        predicate_type: &str,
        predicate: &Path,
        image: &str,
    ) -> anyhow::Result<Output> {
        let mut command = self.command(registry);
        command
            .env("COSIGN_PASSWORD", password)
            .args(["attest", "--yes", "--tlog-upload=false", "--key"])
            .arg(key)
            .args(["--type", predicate_type, "--predicate"])
            .arg(predicate)
            .args(self.registry_flags(registry))
            .arg(image);
        run(command)
    }

    /// `cosign verify-attestation --key PUB --type TYPE --insecure-ignore-tlog
    /// [--allow-http-registry] IMAGE`.
    pub fn verify_attestation(
        &self,
        registry: &Registry,
        pubkey: &Path,
        predicate_type: &str,
        image: &str,
    ) -> anyhow::Result<Output> {
        let mut command = self.command(registry);
        command
            .args(["verify-attestation", "--insecure-ignore-tlog", "--key"])
            .arg(pubkey)
            .args(["--type", predicate_type])
            .args(self.registry_flags(registry))
            .arg(image);
        run(command)
    }
}

/// Errs, with the command's stderr and stdout, unless it exited 0.
pub fn ensure_success(output: &Output, what: &str) -> anyhow::Result<()> {
    if output.status.success() {
        return Ok(());
    }
    bail!(
        "{what} failed ({}):\nstderr: {}\nstdout: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim(),
        String::from_utf8_lossy(&output.stdout).trim()
    )
}

fn run(mut command: Command) -> anyhow::Result<Output> {
    command
        .output()
        .with_context(|| format!("running {:?}", command.get_program()))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The first executable `name` in a folder of `PATH`.
pub(crate) fn find_on_path(name: &OsStr) -> Option<PathBuf> {
    let path: OsString = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}
