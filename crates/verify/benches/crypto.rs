//! Signature verification cost, without a benchmark framework: `cargo bench -p
//! signet-verify --bench crypto` prints nanoseconds per verification. Iterations per case
//! come from `SIGNET_BENCH_ITERATIONS` (default 5000).

use std::hint::black_box;
use std::time::Instant;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    self, Ed25519KeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1,
};
use signet_policy::SignatureAlgorithm;
use signet_verify::crypto::{SigningKey, VerificationKey};

const MESSAGE: &[u8] = br#"{"critical":{"identity":{"docker-reference":"registry.example/app"},"image":{"docker-manifest-digest":"sha256:d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f"},"type":"cosign container image signature"},"optional":null}"#;

fn run(name: &str, iterations: u32, mut check: impl FnMut() -> bool) {
    // Warm caches and CPU frequency before timing.
    for _ in 0..iterations / 10 + 1 {
        assert!(check(), "{name}: verification failed");
    }
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(check());
    }
    let per_op = start.elapsed().as_nanos() / u128::from(iterations.max(1));
    println!("{name:<48} {per_op:>10} ns/op  ({iterations} iterations)");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let iterations: u32 = std::env::var("SIGNET_BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);

    let p256 = SigningKey::generate()?;
    let p256_sig = p256.sign(MESSAGE)?;
    let p256_key = p256.verification_key()?;
    run("P-256 verify (VerificationKey, sha256)", iterations, || {
        p256_key
            .verify(black_box(MESSAGE), &p256_sig, SignatureAlgorithm::Sha256)
            .is_ok()
    });
    // The cost of parsing the key on every check, which VerificationKey avoids.
    let point = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, p256_key.spki_der().to_vec());
    run(
        "P-256 verify (UnparsedPublicKey, re-parsed)",
        iterations,
        || point.verify(black_box(MESSAGE), &p256_sig).is_ok(),
    );

    let rsa = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|e| e.to_string())?;
    let mut rsa_sig = vec![0u8; rsa.public_modulus_len()];
    rsa.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        MESSAGE,
        &mut rsa_sig,
    )
    .map_err(|e| e.to_string())?;
    let rsa_key = VerificationKey::from_spki_der(
        rsa.public_key()
            .as_der()
            .map_err(|e| e.to_string())?
            .as_ref(),
    )?;
    run("RSA-2048 PKCS#1 v1.5 verify (sha256)", iterations, || {
        rsa_key
            .verify(black_box(MESSAGE), &rsa_sig, SignatureAlgorithm::Sha256)
            .is_ok()
    });

    let ed = Ed25519KeyPair::generate().map_err(|e| e.to_string())?;
    let ed_sig = ed.sign(MESSAGE).as_ref().to_vec();
    let ed_key = VerificationKey::from_spki_der(
        ed.public_key()
            .as_der()
            .map_err(|e| e.to_string())?
            .as_ref(),
    )?;
    run("Ed25519 verify", iterations, || {
        ed_key
            .verify(black_box(MESSAGE), &ed_sig, SignatureAlgorithm::Sha256)
            .is_ok()
    });
    Ok(())
}
