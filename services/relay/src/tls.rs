//! The relay's TLS certificate, reloaded when its files change.
//!
//! [`ReloadingCert`] is a rustls [`ResolvesServerCert`] holding the current
//! [`CertifiedKey`]. [`ReloadingCert::reload_if_changed`] compares the files'
//! metadata (modification time, length, inode) with those of the last load and
//! reads them again when they differ; the server calls it before each new
//! connection, so a renewed certificate (a Secret update, cert-manager) is served
//! without a restart. A failed reload (half-written files, mismatched key) keeps
//! the previous certificate.

use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use anyhow::Context as _;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Identity of a file's current content, as far as metadata tells.
type Stamp = Option<(Option<SystemTime>, u64, u64)>;

/// A certificate resolver that serves the latest successfully loaded cert/key pair.
#[derive(Debug)]
pub struct ReloadingCert {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    stamps: Mutex<(Stamp, Stamp)>,
}

fn stamp(path: &Path) -> Stamp {
    let meta: Metadata = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some((meta.modified().ok(), meta.len(), inode))
}

/// Reads a PEM certificate chain and private key into a [`CertifiedKey`].
pub fn load(cert_path: &Path, key_path: &Path) -> anyhow::Result<CertifiedKey> {
    let certs = CertificateDer::pem_file_iter(cert_path)
        .with_context(|| format!("reading {}", cert_path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", cert_path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "{}: no certificate", cert_path.display());
    let key = PrivateKeyDer::from_pem_file(key_path)
        .with_context(|| format!("reading {}", key_path.display()))?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let certified = CertifiedKey::from_der(certs, key, &provider).with_context(|| {
        format!(
            "{} does not match {}",
            key_path.display(),
            cert_path.display()
        )
    })?;
    Ok(certified)
}

impl ReloadingCert {
    /// Loads the pair once; fails when it cannot be used.
    pub fn new(cert_path: PathBuf, key_path: PathBuf) -> anyhow::Result<Self> {
        let stamps = (stamp(&cert_path), stamp(&key_path));
        let current = load(&cert_path, &key_path)?;
        Ok(ReloadingCert {
            cert_path,
            key_path,
            current: RwLock::new(Arc::new(current)),
            stamps: Mutex::new(stamps),
        })
    }

    /// Reloads the pair when either file changed; returns whether it did.
    pub fn reload_if_changed(&self) -> bool {
        let now = (stamp(&self.cert_path), stamp(&self.key_path));
        let mut stamps = self.stamps.lock().unwrap_or_else(|e| e.into_inner());
        if *stamps == now {
            return false;
        }
        match load(&self.cert_path, &self.key_path) {
            Ok(key) => {
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(key);
                *stamps = now;
                tracing::info!(cert = %self.cert_path.display(), "TLS certificate reloaded");
                true
            }
            Err(error) => {
                tracing::warn!(%error, "TLS certificate changed but cannot be loaded; keeping the previous one");
                false
            }
        }
    }

    /// A rustls server configuration (HTTP/2 and HTTP/1.1) resolving through `self`.
    pub fn server_config(self: &Arc<Self>) -> anyhow::Result<ServerConfig> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}
