//! The verification engine: one `verifyImages` entry against one image.

mod attestations;
mod attestors;
mod bundle_checks;
mod bundle_trust;
pub mod bundles;
mod certs;
mod entry;
pub mod fetch;
mod identity;
pub mod keys;
mod parsed_keys;
mod roots;
mod signatures;
mod tlog;

use std::borrow::Cow;
use std::sync::Arc;

use signet_policy::image::ImageRef;
use signet_policy::{ImageVerification, Rekor};

use crate::registry::RegistryClient;
use crate::trust::{TransparencyLog, TrustRoot};
use crate::{Error, Result};

pub use entry::EntryVerdict;
pub use fetch::ArtifactCache;
pub use keys::{KeyResolver, StaticKeys};

/// Verifies images against policy entries. Shared by every request; cheap to clone.
#[derive(Debug, Clone)]
pub struct Verifier {
    pub(crate) registry: RegistryClient,
    /// `registry` as entries with `imageRegistryCredentials.allowInsecureRegistry` see it.
    pub(crate) insecure_registry: RegistryClient,
    pub(crate) keys: Arc<dyn KeyResolver>,
    pub(crate) trust: Arc<TrustRoot>,
    /// The verdict and tag caches, when configured ([`Verifier::with_cache`]).
    pub(crate) cache: Option<Arc<crate::cache::VerdictCache>>,
    /// Verifications run and cache hits.
    pub(crate) stats: Arc<crate::cache::CacheStats>,
    /// Named trust roots policies may select ([`Verifier::set_trust_roots`]).
    pub(crate) named: Arc<roots::NamedRoots>,
    /// Policy keys parsed for checking, by their material.
    pub(crate) parsed_keys: Arc<parsed_keys::ParsedKeys>,
}

impl Verifier {
    /// A verifier reading registries through `registry`, named keys through `keys`, and
    /// trusting the transparency logs and CAs of `trust`.
    pub fn new(registry: RegistryClient, keys: Arc<dyn KeyResolver>, trust: TrustRoot) -> Self {
        Verifier {
            insecure_registry: registry.allowing_insecure(),
            registry,
            keys,
            trust: Arc::new(trust),
            cache: None,
            stats: Arc::default(),
            named: Arc::default(),
            parsed_keys: Arc::default(),
        }
    }

    /// The registry client.
    pub fn registry(&self) -> &RegistryClient {
        &self.registry
    }

    /// The registry client for `entry`'s images and signatures, for that entry only: the
    /// insecure view when it sets `imageRegistryCredentials.allowInsecureRegistry`, reading
    /// with the named credential sets of its `imageRegistryCredentials.secrets` when it
    /// names any ([`RegistryClient::with_secrets`]); an error naming a set the registry
    /// client does not hold.
    pub fn registry_for(&self, entry: &ImageVerification) -> Result<RegistryClient> {
        let credentials = entry.image_registry_credentials.as_ref();
        let base = match credentials {
            Some(c) if c.allow_insecure_registry => &self.insecure_registry,
            _ => &self.registry,
        };
        match credentials {
            Some(c) if !c.secrets.is_empty() => base.with_secrets(&c.secrets),
            _ => Ok(base.clone()),
        }
    }
}

/// What every check of one (image, entry) pair needs.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) verifier: &'a Verifier,
    /// The registry client of this entry ([`Verifier::registry_for`]).
    pub(crate) registry: &'a RegistryClient,
    pub(crate) cache: &'a ArtifactCache,
    pub(crate) image: &'a ImageRef,
    pub(crate) digest: &'a str,
    pub(crate) entry: &'a ImageVerification,
    /// The trust root of this entry: the one its policy names, else the verifier's.
    pub(crate) trust: Arc<TrustRoot>,
}

impl Ctx<'_> {
    /// Where signatures live: the attestor's `repository`, else the entry's, else next to
    /// the image.
    pub(crate) fn location(&self, attestor_repository: Option<&str>) -> Result<(String, String)> {
        match attestor_repository.or(self.entry.repository.as_deref()) {
            None => Ok((
                self.image.registry().to_owned(),
                self.image.repository().to_owned(),
            )),
            Some(repo) => {
                let parsed = ImageRef::parse(repo)?;
                Ok((parsed.registry().to_owned(), parsed.repository().to_owned()))
            }
        }
    }

    /// The trust root this entry's checks use.
    pub(crate) fn trust(&self) -> &TrustRoot {
        &self.trust
    }

    /// Whether a transparency-log entry is required: Kyverno requires one unless the
    /// attestor's `rekor.ignoreTlog` is set (an absent `rekor` means the public log).
    pub(crate) fn tlog_required(&self, rekor: Option<&Rekor>) -> bool {
        !rekor.is_some_and(|r| r.ignore_tlog)
    }

    /// The integrated time of a Rekor entry when the attestor requires the transparency
    /// log (`Ok(Ok(None))` under `rekor.ignoreTlog`); `Ok(Err(why))` when the bundle is
    /// missing or does not vouch for `artifact`. `what` names the signed thing ("the
    /// signature"), `plural` its kind ("signatures").
    pub(crate) fn logged_time(
        &self,
        rekor: Option<&Rekor>,
        bundle: Option<&str>,
        artifact: tlog::LoggedArtifact<'_>,
        what: &str,
        plural: &str,
    ) -> Result<std::result::Result<Option<i64>, String>> {
        if !self.tlog_required(rekor) {
            return Ok(Ok(None));
        }
        let Some(bundle) = bundle else {
            return Ok(Err(format!("{what} has no Rekor bundle and the policy requires the transparency log (set rekor.ignoreTlog to accept unlogged {plural})")));
        };
        let logs = self.tlogs(rekor)?;
        Ok(tlog::verify_bundle(bundle, &logs, artifact).map(Some))
    }

    /// The Rekor logs trusted for an attestor: its `rekor.pubkey` when set, else the trust
    /// root's.
    pub(crate) fn tlogs(&self, rekor: Option<&Rekor>) -> Result<Cow<'_, [TransparencyLog]>> {
        match rekor.and_then(|r| r.pubkey.as_ref().map(|k| (r, k))) {
            Some((r, pem)) => {
                let key = self.verifier.parsed_keys.get(pem)?;
                Ok(Cow::Owned(TrustRoot::with_rekor_key(key, &r.url).tlogs))
            }
            None => Ok(Cow::Borrowed(&self.trust.tlogs)),
        }
    }
}

/// Errors shared between tasks are behind an `Arc`; callers get a copy of the message
/// with the same kind of failure.
pub(crate) fn shared_error(e: Arc<Error>) -> Error {
    match &*e {
        Error::Registry { registry, reason } => Error::Registry {
            registry: registry.clone(),
            reason: reason.clone(),
        },
        Error::Timeout { registry, seconds } => Error::Timeout {
            registry: registry.clone(),
            seconds: *seconds,
        },
        Error::Unauthorized { registry, reason } => Error::Unauthorized {
            registry: registry.clone(),
            reason: reason.clone(),
        },
        other => Error::Malformed(other.to_string()),
    }
}
