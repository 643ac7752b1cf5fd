//! How Signet reaches registries: credentials, transport security, limits and retries.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use signet_policy::image::{DOCKER_HUB, DOCKER_HUB_LEGACY};

/// Credentials for one registry. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// HTTP basic credentials (also used to obtain bearer tokens).
    Basic {
        /// User name.
        username: String,
        /// Password or access token.
        password: String,
    },
    /// A registry token sent as `Authorization: Bearer`.
    Bearer(String),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Credentials::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// How to talk to a registry host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Transport {
    /// HTTPS with certificate verification (default).
    #[default]
    Https,
    /// HTTPS without certificate verification (`--allow-insecure-registry`).
    HttpsUnverified,
    /// Plain HTTP (`--allow-http-registry`).
    Http,
    /// HTTPS without verification, falling back to plain HTTP when the registry does not
    /// speak TLS: Kyverno's `allowInsecureRegistry`, as go-containerregistry does it.
    Insecure,
}

/// Registry client settings.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// Credentials by registry host (`ghcr.io`, `127.0.0.1:5000`; `docker.io` for Docker Hub).
    pub credentials: HashMap<String, Credentials>,
    /// Transport by registry host; hosts not listed use `default_transport`.
    pub transports: HashMap<String, Transport>,
    /// Transport for hosts not listed in `transports`.
    pub default_transport: Transport,
    /// Extra CA certificates (PEM) trusted for HTTPS.
    pub ca_certificates_pem: Vec<Vec<u8>>,
    /// Deadline of one HTTP request (connect, send, read the whole body).
    pub request_timeout: Duration,
    /// Deadline for establishing a connection.
    pub connect_timeout: Duration,
    /// Largest manifest accepted.
    pub max_manifest_bytes: usize,
    /// Largest blob (signature payload, attestation envelope) accepted.
    pub max_blob_bytes: usize,
    /// Retries after 429, 502, 503, 504 or a refused connection.
    pub max_retries: u32,
    /// First backoff; doubled on each retry.
    pub initial_backoff: Duration,
    /// Longest wait between retries, including a server's `Retry-After`.
    pub max_backoff: Duration,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            credentials: HashMap::new(),
            transports: HashMap::new(),
            default_transport: Transport::Https,
            ca_certificates_pem: Vec::new(),
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_manifest_bytes: 4 * 1024 * 1024,
            max_blob_bytes: 16 * 1024 * 1024,
            max_retries: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RegistryConfig {
    /// The transport for `host`.
    pub fn transport_for(&self, host: &str) -> Transport {
        self.transports
            .get(host)
            .copied()
            .unwrap_or(self.default_transport)
    }

    /// The credentials for `host`, looking Docker Hub up under its aliases too.
    pub fn credentials_for(&self, host: &str) -> Option<&Credentials> {
        lookup(&self.credentials, host)
    }
}

/// `map[host]`, looking Docker Hub up under its aliases too.
fn lookup<'m>(map: &'m HashMap<String, Credentials>, host: &str) -> Option<&'m Credentials> {
    map.get(host).or_else(|| {
        if host == DOCKER_HUB {
            [
                DOCKER_HUB_LEGACY,
                "registry-1.docker.io",
                "https://index.docker.io/v1/",
            ]
            .iter()
            .find_map(|alias| map.get(*alias))
        } else {
            None
        }
    })
}

/// A named set of registry credentials: what Kyverno reads from a
/// `kubernetes.io/dockerconfigjson` Secret that a rule names in
/// `imageRegistryCredentials.secrets`. `Debug` shows the registries, never a secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CredentialSet {
    registries: HashMap<String, Credentials>,
    revision: String,
}

impl CredentialSet {
    /// An empty set. `revision` identifies this version of the set's contents and must
    /// change whenever they change: it goes into verdict-cache keys (which a shared cache
    /// may hold), so that a changed set never answers with a verdict reached through the
    /// old one. It must not be derived from the secrets in clear; a digest of their sealed
    /// form, or a random value per write, will do.
    pub fn new(revision: impl Into<String>) -> Self {
        CredentialSet {
            registries: HashMap::new(),
            revision: revision.into(),
        }
    }

    /// Adds (or replaces) the credentials for `registry` (a host, `docker.io` for Docker
    /// Hub).
    pub fn insert(&mut self, registry: impl Into<String>, credentials: Credentials) {
        self.registries.insert(registry.into(), credentials);
    }

    /// The credentials for `host`, looking Docker Hub up under its aliases too.
    pub fn get(&self, host: &str) -> Option<&Credentials> {
        lookup(&self.registries, host)
    }

    /// The registries the set has credentials for.
    pub fn registries(&self) -> impl Iterator<Item = &str> {
        self.registries.keys().map(String::as_str)
    }

    /// The revision given to [`CredentialSet::new`].
    pub fn revision(&self) -> &str {
        &self.revision
    }
}

impl fmt::Debug for CredentialSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut registries: Vec<&str> = self.registries().collect();
        registries.sort_unstable();
        f.debug_struct("CredentialSet")
            .field("registries", &registries)
            .field("revision", &self.revision)
            .finish()
    }
}
