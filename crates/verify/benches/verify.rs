//! CPU time of one key-based image verification against a local registry.
//!
//! `cargo bench -p signet-verify --bench verify` starts the Distribution registry on
//! loopback, pushes an image, signs it with a P-256 key, then verifies it ITERATIONS times
//! by tag and ITERATIONS times by digest, each with a fresh per-decision cache (tag
//! resolution, signature manifest, signature check, payload checks; the payload, signed
//! without annotations, is known from the manifest and not read). The
//! registry runs in its own process, so this process's CPU time (user + system, from
//! `CLOCK_PROCESS_CPUTIME_ID`) is Signet's share alone.
//!
//! Printed beside them, measured in the same run: one registry round trip by itself (a tag
//! resolution with the same client) and the P-256 check by itself. A verification by tag
//! is two round trips and one check; the ratio line says how much more than that it
//! costs. Each line also gives how often the process slept per call (voluntary context
//! switches): one per round trip, each of them expensive on a small VM. The four lines
//! are measured in alternating rounds and each prints its median round and the range.
//!
//! Last, two pairs, each alternating, with wall time and CPU per verification by tag: an
//! image signed and attested under an entry requiring both, beside the signature alone
//! (the attestations are read while the signature is checked); and an image signed eight
//! times with annotations (the policy's key last), whose payloads must be read, beside the
//! image signed once (its payload blobs are read at once).

use std::sync::Arc;
use std::time::{Duration, Instant};

use signet_policy::image::ImageRef;
use signet_policy::{load_policies, ImageVerification};
use signet_testkit::{push_random_image, Registry};
use signet_verify::crypto::SigningKey;
use signet_verify::registry::{RegistryClient, RegistryConfig, Transport};
use signet_verify::trust::TrustRoot;
use signet_verify::{ArtifactCache, StaticKeys, VerdictResult, Verifier};

