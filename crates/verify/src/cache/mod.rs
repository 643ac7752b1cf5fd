//! The verdict cache: the cryptographic outcome of one `verifyImages` entry on one image
//! digest, kept in process (L1, size-bounded, per-entry TTL) and optionally in a shared
//! store (L2, e.g. Redis) so every replica profits. Concurrent requests for the same key
//! share one verification (single flight). Only the outcome of the signature and
//! attestation checks is cached; match, mode, namespace and the digest patch are
//! recomputed by every decision. Tag → digest resolutions are cached briefly too.

mod key;
mod stored;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::future::Cache;
use moka::Expiry;
use signet_policy::image::ImageRef;
use signet_policy::ImageVerification;

use crate::engine::{shared_error, ArtifactCache, EntryVerdict, Verifier};
use crate::Result;

pub use key::VerdictKey;
pub use stored::CachedVerdict;

/// A shared verdict store (L2): opaque bytes under a key, kept for a TTL. Implementations
/// swallow their own failures (a miss, a dropped write): the verifier decides without them.
#[async_trait]
pub trait VerdictStore: Send + Sync + fmt::Debug {
    /// The value stored under `key`, if any (and if the store is reachable).
    async fn get(&self, key: &str) -> Option<Vec<u8>>;
    /// Stores `value` under `key` for `ttl`.
    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration);
    /// Claims the verification of `key` for at most `ttl`, so that one replica verifies
    /// and the others wait for its verdict. A store without claims grants none.
    async fn claim(&self, _key: &str, _ttl: Duration) -> Claim {
        Claim::Unavailable
    }
    /// Ends a claim granted with `token`; a claim another replica took since (after this
    /// one expired) is left alone.
    async fn release(&self, _key: &str, _token: &str) {}
}

/// The answer to [`VerdictStore::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This replica verifies; the token ends the claim.
    Granted(String),
    /// Another replica is verifying: its verdict will be in the store.
    Held,
    /// The store cannot arbitrate (no claims, or unreachable): verify here.
    Unavailable,
}

/// How the verdict cache behaves.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// How long a passing verdict is kept.
    pub pass_ttl: Duration,
    /// How long a failing verdict is kept (shorter: a signature may be pushed soon).
    pub fail_ttl: Duration,
    /// How long a tag → digest resolution is kept; zero disables that cache.
    pub digest_ttl: Duration,
    /// Most verdicts kept in process.
    pub max_entries: u64,
    /// How long a replica's claim on a verification lasts in the shared tier, and so the
    /// longest another replica waits for that verdict before verifying itself.
    pub claim_ttl: Duration,
    /// The shared tier, when configured.
    pub l2: Option<Arc<dyn VerdictStore>>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            pass_ttl: Duration::from_secs(300),
            fail_ttl: Duration::from_secs(30),
            digest_ttl: Duration::from_secs(30),
            max_entries: 100_000,
            claim_ttl: Duration::from_secs(5),
            l2: None,
        }
    }
}

/// Counters of the cache, for metrics and tests.
#[derive(Debug, Default)]
pub struct CacheStats {
    /// Verifications actually run (cache misses and uncached entries).
    pub verifications: AtomicU64,
    /// Verdicts answered from L1 (including requests that joined an in-flight one).
    pub l1_hits: AtomicU64,
    /// Verdicts answered from L2.
    pub l2_hits: AtomicU64,
    /// Verdicts waited for while another replica held the claim on them.
    pub l2_waits: AtomicU64,
}

/// How often a replica waiting on another's claim looks for its verdict.
const CLAIM_POLL: Duration = Duration::from_millis(10);

/// Gives each cached verdict its own lifetime: the pass or fail TTL chosen when stored.
struct ByOutcome;

impl Expiry<VerdictKey, Arc<CachedVerdict>> for ByOutcome {
    fn expire_after_create(
        &self,
        _key: &VerdictKey,
        value: &Arc<CachedVerdict>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// The caches of one verifier.
pub(crate) struct VerdictCache {
    config: CacheConfig,
    verdicts: Cache<VerdictKey, Arc<CachedVerdict>>,
    digests: Option<Cache<String, String>>,
    trust_fingerprint: String,
}

impl fmt::Debug for VerdictCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerdictCache")
            .field("config", &self.config)
            .field("entries", &self.verdicts.entry_count())
            .finish()
    }
}

