//! The verdict cache against a real registry: hits, single flight, invalidation on policy
//! and key changes, the negative TTL, errors never cached, `useCache: false`, and the tag
//! → digest cache.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use signet_policy::image::ImageRef;
use signet_policy::pem_material::{parse_public_keys, PublicKey};
use signet_policy::{load_policies, ImageVerification, SecretReference};
use signet_testkit::{push_random_image, Registry};
use signet_verify::cache::{CacheConfig, Claim, VerdictStore};
use signet_verify::crypto::SigningKey;
use signet_verify::registry::{RegistryClient, RegistryConfig, Transport};
use signet_verify::trust::TrustRoot;
use signet_verify::{ArtifactCache, KeyResolver, VerdictResult, Verifier};

/// Named keys that a test can swap, as an operator rotating a key would.
#[derive(Debug, Default)]
struct SwappableKeys(Mutex<Vec<PublicKey>>);

#[async_trait]
impl KeyResolver for SwappableKeys {
    async fn resolve(&self, _: &SecretReference) -> signet_verify::Result<Vec<PublicKey>> {
        Ok(self.0.lock().expect("lock").clone())
    }
}

struct Setup {
    registry: Registry,
    client: RegistryClient,
    key: SigningKey,
    image: ImageRef,
    keys: Arc<SwappableKeys>,
    /// Signature and tag requests made while setting up (signing reads both).
    baseline: (usize, usize),
}

async fn setup() -> Setup {
    let registry = Registry::start().await.expect("registry");
    push_random_image(&registry, "app", "v1")
        .await
        .expect("push");
    let client = RegistryClient::new(RegistryConfig {
        default_transport: Transport::Http,
        ..RegistryConfig::default()
    })
    .expect("client");
    let key = SigningKey::generate().expect("key");
    let image = ImageRef::parse(&registry.reference("app", "v1")).expect("ref");
    signet_verify::signing::sign_image(&client, &key, &image, &Default::default())
        .await
        .expect("sign");
    let keys = Arc::new(SwappableKeys::default());
    let mut s = Setup {
        registry,
        client,
        key,
        image,
        keys,
        baseline: (0, 0),
    };
    s.baseline = (s.signature_fetches(), s.tag_resolutions());
    s
}

impl Setup {
    fn verifier(&self, config: CacheConfig) -> Verifier {
        Verifier::new(self.client.clone(), self.keys.clone(), TrustRoot::default())
            .with_cache(config)
    }