/// Calls measured per line, over all rounds; `SIGNET_BENCH_ITERATIONS` overrides it (e.g.
/// a few hundred under valgrind).
const ITERATIONS: u32 = 2000;
/// Rounds the calls are split into.
const ROUNDS: u32 = 5;
/// Signatures of the image signed at every stage of a pipeline.
const SIGNATURES: usize = 8;

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
    let host = registry.host();
    let policy = load_policies(&bench_policy(&host, &pem, "")).expect("policy");
    let entry = &policy[0].spec.rules[0].verify_images[0];
    // The same entry requiring a signed SLSA provenance too, by the same key.
    let attestations = signet_testkit::provenance_by_key(&pem);
    let provenance_policy =
        load_policies(&bench_policy(&host, &pem, &attestations)).expect("policy");
    let provenance_entry = &provenance_policy[0].spec.rules[0].verify_images[0];
    let iterations = iterations();
    let verifier = Verifier::new(
        client.clone(),
        Arc::new(StaticKeys::new()),
        TrustRoot::default(),
    );
    let digest = client
        .resolve_digest(image.registry(), image.repository(), "v1")
        .await
        .expect("resolve");
    let pinned = ImageRef::parse(&format!(
        "{}@{digest}",
        registry.reference("bench/app", "v1")
    ))
    .expect("pinned ref");

    for _ in 0..50 {
        passes(&verifier, &image, entry).await;
    }

    let vk = key.verification_key().expect("vk");
    let message =
        b"bench payload of a typical simple-signing size ......................................";
    let sig = key.sign(message).expect("sign");
    let per_round = iterations.div_ceil(ROUNDS);
    let mut rounds = Vec::new();
    // The four lines alternate, ROUNDS times: this machine's speed drifts from one second
    // to the next, and figures mean something only beside their neighbours.
    for _ in 0..ROUNDS {
        // By tag: tag resolution, signature manifest, check (two round trips).
        let by_tag = cpu_per(per_round, || passes(&verifier, &image, entry)).await;
        // By digest, as after `mutateDigest` or in a pinned manifest: one round trip.
        let by_digest = cpu_per(per_round, || passes(&verifier, &pinned, entry)).await;
        // Baselines: one registry round trip (the tag resolution alone, a HEAD with no
        // body) and the P-256 signature check alone.
        let round_trip = cpu_per(per_round, || async {
            let d = client
                .resolve_digest(image.registry(), image.repository(), "v1")
                .await
                .expect("resolve");
            assert_eq!(d, digest);
        })
        .await;
        let check = cpu_per(per_round, || async {
            vk.verify(message, &sig, signet_policy::SignatureAlgorithm::Sha256)
                .expect("verify");
        })
        .await;
        rounds.push([by_tag, by_digest, round_trip, check]);
    }

    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "key-based verification, registry on loopback ({ROUNDS} alternating rounds of {per_round} calls each; median round, range of rounds)"
    );
    let lines = [
        "signet CPU per verification by tag:   ",
        "signet CPU per verification by digest:",
        "one registry round trip alone:        ",
        "P-256 signature check alone:          ",
    ];
    let mut medians = Vec::new();
    for (i, what) in lines.iter().enumerate() {
        let mut cpus: Vec<Duration> = rounds.iter().map(|r| r[i].cpu).collect();
        cpus.sort();
        let sleeps = rounds.iter().map(|r| r[i].sleeps).sum::<f64>() / rounds.len() as f64;
        let median = cpus[cpus.len() / 2];
        medians.push(median);
        println!(
            "  {what} {:>7.1} µs  ({:.0}–{:.0}; {sleeps:.2} sleeps per call)",
            us(median),
            us(cpus[0]),
            us(cpus[cpus.len() - 1]),
        );
    }
    println!("  target for a verification: <= 300 µs");
    println!(
        "  by tag / (2 round trips + 1 check):    {:>7.2}",
        medians[0].as_secs_f64() / (2.0 * medians[2].as_secs_f64() + medians[3].as_secs_f64())
    );
    let mut walls: Vec<Duration> = rounds
        .iter()
        .flat_map(|r| r[0].walls.iter().copied())
        .collect();
    walls.sort();
    println!(
        "  wall p50 / p99 per verification by tag: {:.0} µs / {:.0} µs",
        us(walls[walls.len() / 2]),
        us(walls[walls.len() * 99 / 100])
    );

    // An image signed at every stage of a pipeline: SIGNATURES signatures, the policy's
    // key's last, each annotated with its stage, so no payload is known before it is read.
    // Its payload blobs are read at once, so it should cost about the wall time of the
    // image signed once, not a round trip more per signature; both alternate.
    push_random_image(&registry, "bench/many", "v1")
        .await
        .expect("push");
    let many = ImageRef::parse(&registry.reference("bench/many", "v1")).expect("ref");
    let stage = |n: usize| std::collections::BTreeMap::from([("stage".into(), n.to_string())]);
    for n in 1..SIGNATURES {
        let other = SigningKey::generate().expect("key");
        signet_verify::signing::sign_image(&client, &other, &many, &stage(n))
            .await
            .expect("sign");
    }
    signet_verify::signing::sign_image(&client, &key, &many, &stage(SIGNATURES))
        .await
        .expect("sign");
    let many_signatures =
        alternate(&verifier, per_round / 4, [(&image, entry), (&many, entry)]).await;
    // An image signed and attested (SLSA provenance) under the entry requiring both,
    // beside the signature alone: the attestations are read while the signature is
    // checked, so the two cost about one round trip more than the signature, not three.
    push_random_image(&registry, "bench/attested", "v1")
        .await
        .expect("push");
    let attested = ImageRef::parse(&registry.reference("bench/attested", "v1")).expect("ref");
    signet_verify::signing::sign_image(&client, &key, &attested, &Default::default())
        .await
        .expect("sign");
    let provenance = br#"{"builder":{"id":"https://example.com/builder"},"buildType":"https://example.com/build"}"#;
    signet_verify::signing::attest_image(
        &client,
        &key,
        &attested,
        "slsaprovenance",
        "https://slsa.dev/provenance/v0.2",
        provenance,
    )
    .await
    .expect("attest");
    let with_provenance = alternate(
        &verifier,
        per_round / 4,
        [(&image, entry), (&attested, provenance_entry)],
    )
    .await;
    println!("an image signed and attested, the entry requiring both, beside the signature alone (by tag):");
    print_pairs(&with_provenance, &["signature:", "and provenance:"]);

    println!("an image signed {SIGNATURES} times with annotations (payloads read), the policy's key last, beside one signed once (by tag):");
    let eight = format!("signed {SIGNATURES} times:");
    print_pairs(&many_signatures, &["signed once:", &eight]);
}

