//! The shared verdict tier against a real Redis that the test starts, stops and starts
//! again: a second replica answers from Redis without fetching signatures; while Redis
//! is down decisions go on with the in-process cache and `/readyz` and `/metrics` say
//! so; when it returns it is used again.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use signet_policy::image::ImageRef;
use signet_policy::{load_policies, ImageVerification};
use signet_testkit::{push_random_image, KeyPolicy, Registry};
use signet_verifier::cache::CacheOptions;
use signet_verifier::http::{router, AppState};
use signet_verifier::metrics::Metrics;
use signet_verifier::service::Service;
use signet_verifier::store::Store;
use signet_verify::cache::CacheStats;
use signet_verify::crypto::SigningKey;
use signet_verify::registry::{RegistryClient, RegistryConfig, Transport};
use signet_verify::trust::TrustRoot;
use signet_verify::{ArtifactCache, VerdictResult};

/// A `redis-server` child on a fixed port, without persistence.
struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut r = RedisServer { port, child: None };
        r.restart();
        r
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (installed on the test machine)");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start");
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn registry_config() -> RegistryConfig {
    RegistryConfig {
        default_transport: Transport::Http,
        ..RegistryConfig::default()
    }
}

/// A replica: a service on its own store, sharing `redis`, with its HTTP API served.
async fn replica(redis: &str, dir: &tempfile::TempDir) -> (Service, String) {
    let store = Store::open(None, dir.path()).await.expect("store");
    let options = CacheOptions {
        redis_url: Some(redis.to_owned()),
        ..CacheOptions::default()
    };
    let service = signet_verifier::app::build_service_cached(
        store,
        registry_config(),
        TrustRoot::default(),
        options,
    )
    .await
    .expect("service");
    let app = router(
        AppState {
            service: service.clone(),
            metrics: Metrics::default(),
        },
        1 << 20,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (service, base)
}

fn entry(key: &SigningKey, extra: &str) -> ImageVerification {
    let pem = key.public_key_pem().expect("pem");
    let mut policy = KeyPolicy::new("p", "*", &pem);
    if !extra.is_empty() {
        policy = policy.field(extra);
    }
    let doc = policy.yaml();
    load_policies(&doc).expect("policy")[0].spec.rules[0].verify_images[0].clone()
}

async fn verify(s: &Service, image: &ImageRef, entry: &ImageVerification) -> VerdictResult {
    let v = s
        .verifier()
        .verify_entry(&ArtifactCache::default(), image, entry)
        .await;
    assert_ne!(v.result, VerdictResult::Error, "{}", v.message);
    v.result
}

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.expect("GET");
    (r.status().as_u16(), r.text().await.expect("body"))
}

fn signature_fetches(registry: &Registry) -> usize {
    registry
        .requests()
        .iter()
        .filter(|r| r.method != "PUT" && r.path.ends_with(".sig"))
        .count()
}

/// A registry holding one image signed by the returned key, by digest.
async fn signed_image() -> (Registry, ImageRef, SigningKey) {
    let registry = Registry::start().await.expect("registry");
    let digest = push_random_image(&registry, "app", "v1")
        .await
        .expect("push");
    let image = ImageRef::parse(&registry.reference("app", &digest)).expect("ref");
    let key = SigningKey::generate().expect("key");
    let client = RegistryClient::new(registry_config()).expect("client");
    signet_verify::signing::sign_image(&client, &key, &image, &Default::default())
        .await
        .expect("sign");
    (registry, image, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_is_shared_lost_and_found_again() {
    let mut redis = RedisServer::start();
    let (registry, image, key) = signed_image().await;
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let (a, a_url) = replica(&redis.url(), &dir_a).await;
    let (b, _) = replica(&redis.url(), &dir_b).await;

    // Replica A verifies and stores in Redis; replica B answers from Redis.
    let first = entry(&key, "");
    assert_eq!(verify(&a, &image, &first).await, VerdictResult::Pass);
    assert_eq!(a.verifier().verifications(), 1);
    let fetches = signature_fetches(&registry);
    assert_eq!(verify(&b, &image, &first).await, VerdictResult::Pass);
    assert_eq!(b.verifier().verifications(), 0);
    assert_eq!(signature_fetches(&registry), fetches);
    let (status, body) = get(&format!("{a_url}/readyz")).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""redis":"ok""#), "{body}");
    let (_, metrics) = get(&format!("{a_url}/metrics")).await;
    assert!(metrics.contains("signet_cache_redis_up 1"), "{metrics}");

    // Redis gone: A keeps deciding (L1 hit, and a fresh verification), ready, and says so.
    redis.stop();
    assert_eq!(verify(&a, &image, &first).await, VerdictResult::Pass);
    let second = entry(&key, "verifyDigest: false");
    assert_eq!(verify(&a, &image, &second).await, VerdictResult::Pass);
    assert_eq!(a.verifier().verifications(), 2);
    let (status, body) = get(&format!("{a_url}/readyz")).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""redis":"unavailable"#), "{body}");
    let (_, metrics) = get(&format!("{a_url}/metrics")).await;
    assert!(metrics.contains("signet_cache_redis_up 0"), "{metrics}");

    // Redis back on the same port: used again, B gets A's new verdict from it.
    redis.restart();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, body) = get(&format!("{a_url}/readyz")).await;
    assert!(body.contains(r#""redis":"ok""#), "{body}");
    let third = entry(&key, "mutateDigest: false");
    assert_eq!(verify(&a, &image, &third).await, VerdictResult::Pass);
    assert_eq!(a.verifier().verifications(), 3);
    let fetches = signature_fetches(&registry);
    assert_eq!(verify(&b, &image, &third).await, VerdictResult::Pass);
    assert_eq!(b.verifier().verifications(), 0);
    assert_eq!(signature_fetches(&registry), fetches);
    let (_, metrics) = get(&format!("{a_url}/metrics")).await;
    assert!(metrics.contains("signet_cache_redis_up 1"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_verify_an_uncached_image_once_between_them() {
    let redis = RedisServer::start();
    let (registry, image, key) = signed_image().await;
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let (a, _) = replica(&redis.url(), &dir_a).await;
    let (b, _) = replica(&redis.url(), &dir_b).await;
    let fetches = signature_fetches(&registry);

    // Both replicas asked at once, many times each: one claims the verification, the
    // other waits for its verdict in Redis.
    let first = entry(&key, "");
    let checks = (0..20)
        .flat_map(|_| [&a, &b])
        .map(|s| verify(s, &image, &first));
    let results = futures_util::future::join_all(checks).await;
    assert!(
        results.iter().all(|r| *r == VerdictResult::Pass),
        "{results:?}"
    );
    let verifications = a.verifier().verifications() + b.verifier().verifications();
    assert_eq!(verifications, 1);
    assert_eq!(signature_fetches(&registry) - fetches, 1);
    let stats = |s: &Service, f: fn(&CacheStats) -> &AtomicU64| {
        f(s.verifier().cache_stats()).load(Ordering::Relaxed)
    };
    let from_redis = stats(&a, |c| &c.l2_hits) + stats(&b, |c| &c.l2_hits);
    assert_eq!(
        from_redis, 1,
        "the other replica's one lookup found the verdict"
    );
}
