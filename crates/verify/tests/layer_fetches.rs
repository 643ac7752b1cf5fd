//! What one verification reads at once: the layers of one signature manifest (a bounded
//! number at a time, handed on in the manifest's order), and an entry's attestations
//! beside its signatures.
//!
//! The fake registry (`support/fake_registry.rs`) can hold an answer back, which the real
//! one cannot: a blob request that arrives while an earlier one is still unanswered shows
//! that the client did not wait for it. That each layer is checked as cosign checks it is
//! tested against the real registry and cosign in `cosign_signatures.rs`.

#[path = "support/fake_registry.rs"]
mod fake_registry;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use fake_registry::{FakeRegistry, Reply, Seen};
use signet_policy::image::ImageRef;
use signet_testkit::{provenance_by_key, KeyPolicy};
use signet_verify::cosign::{
    attestation_tag, signature_manifest, signature_tag, Layer, OCI_MANIFEST_MEDIA_TYPE,
    SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE,
};
use signet_verify::crypto::SigningKey;
use signet_verify::digest::sha256_digest;
use signet_verify::engine::fetch::BLOB_FETCHES;
use signet_verify::registry::{RegistryClient, RegistryConfig, Transport};
use signet_verify::trust::TrustRoot;
use signet_verify::{ArtifactCache, StaticKeys, VerdictResult, Verifier};

/// The image whose signatures are read (nothing fetches it).
const IMAGE: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

/// The n-th signature's payload.
fn payload(n: usize) -> Vec<u8> {
    format!(r#"{{"critical":{{"identity":{{"docker-reference":"app"}},"image":{{"docker-manifest-digest":"{IMAGE}"}},"type":"cosign container image signature"}},"optional":{{"n":{n}}}}}"#).into_bytes()
}

/// A registry holding `n` signatures of IMAGE in `app`; `answer(i)` says whether the
/// i-th layer's blob is answered (else its request is left hanging).
async fn registry(n: usize, answer: fn(usize) -> bool) -> FakeRegistry {
    registry_with(n, answer, |_| Reply::status(404)).await
}

/// [`registry`], answering every other request with `other`.
async fn registry_with(
    n: usize,
    answer: fn(usize) -> bool,
    other: fn(&Seen) -> Reply,
) -> FakeRegistry {
    let layers: Vec<Layer> = (0..n)
        .map(|i| {
            let body = payload(i);
            let signature = base64::engine::general_purpose::STANDARD.encode(format!("sig{i}"));
            Layer {
                media_type: SIMPLE_SIGNING_MEDIA_TYPE.into(),
                digest: sha256_digest(&body),
                size: body.len() as u64,
                annotations: BTreeMap::from([(SIGNATURE_ANNOTATION.into(), signature)]),
            }
        })
        .collect();
    let manifest = signature_manifest(&sha256_digest(b"{}"), 2, &layers);
    let manifest_path = format!("/v2/app/manifests/{}", signature_tag(IMAGE));
    let blobs: Vec<String> = layers
        .iter()
        .map(|l| format!("/v2/app/blobs/{}", l.digest))
        .collect();
    FakeRegistry::start(move |seen: &Seen| {
        if seen.path() == manifest_path {
            return Reply::ok(manifest.clone()).header("content-type", OCI_MANIFEST_MEDIA_TYPE);
        }
        match blobs.iter().position(|b| b == seen.path()) {
            Some(i) if answer(i) => Reply::ok(payload(i)),
            Some(_) => Reply::hang(),
            None => other(seen),
        }
    })
    .await
}

fn client() -> RegistryClient {
    RegistryClient::new(RegistryConfig {
        default_transport: Transport::Http,
        request_timeout: Duration::from_secs(30),
        max_retries: 0,
        ..RegistryConfig::default()
    })
    .expect("registry client")
}

fn blob_requests(fake: &FakeRegistry) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.path().starts_with("/v2/app/blobs/"))
        .count()
}

