//! CPU time of one key-based image verification against a local registry.
//!
//! `cargo bench -p signet-verify --bench verify` starts the Distribution registry on
//! loopback, pushes an image, signs it with a P-256 key, then verifies it by tag
//! ITERATIONS times, each with a fresh per-decision cache (tag resolution, signature
//! manifest, payload blob, signature check, payload checks). The registry runs in its own
//! process, so this process's CPU time (user + system, from /proc/self/stat) is Signet's
//! share alone. Printed beside it: the signature check by itself, measured in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use signet_policy::image::ImageRef;
use signet_policy::load_policies;
use signet_testkit::{push_random_image, Registry};
use signet_verify::crypto::SigningKey;
use signet_verify::registry::{RegistryClient, RegistryConfig, Transport};
use signet_verify::trust::TrustRoot;
use signet_verify::{ArtifactCache, StaticKeys, VerdictResult, Verifier};

/// Verifications measured; `SIGNET_BENCH_ITERATIONS` overrides it (e.g. a few hundred
/// under valgrind).
const ITERATIONS: u32 = 2000;

fn iterations() -> u32 {
    std::env::var("SIGNET_BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(ITERATIONS)
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let registry = Registry::start()
        .await
        .expect("registry (scripts/install-test-tools.sh)");
    push_random_image(&registry, "bench/app", "v1")
        .await
        .expect("push");
    let client = RegistryClient::new(RegistryConfig {
        default_transport: Transport::Http,
        ..RegistryConfig::default()
    })
    .expect("client");
    let key = SigningKey::generate().expect("key");
    let image = ImageRef::parse(&registry.reference("bench/app", "v1")).expect("ref");
    signet_verify::signing::sign_image(&client, &key, &image, &Default::default())
        .await
        .expect("sign");
    let pem = key.public_key_pem().expect("pem");
    let indented = signet_testkit::indent(&pem, 22);
    let policy = load_policies(&format!(
        "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {{name: bench}}
spec:
  validationFailureAction: Enforce
  rules:
    - name: r
      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}
      verifyImages:
        - imageReferences: [\"{}/*\"]
          attestors:
            - entries:
                - keys:
                    publicKeys: |-
{indented}                    rekor: {{url: \"https://rekor.sigstore.dev\", ignoreTlog: true}}
",
        registry.host()
    ))
    .expect("policy");
    let entry = &policy[0].spec.rules[0].verify_images[0];
    let iterations = iterations();
    let verifier = Verifier::new(client, Arc::new(StaticKeys::new()), TrustRoot::default());

    for _ in 0..50 {
        let v = verifier
            .verify_entry(&ArtifactCache::default(), &image, entry)
            .await;
        assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    }
    let mut walls = Vec::with_capacity(iterations as usize);
    let cpu_before = signet_testkit::process_cpu_time();
    let started = Instant::now();
    for _ in 0..iterations {
        let t = Instant::now();
        let v = verifier
            .verify_entry(&ArtifactCache::default(), &image, entry)
            .await;
        walls.push(t.elapsed());
        assert_eq!(v.result, VerdictResult::Pass);
    }
    let wall = started.elapsed();
    let cpu = signet_testkit::process_cpu_time() - cpu_before;
    walls.sort();

    // The baseline in the same run: the P-256 signature check alone.
    let vk = key.verification_key().expect("vk");
    let message =
        b"bench payload of a typical simple-signing size ......................................";
    let sig = key.sign(message).expect("sign");
    let t = Instant::now();
    for _ in 0..iterations {
        vk.verify(message, &sig, signet_policy::SignatureAlgorithm::Sha256)
            .expect("verify");
    }
    let check = t.elapsed() / iterations;

    let per = cpu / iterations;
    println!("key-based verification by tag, registry on loopback ({iterations} iterations)");
    println!(
        "  signet CPU per verification:   {:>8.1} µs",
        per.as_secs_f64() * 1e6
    );
    println!(
        "  P-256 signature check alone:   {:>8.1} µs",
        check.as_secs_f64() * 1e6
    );
    println!(
        "  ratio CPU / signature check:   {:>8.2}",
        per.as_secs_f64() / check.as_secs_f64()
    );
    println!(
        "  wall p50 / p99 per verification: {:.0} µs / {:.0} µs",
        micros(walls[walls.len() / 2]),
        micros(walls[walls.len() * 99 / 100])
    );
    println!(
        "  wall total {:.2} s, CPU total {:.2} s",
        wall.as_secs_f64(),
        cpu.as_secs_f64()
    );
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
