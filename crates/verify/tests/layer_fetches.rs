//! The layers of one signature manifest are read at once, a bounded number at a time, and
//! handed on in the manifest's order.
//!
//! The fake registry (`support/fake_registry.rs`) can hold an answer back, which the real
//! one cannot: a blob request that arrives while an earlier one is still unanswered shows
//! that the client did not wait for it. That each layer is checked as cosign checks it is
//! tested against the real registry and cosign in `cosign_signatures.rs`.

#[path = "support/fake_registry.rs"]
mod fake_registry;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use fake_registry::{FakeRegistry, Reply, Seen};
use signet_verify::cosign::{
    signature_manifest, signature_tag, Layer, OCI_MANIFEST_MEDIA_TYPE, SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING_MEDIA_TYPE,
};
use signet_verify::digest::sha256_digest;
use signet_verify::engine::fetch::BLOB_FETCHES;
use signet_verify::registry::{RegistryClient, RegistryConfig, Transport};
use signet_verify::ArtifactCache;

/// The image whose signatures are read (nothing fetches it).
const IMAGE: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

/// The n-th signature's payload.
fn payload(n: usize) -> Vec<u8> {
    format!(r#"{{"critical":{{"identity":{{"docker-reference":"app"}},"image":{{"docker-manifest-digest":"{IMAGE}"}},"type":"cosign container image signature"}},"optional":{{"n":{n}}}}}"#).into_bytes()
}

/// A registry holding `n` signatures of IMAGE in `app`; `answer(i)` says whether the
/// i-th layer's blob is answered (else its request is left hanging).
async fn registry(n: usize, answer: fn(usize) -> bool) -> FakeRegistry {
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
            None => Reply::status(404),
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