impl VerdictCache {
    fn ttl_for(&self, passed: bool) -> Duration {
        if passed {
            self.config.pass_ttl
        } else {
            self.config.fail_ttl
        }
    }
}

impl Verifier {
    /// This verifier with a verdict cache configured by `config`.
    pub fn with_cache(mut self, config: CacheConfig) -> Self {
        let verdicts = Cache::builder()
            .max_capacity(config.max_entries)
            .expire_after(ByOutcome)
            .build();
        let digests = (!config.digest_ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(config.max_entries)
                .time_to_live(config.digest_ttl)
                .build()
        });
        let trust_fingerprint = self.trust.fingerprint();
        self.cache = Some(Arc::new(VerdictCache {
            config,
            verdicts,
            digests,
            trust_fingerprint,
        }));
        self
    }

    /// Counters of verifications run and cache hits.
    pub fn cache_stats(&self) -> &CacheStats {
        &self.stats
    }

    /// Verifications actually run since start (a cache hit runs none).
    pub fn verifications(&self) -> u64 {
        self.stats.verifications.load(Ordering::Relaxed)
    }

    /// Verdicts held in process now (approximate: pending evictions may count).
    pub async fn cached_verdicts(&self) -> u64 {
        match &self.cache {
            Some(c) => {
                c.verdicts.run_pending_tasks().await;
                c.verdicts.entry_count()
            }
            None => 0,
        }
    }

    /// Stores `verdict` in L1 under `key` as if it had been verified (benchmarks filling
    /// the cache); does nothing without a cache.
    pub async fn prime_cache(&self, key: VerdictKey, verdict: CachedVerdict) {
        if let Some(c) = &self.cache {
            c.verdicts.insert(key, Arc::new(verdict)).await;
        }
    }

    /// The digest `image` (given by tag) points to, read through `registry`, through the
    /// tag cache unless `use_cache` is false.
    pub(crate) async fn resolve_tag(
        &self,
        registry: &crate::registry::RegistryClient,
        image: &ImageRef,
        use_cache: bool,
    ) -> Result<String> {
        let tag = image.tag().unwrap_or("latest");
        // Boxed and built only when run: a registry request's future is kilobytes, and a
        // cached tag would otherwise have it written out and moved on every lookup.
        let resolve = async {
            Box::pin(registry.resolve_digest(image.registry(), image.repository(), tag)).await
        };
        match self.cache.as_ref().and_then(|c| c.digests.as_ref()) {
            Some(digests) if use_cache => {
                // A digest read over an insecure transport is no answer for an entry that
                // requires a secure one, nor one read with some credentials for an entry
                // with others.
                let insecure = if registry.allows_insecure() { "~" } else { "" };
                let key = format!(
                    "{insecure}{}|{}/{}:{tag}",
                    registry.credentials_identity(),
                    image.registry(),
                    image.repository()
                );
                digests
                    .try_get_with(key, resolve)
                    .await
                    .map_err(shared_error)
            }
            _ => resolve.await,
        }
    }

    /// One verification of `entry` on `image` at `digest`, counted in the stats.
    ///
    /// Boxed: its future is kilobytes, and a cache hit, which never runs it, would
    /// otherwise still have it written out and copied with every future that holds it
    /// (the engine alone took 4.7 µs per warm decision with those copies, 3.5 µs without).
    async fn check_counted(
        &self,
        artifacts: &ArtifactCache,
        registry: &crate::registry::RegistryClient,
        image: &ImageRef,
        digest: &str,
        entry: &ImageVerification,
    ) -> Result<EntryVerdict> {
        self.stats.verifications.fetch_add(1, Ordering::Relaxed);
        Box::pin(self.check(artifacts, registry, image, digest, entry)).await
    }

    /// Checks `entry` on `image` at `digest`, answering from the cache when the entry
    /// allows it and one of the tiers holds the verdict. Errors are never cached.
    pub(crate) async fn check_cached(
        &self,
        artifacts: &ArtifactCache,
        registry: &crate::registry::RegistryClient,
        image: &ImageRef,
        digest: &str,
        entry: &ImageVerification,
    ) -> Result<EntryVerdict> {
        let Some(cache) = self.cache.as_ref().filter(|_| entry.use_cache) else {
            return self
                .check_counted(artifacts, registry, image, digest, entry)
                .await;
        };
        // The root the entry's policy names, else the verifier's: its material is in the key.
        let key = match self.trust_for(entry) {
            Ok(named) => {
                let named = named.map(|(_, fingerprint)| fingerprint);
                let trust = named.as_deref().unwrap_or(&cache.trust_fingerprint);
                let credentials = registry.credentials_identity();
                key::cache_key(self, trust, credentials, image, digest, entry).await
            }
            Err(e) => Err(e),
        };
        let key = match key {
            Ok(k) => k,
            // A key that cannot be resolved fails the check the same way, uncached.
            Err(_) => {
                return self
                    .check_counted(artifacts, registry, image, digest, entry)
                    .await
            }
        };
        let computed = AtomicBool::new(false);
        let init = async {
            computed.store(true, Ordering::Relaxed);
            // The shared tier's key is written out only for the shared tier.
            let shared = cache.config.l2.as_deref().map(|l2| (l2, key.shared()));
            let token = match &shared {
                Some((l2, key)) => match Box::pin(self.claim_or_wait(cache, *l2, key)).await {
                    Ok(found) => return Ok(Arc::new(found)),
                    Err(token) => token,
                },
                None => None,
            };
            let checked = self
                .check_counted(artifacts, registry, image, digest, entry)
                .await
                .map(|v| CachedVerdict::from_verdict(&v, image, cache));
            if let Some((l2, key)) = &shared {
                if let Ok(stored) = &checked {
                    if let Ok(bytes) = serde_json::to_vec(stored) {
                        l2.put(key, bytes, stored.ttl).await;
                    }
                }
                // Released once the verdict is stored (or on an error, which is never
                // stored), so a replica that waited finds it or verifies itself.
                if let Some(token) = token {
                    l2.release(key, &token).await;
                }
            }
            Ok::<_, crate::Error>(Arc::new(checked?))
        };
        let found = cache
            .verdicts
            .try_get_with(key, init)
            .await
            .map_err(shared_error)?;
        if !computed.load(Ordering::Relaxed) {
            self.stats.l1_hits.fetch_add(1, Ordering::Relaxed);
        }
        Ok(found.to_verdict(image, digest))
    }

    /// The verdict of `key` from L2, waiting while another replica holds the claim on
    /// it; otherwise `Err` with the token of this replica's claim (`None` when the store
    /// grants none), and this replica verifies.
    async fn claim_or_wait(
        &self,
        cache: &VerdictCache,
        l2: &dyn VerdictStore,
        key: &str,
    ) -> std::result::Result<CachedVerdict, Option<String>> {
        if let Some(found) = self.read_l2(cache, l2, key).await {
            return Ok(found);
        }
        let ttl = cache.config.claim_ttl;
        if ttl.is_zero() {
            return Err(None);
        }
        let started = Instant::now();
        let mut waited = false;
        loop {
            match l2.claim(key, ttl).await {
                Claim::Unavailable => return Err(None),
                // The holder may have stored the verdict and let go since the read above.
                Claim::Granted(token) => {
                    return match self.read_l2(cache, l2, key).await {
                        Some(found) => {
                            l2.release(key, &token).await;
                            Ok(found)
                        }
                        None => Err(Some(token)),
                    };
                }
                // A holder that is gone (crashed, or cut off from the store) is waited
                // for no longer than its claim could last.
                Claim::Held if started.elapsed() >= ttl => return Err(None),
                Claim::Held => {
                    if !waited {
                        waited = true;
                        self.stats.l2_waits.fetch_add(1, Ordering::Relaxed);
                    }
                    tokio::time::sleep(CLAIM_POLL).await;
                    if let Some(found) = self.read_l2(cache, l2, key).await {
                        return Ok(found);
                    }
                }
            }
        }
    }

    async fn read_l2(
        &self,
        cache: &VerdictCache,
        l2: &dyn VerdictStore,
        key: &str,
    ) -> Option<CachedVerdict> {
        let bytes = l2.get(key).await?;
        let mut found: CachedVerdict = serde_json::from_slice(&bytes).ok()?;
        found.ttl = cache.ttl_for(found.passed());
        self.stats.l2_hits.fetch_add(1, Ordering::Relaxed);
        Some(found)
    }
}