/// A ClusterPolicy whose one entry needs a signature by the key `pem` on every image of
/// `host`, and then whatever `more` adds to the entry (YAML at its indentation).
fn bench_policy(host: &str, pem: &str, more: &str) -> String {
    signet_testkit::KeyPolicy::new("bench", &format!("{host}/*"), pem)
        .then(more)
        .yaml()
}

/// ROUNDS alternating rounds of `n` verifications of each of two images under their
/// entries, with a fresh per-decision cache each time; every one must pass.
async fn alternate(
    verifier: &Verifier,
    n: u32,
    [a, b]: [(&ImageRef, &ImageVerification); 2],
) -> Vec<[Measured; 2]> {
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        let first = cpu_per(n, || passes(verifier, a.0, a.1)).await;
        let second = cpu_per(n, || passes(verifier, b.0, b.1)).await;
        rounds.push([first, second]);
    }
    rounds
}

/// One verification with a fresh per-decision cache, which must pass.
async fn passes(verifier: &Verifier, image: &ImageRef, entry: &ImageVerification) {
    let v = verifier
        .verify_entry(&ArtifactCache::default(), image, entry)
        .await;
    assert_eq!(v.result, VerdictResult::Pass, "{image}: {}", v.message);
}

/// Wall p50 and p99 over every call, and the median round's CPU, of each side of `pairs`.
fn print_pairs(pairs: &[[Measured; 2]], labels: &[&str; 2]) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    for (i, what) in labels.iter().enumerate() {
        let mut walls: Vec<Duration> = pairs
            .iter()
            .flat_map(|p| p[i].walls.iter().copied())
            .collect();
        walls.sort();
        let mut cpus: Vec<Duration> = pairs.iter().map(|p| p[i].cpu).collect();
        cpus.sort();
        println!(
            "  {what:<16} wall p50 {:>6.0} µs, p99 {:>6.0} µs; CPU {:>6.1} µs (median round)",
            us(walls[walls.len() / 2]),
            us(walls[walls.len() * 99 / 100]),
            us(cpus[cpus.len() / 2]),
        );
    }
}

/// This process's CPU time per call of `step` over `n` calls, each call's wall time and how
/// often the bench's one thread slept.
async fn cpu_per<F, Fut>(n: u32, mut step: F) -> Measured
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut walls = Vec::with_capacity(n as usize);
    let before = signet_testkit::process_cpu_time();
    let waits = voluntary_switches();
    for _ in 0..n {
        let t = Instant::now();
        step().await;
        walls.push(t.elapsed());
    }
    let cpu = (signet_testkit::process_cpu_time() - before) / n;
    let sleeps = (voluntary_switches() - waits) as f64 / f64::from(n);
    Measured { cpu, walls, sleeps }
}

/// What [`cpu_per`] measured.
struct Measured {
    /// CPU time per call.
    cpu: Duration,
    /// Wall time of each call, in call order.
    walls: Vec<Duration>,
    /// Voluntary context switches per call: how often the bench's thread slept.
    sleeps: f64,
}

/// Voluntary context switches so far of the main thread (`/proc/self/status` gives the
/// leader's), which runs the whole bench on its current-thread runtime.
fn voluntary_switches() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}
