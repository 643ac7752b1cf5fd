//! The HTTP side of registry access: transports, authentication, retries with backoff,
//! bounded reads. Written on reqwest rather than `oci-client` because the latter reads
//! manifests without a size bound and hides `Retry-After`, both of which Signet needs.
//!
//! - this module: the client, its views (insecure, a rule's credential secrets) and the
//!   credentials each view reads with; bounded body reads;
//! - [`send`]: one request's life, its transport, retries and backoff;
//! - [`token`]: answering a registry's challenge, and the tokens kept.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::digest::{Context, SHA256};
use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};

pub(crate) use super::http::Response;
use super::http::{proxy_in_environment, FastClient, USER_AGENT_VALUE};
use super::{CredentialSet, Credentials, RegistryConfig, Transport};
use crate::{Error, Result};

mod send;
mod token;

/// A registry client shared by every verification; cheap to clone.
#[derive(Debug, Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
    /// Hosts reached over HTTPS are reached as [`Transport::Insecure`] instead: the view
    /// of a policy entry with `imageRegistryCredentials.allowInsecureRegistry`.
    insecure: bool,
    /// The named credential sets this view reads with instead of the stored and
    /// configured credentials: the view of an entry with `imageRegistryCredentials.secrets`.
    secrets: Option<Arc<SecretsView>>,
}

/// The named sets of a [`RegistryClient::with_secrets`] view, as they were when it was
/// made.
struct SecretsView {
    names: Vec<String>,
    sets: Vec<Arc<CredentialSet>>,
    /// The names in order and a digest of the sets' revisions: what the view's
    /// authorizations, fetches and verdicts are kept under.
    identity: String,
}

impl fmt::Debug for SecretsView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretsView")
            .field("names", &self.names)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// Authorization header values are cached by (credentials identity, host, scope).
type AuthKey = (String, String, String);

struct Inner {
    config: RegistryConfig,
    /// reqwest: token services, TLS probes, and every request when the environment
    /// configures a proxy.
    verified: reqwest::Client,
    unverified: reqwest::Client,
    /// hyper: registry requests otherwise (see `super::http`).
    fast: Option<(FastClient, FastClient)>,
    /// Authorization header values by (credentials identity, host, scope), with their
    /// expiry: a token obtained with one view's credentials is never sent by a view with
    /// others. Secret: never in `Debug`.
    auth: Mutex<HashMap<AuthKey, (String, Instant)>>,
    /// Schemes found by probing hosts whose transport is `Insecure`.
    probed: Mutex<HashMap<String, &'static str>>,
    /// Credentials stored in the service, replaced whenever they change there; they take
    /// precedence over the configured ones. Secret: never in `Debug`.
    stored: std::sync::RwLock<HashMap<String, Credentials>>,
    /// Named credential sets ([`RegistryClient::set_named_credentials`]). Secret: never
    /// in `Debug`.
    named: std::sync::RwLock<Arc<HashMap<String, Arc<CredentialSet>>>>,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The cached Authorization values are bearer tokens and base64 passwords: show
        // which (host, scope) pairs have one, never the value.
        let cached: Vec<AuthKey> = self
            .auth
            .lock()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        f.debug_struct("Inner")
            .field("config", &self.config)
            .field("cached_auth", &cached)
            .field("probed", &self.probed)
            .finish_non_exhaustive()
    }
}

/// What a request needs: read only, or read and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Pull,
    Push,
}

/// One request to a registry host.
pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    pub(crate) host: &'a str,
    pub(crate) repository: &'a str,
    /// Path and query after the host, starting with `/v2/`.
    pub(crate) path: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Bytes>,
    pub(crate) access: Access,
}

const RETRYABLE: [StatusCode; 4] = [
    StatusCode::TOO_MANY_REQUESTS,
    StatusCode::BAD_GATEWAY,
    StatusCode::SERVICE_UNAVAILABLE,
    StatusCode::GATEWAY_TIMEOUT,
];