    /// An entry verifying with `key` inline (`secret: true` → the named key `ns/k`);
    /// `extra` is one more field of the entry.
    fn entry(&self, key: &SigningKey, secret: bool, extra: &str) -> ImageVerification {
        let pem = key.public_key_pem().expect("pem");
        let source = if secret {
            "secret: {name: k, namespace: ns}".to_owned()
        } else {
            let indented = signet_testkit::indent(&pem, 22);
            format!("publicKeys: |-\n{indented}")
        };
        let doc = format!(
            "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {{name: p}}
spec:
  validationFailureAction: Enforce
  rules:
    - name: r
      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}
      verifyImages:
        - imageReferences: [\"*\"]
          {extra}
          attestors:
            - entries:
                - keys:
                    {source}
                    rekor: {{url: \"https://rekor.sigstore.dev\", ignoreTlog: true}}
"
        );
        let policy = load_policies(&doc).expect("policy");
        policy[0].spec.rules[0].verify_images[0].clone()
    }

    fn named_key(&self, key: &SigningKey) {
        let pem = key.public_key_pem().expect("pem");
        *self.keys.0.lock().expect("lock") = parse_public_keys(&pem).expect("parse");
    }

    /// Reads of the image's signature manifest since setup.
    fn signature_fetches(&self) -> usize {
        self.count(|p| p.contains("/manifests/sha256-") && p.ends_with(".sig")) - self.baseline.0
    }

    /// Reads resolving the tag `v1` since setup.
    fn tag_resolutions(&self) -> usize {
        self.count(|p| p.ends_with("/manifests/v1")) - self.baseline.1
    }

    fn count(&self, path: impl Fn(&str) -> bool) -> usize {
        self.registry
            .requests()
            .iter()
            .filter(|r| r.method != "PUT" && path(&r.path))
            .count()
    }
}

async fn verify(v: &Verifier, image: &ImageRef, entry: &ImageVerification) -> VerdictResult {
    v.verify_entry(&ArtifactCache::default(), image, entry)
        .await
        .result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_verification_for_concurrent_requests_then_hits() {
    let s = setup().await;
    let v = s.verifier(CacheConfig::default());
    let entry = s.entry(&s.key, false, "");
    let all = futures_util::future::join_all((0..100).map(|_| verify(&v, &s.image, &entry))).await;
    assert!(all.iter().all(|r| *r == VerdictResult::Pass), "{all:?}");
    assert_eq!(v.verifications(), 1);
    assert_eq!(s.signature_fetches(), 1);
    assert_eq!(verify(&v, &s.image, &entry).await, VerdictResult::Pass);
    assert_eq!(v.verifications(), 1);
    assert_eq!(s.signature_fetches(), 1);
}

#[tokio::test]
async fn policy_change_is_a_new_key() {
    let s = setup().await;
    let v = s.verifier(CacheConfig::default());
    let a = s.entry(&s.key, false, "");
    assert_eq!(verify(&v, &s.image, &a).await, VerdictResult::Pass);
    assert_eq!(verify(&v, &s.image, &a).await, VerdictResult::Pass);
    assert_eq!(v.verifications(), 1);
    // Another attestor (a different key): a new verification, which fails.
    let other = SigningKey::generate().expect("key");
    let b = s.entry(&other, false, "");
    assert_eq!(verify(&v, &s.image, &b).await, VerdictResult::Fail);
    assert_eq!(v.verifications(), 2);
    // Another field of the entry: a new key too.
    let c = s.entry(&s.key, false, "verifyDigest: false");
    assert_eq!(verify(&v, &s.image, &c).await, VerdictResult::Pass);
    assert_eq!(v.verifications(), 3);
}

#[tokio::test]
async fn key_change_under_the_same_name_is_a_miss() {
    let s = setup().await;
    let v = s.verifier(CacheConfig::default());
    let entry = s.entry(&s.key, true, "");
    s.named_key(&s.key);
    assert_eq!(verify(&v, &s.image, &entry).await, VerdictResult::Pass);
    assert_eq!(verify(&v, &s.image, &entry).await, VerdictResult::Pass);
    assert_eq!(v.verifications(), 1);
    s.named_key(&SigningKey::generate().expect("key"));
    assert_eq!(verify(&v, &s.image, &entry).await, VerdictResult::Fail);
    assert_eq!(v.verifications(), 2);
}

#[tokio::test]
async fn failures_are_cached_for_the_shorter_ttl() {
    let s = setup().await;
    let v = s.verifier(CacheConfig {
        fail_ttl: Duration::from_millis(500),
        ..CacheConfig::default()
    });
    let entry = s.entry(&SigningKey::generate().expect("key"), false, "");
    assert_eq!(verify(&v, &s.image, &entry).await, VerdictResult::Fail);
    assert_eq!(verify(&v, &s.image, &entry).await, VerdictResult::Fail);
    assert_eq!(v.verifications(), 1);
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(verify(&v, &s.image, &entry).await, VerdictResult::Fail);
    assert_eq!(v.verifications(), 2);
}

#[tokio::test]
async fn errors_are_not_cached() {
    let mut s = setup().await;
    let v = s.verifier(CacheConfig::default());
    let entry = s.entry(&s.key, false, "");
    let digest = verify_digest(&v, &s.image, &entry).await;
    let by_digest = ImageRef::parse(&s.registry.reference("app", &digest)).expect("ref");
    s.registry.stop();
    let other = s.entry(&SigningKey::generate().expect("key"), false, "");
    assert_eq!(verify(&v, &by_digest, &other).await, VerdictResult::Error);
    assert_eq!(verify(&v, &by_digest, &other).await, VerdictResult::Error);
    assert_eq!(v.verifications(), 3);
}

async fn verify_digest(v: &Verifier, image: &ImageRef, entry: &ImageVerification) -> String {
    let verdict = v
        .verify_entry(&ArtifactCache::default(), image, entry)
        .await;
    assert_eq!(verdict.result, VerdictResult::Pass, "{}", verdict.message);
    verdict.digest.expect("digest")
}

#[tokio::test]
async fn use_cache_false_bypasses_both_caches() {
    let s = setup().await;
    let v = s.verifier(CacheConfig::default());
    let entry = s.entry(&s.key, false, "useCache: false");
    assert_eq!(verify(&v, &s.image, &entry).await, VerdictResult::Pass);
    assert_eq!(verify(&v, &s.image, &entry).await, VerdictResult::Pass);
    assert_eq!(v.verifications(), 2);
    assert_eq!(s.tag_resolutions(), 2);
    assert_eq!(s.signature_fetches(), 2);
}

#[tokio::test]
async fn tags_are_resolved_once_and_digests_never() {
    let s = setup().await;
    let v = s.verifier(CacheConfig::default());
    let entry = s.entry(&s.key, false, "");
    let before = s.tag_resolutions();
    let digest = verify_digest(&v, &s.image, &entry).await;
    verify_digest(&v, &s.image, &entry).await;
    assert_eq!(s.tag_resolutions() - before, 1);
    let by_digest = ImageRef::parse(&s.registry.reference("app", &digest)).expect("ref");
    let manifests = |s: &Setup| {
        s.registry
            .requests()
            .iter()
            .filter(|r| r.path.ends_with(&format!("/manifests/{digest}")))
            .count()
    };
    let before = manifests(&s);
    verify_digest(&v, &by_digest, &entry).await;
    assert_eq!(manifests(&s), before);
}

/// A shared tier where another replica holds every claim and never stores a verdict, as
/// if it crashed mid-verification.
#[derive(Debug, Default)]
struct AbandonedClaims {
    claims: Mutex<usize>,
}

#[async_trait]
impl VerdictStore for AbandonedClaims {
    async fn get(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
    async fn put(&self, _: &str, _: Vec<u8>, _: Duration) {}
    async fn claim(&self, _: &str, _: Duration) -> Claim {
        *self.claims.lock().expect("lock") += 1;
        Claim::Held
    }
}

#[tokio::test]
async fn a_claim_nobody_honours_is_waited_for_no_longer_than_it_lasts() {
    let s = setup().await;
    let store = Arc::new(AbandonedClaims::default());
    let v = s.verifier(CacheConfig {
        claim_ttl: Duration::from_millis(200),
        l2: Some(store.clone()),
        ..CacheConfig::default()
    });
    let entry = s.entry(&s.key, false, "");
    assert_eq!(verify(&v, &s.image, &entry).await, VerdictResult::Pass);
    assert_eq!(v.verifications(), 1);
    assert_eq!(v.cache_stats().l2_waits.load(Ordering::Relaxed), 1);
    // It asked again while waiting (the claim could have been let go), then gave up.
    assert!(*store.claims.lock().expect("lock") > 1);
    assert_eq!(s.signature_fetches(), 1);
}