/// Waits until the fake has received `n` blob requests; panics after five seconds.
async fn wait_for_blob_requests(fake: &FakeRegistry, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while blob_requests(fake) < n {
        assert!(
            Instant::now() < deadline,
            "{} of {n} blob requests arrived: {:#?}",
            blob_requests(fake),
            fake.requests()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn every_layer_is_requested_while_the_first_is_unanswered() {
    let fake = registry(4, |i| i != 0).await;
    let client = client();
    let host = fake.host();
    let reading = tokio::spawn(async move {
        ArtifactCache::default()
            .signatures(&client, &host, "app", IMAGE)
            .await
            .map(|l| l.len())
    });
    wait_for_blob_requests(&fake, 4).await;
    assert!(!reading.is_finished(), "the first layer was never answered");
    reading.abort();
}

#[tokio::test]
async fn at_most_a_bounded_number_of_layers_are_requested_at_once() {
    let layers = BLOB_FETCHES + 4;
    let fake = registry(layers, |_| false).await;
    let client = client();
    let host = fake.host();
    let reading = tokio::spawn(async move {
        let _ = ArtifactCache::default()
            .signatures(&client, &host, "app", IMAGE)
            .await;
    });
    wait_for_blob_requests(&fake, BLOB_FETCHES).await;
    // Unbounded, the rest would follow within microseconds of the first ones.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(blob_requests(&fake), BLOB_FETCHES);
    reading.abort();
}

#[tokio::test]
async fn layers_read_at_once_keep_the_manifest_order() {
    let layers = BLOB_FETCHES * 2 + 3;
    let fake = registry(layers, |_| true).await;
    let read = ArtifactCache::default()
        .signatures(&client(), &fake.host(), "app", IMAGE)
        .await
        .expect("signatures");
    let payloads: Vec<Vec<u8>> = read.iter().map(|l| l.payload.to_vec()).collect();
    let signatures: Vec<Vec<u8>> = read.iter().map(|l| l.signature.clone()).collect();
    assert_eq!(payloads, (0..layers).map(payload).collect::<Vec<_>>());
    assert_eq!(
        signatures,
        (0..layers)
            .map(|i| format!("sig{i}").into_bytes())
            .collect::<Vec<_>>()
    );
    assert_eq!(blob_requests(&fake), layers);
}

/// A policy whose entry requires a signature and a signed SLSA provenance, by one key.
fn signature_and_provenance_policy(host: &str) -> signet_policy::Policy {
    let pem = SigningKey::generate()
        .expect("key")
        .public_key_pem()
        .expect("pem");
    let attestations = provenance_by_key(&pem);
    let yaml = KeyPolicy::new("test", &format!("{host}/*"), &pem)
        .then(&attestations)
        .yaml();
    signet_policy::load_policies(&yaml)
        .unwrap_or_else(|e| panic!("{e}\n{yaml}"))
        .remove(0)
}

#[tokio::test]
async fn attestations_are_requested_while_the_signatures_are_read() {
    // The signature's payload is never answered: only a request made beside it reaches
    // the attestations.
    let fake = registry_with(1, |_| false, |_| Reply::status(404)).await;
    let policy = signature_and_provenance_policy(&fake.host());
    let verifier = Verifier::new(client(), Arc::new(StaticKeys::new()), TrustRoot::default());
    let image = ImageRef::parse(&format!("{}/app@{IMAGE}", fake.host())).expect("image");
    let reading = tokio::spawn(async move {
        let entry = &policy.spec.rules[0].verify_images[0];
        verifier
            .verify_entry(&ArtifactCache::default(), &image, entry)
            .await
    });
    let attestations = format!("/v2/app/manifests/{}", attestation_tag(IMAGE));
    let deadline = Instant::now() + Duration::from_secs(5);
    while fake.count(&attestations) == 0 {
        assert!(
            Instant::now() < deadline,
            "no request for {attestations}: {:#?}",
            fake.requests()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(blob_requests(&fake), 1);
    assert!(!reading.is_finished(), "the signature was never answered");
    reading.abort();
}

#[tokio::test]
async fn a_failed_signature_check_does_not_wait_for_the_attestations() {
    // No signature at all, and an attestation request that is never answered: the
    // verdict is the signature's failure, at once.
    let fake = FakeRegistry::start(|seen: &Seen| {
        if seen.path().ends_with(".att") {
            Reply::hang()
        } else {
            Reply::status(404)
        }
    })
    .await;
    let policy = signature_and_provenance_policy(&fake.host());
    let verifier = Verifier::new(client(), Arc::new(StaticKeys::new()), TrustRoot::default());
    let image = ImageRef::parse(&format!("{}/app@{IMAGE}", fake.host())).expect("image");
    let entry = &policy.spec.rules[0].verify_images[0];
    let verdict = tokio::time::timeout(
        Duration::from_secs(10),
        verifier.verify_entry(&ArtifactCache::default(), &image, entry),
    )
    .await
    .expect("a verdict before the attestation request's 30 s timeout");
    assert_eq!(verdict.result, VerdictResult::Fail, "{}", verdict.message);
    assert!(
        verdict
            .message
            .contains("image signature verification failed"),
        "{}",
        verdict.message
    );
}