impl RegistryClient {
    /// Builds the HTTP clients; fails when a CA certificate does not parse.
    pub fn new(config: RegistryConfig) -> Result<Self> {
        let build = |verify: bool| -> Result<reqwest::Client> {
            let mut b = reqwest::Client::builder()
                .timeout(config.request_timeout)
                .connect_timeout(config.connect_timeout)
                .user_agent(USER_AGENT_VALUE)
                .redirect(reqwest::redirect::Policy::limited(5));
            if verify {
                for pem in &config.ca_certificates_pem {
                    let cert = reqwest::Certificate::from_pem(pem)
                        .map_err(|e| Error::Key(format!("registry CA certificate: {e}")))?;
                    b = b.add_root_certificate(cert);
                }
            } else {
                b = b.tls_danger_accept_invalid_certs(true);
            }
            b.build()
                .map_err(|e| Error::Malformed(format!("HTTP client: {e}")))
        };
        let verified = build(true)?;
        let unverified = build(false)?;
        let fast = if proxy_in_environment() {
            None
        } else {
            let mut roots = Vec::new();
            for pem in &config.ca_certificates_pem {
                use rustls_pki_types::pem::PemObject;
                for cert in rustls_pki_types::CertificateDer::pem_slice_iter(pem) {
                    roots.push(
                        cert.map_err(|e| Error::Key(format!("registry CA certificate: {e}")))?,
                    );
                }
            }
            let fast = |verify: bool| {
                FastClient::new(verify, &roots, config.connect_timeout)
                    .map_err(|e| Error::Malformed(format!("HTTP client: {e}")))
            };
            Some((fast(true)?, fast(false)?))
        };
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                verified,
                unverified,
                fast,
                config,
                auth: Mutex::new(HashMap::new()),
                probed: Mutex::new(HashMap::new()),
                stored: std::sync::RwLock::new(HashMap::new()),
                named: std::sync::RwLock::default(),
            }),
            insecure: false,
            secrets: None,
        })
    }

    /// This client as a policy entry with `imageRegistryCredentials.allowInsecureRegistry`
    /// sees it: every host that would be reached over HTTPS is reached without
    /// certificate verification, falling back to plain HTTP when it does not speak TLS
    /// (Kyverno's go-containerregistry `name.Insecure`). Hosts configured for plain HTTP
    /// stay so. Shares connections, authorizations and stored credentials with `self`.
    pub fn allowing_insecure(&self) -> RegistryClient {
        RegistryClient {
            inner: self.inner.clone(),
            insecure: true,
            secrets: self.secrets.clone(),
        }
    }

    /// This client as a policy entry with `imageRegistryCredentials.secrets: names` sees
    /// it: the credentials for a host are those of the first named set (in `names` order)
    /// that holds the host, and a host that none holds is read anonymously. The stored and
    /// configured credentials are not used: Kyverno builds such a rule's registry client
    /// from its secrets alone (its global `--imagePullSecrets` and the ambient keychain are
    /// not consulted). The sets are taken as they are now. A name that no set has is an
    /// error, where Kyverno would skip it and read anonymously: a policy that names
    /// credentials Signet does not hold is not silently enforced without them.
    pub fn with_secrets(&self, names: &[String]) -> Result<RegistryClient> {
        let named = match self.inner.named.read() {
            Ok(n) => n.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let mut sets = Vec::with_capacity(names.len());
        let mut revisions = Context::new(&SHA256);
        for name in names {
            let set = named
                .get(name)
                .ok_or_else(|| Error::NotFound(format!("registry credentials secret {name:?}")))?;
            for part in [name.as_str(), set.revision()] {
                revisions.update(part.as_bytes());
                revisions.update(b"\0");
            }
            sets.push(set.clone());
        }
        let digest = hex::encode(&revisions.finish().as_ref()[..16]);
        Ok(RegistryClient {
            inner: self.inner.clone(),
            insecure: self.insecure,
            secrets: Some(Arc::new(SecretsView {
                identity: format!("secrets:{}#{digest}", names.join(",")),
                names: names.to_vec(),
                sets,
            })),
        })
    }

    /// What this view's credentials are known by: empty for the stored and configured
    /// credentials; for a [`RegistryClient::with_secrets`] view, the secret names in order
    /// and a digest of the sets' revisions. Views with the same identity read every
    /// registry with the same credentials. Never holds a secret.
    pub fn credentials_identity(&self) -> &str {
        self.secrets.as_ref().map_or("", |v| v.identity.as_str())
    }

    /// Whether this is the view of [`RegistryClient::allowing_insecure`].
    pub fn allows_insecure(&self) -> bool {
        self.insecure
    }

    /// The transport this client uses for `host`: the configured one, relaxed to
    /// [`Transport::Insecure`] for an [`RegistryClient::allowing_insecure`] view.
    pub fn transport_for(&self, host: &str) -> Transport {
        match self.inner.config.transport_for(host) {
            Transport::Https | Transport::HttpsUnverified if self.insecure => Transport::Insecure,
            configured => configured,
        }
    }

    /// Replaces the credentials kept in the service's store (by registry host); cached
    /// authorizations are dropped so the new credentials are used from the next request.
    pub fn set_stored_credentials(&self, credentials: HashMap<String, Credentials>) {
        if let Ok(mut stored) = self.inner.stored.write() {
            *stored = credentials;
        }
        if let Ok(mut auth) = self.inner.auth.lock() {
            auth.clear();
        }
    }

    /// Replaces the named credential sets (by name) that
    /// [`RegistryClient::with_secrets`] views read with; cached authorizations are dropped.
    /// Views made before keep the sets they were made with.
    pub fn set_named_credentials(&self, sets: HashMap<String, CredentialSet>) {
        let sets: HashMap<String, Arc<CredentialSet>> =
            sets.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
        match self.inner.named.write() {
            Ok(mut named) => *named = Arc::new(sets),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(sets),
        }
        if let Ok(mut auth) = self.inner.auth.lock() {
            auth.clear();
        }
    }

    /// The names of the named credential sets held now, sorted.
    pub fn named_credentials(&self) -> Vec<String> {
        let mut names: Vec<String> = match self.inner.named.read() {
            Ok(n) => n.keys().cloned().collect(),
            Err(poisoned) => poisoned.into_inner().keys().cloned().collect(),
        };
        names.sort_unstable();
        names
    }

    /// Credentials for `host`: for a [`RegistryClient::with_secrets`] view, the first named
    /// set's that holds it; otherwise the stored ones first, then the configured ones.
    fn credentials_for(&self, host: &str) -> Option<Credentials> {
        if let Some(view) = &self.secrets {
            return view.sets.iter().find_map(|s| s.get(host)).cloned();
        }
        let stored = self
            .inner
            .stored
            .read()
            .ok()
            .and_then(|m| m.get(host).cloned());
        stored.or_else(|| self.inner.config.credentials_for(host).cloned())
    }

    /// The settings this client was built with.
    pub fn config(&self) -> &RegistryConfig {
        &self.inner.config
    }
}

/// Reads a body from `registry`, refusing more than `limit` bytes whatever
/// `Content-Length` claims; stops reading (and drops the connection) at the first byte
/// too many.
pub(crate) async fn read_limited(
    mut resp: Response,
    registry: &str,
    limit: usize,
    what: &str,
    timeout: Duration,
) -> Result<Bytes> {
    let too_large = || Error::TooLarge {
        what: what.to_owned(),
        limit,
    };
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut buf = BytesMut::new();
    loop {
        let chunk = resp.chunk().await.map_err(|e| {
            if e.is_timeout() {
                Error::Timeout {
                    registry: registry.to_owned(),
                    seconds: timeout.as_secs().max(1),
                }
            } else {
                Error::Registry {
                    registry: registry.to_owned(),
                    reason: format!("reading {what}: {}", error_chain(e.cause())),
                }
            }
        })?;
        let Some(chunk) = chunk else { break };
        if buf.len() + chunk.len() > limit {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// A header value from a static string.
pub(crate) fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// reqwest's error with its causes, for messages ("connection refused" is in the source).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
