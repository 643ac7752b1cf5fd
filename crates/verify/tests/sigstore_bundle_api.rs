//! `type: SigstoreBundle` through the OCI 1.1 referrers API, which the Distribution registry
//! lacks: a bundle made by `cosign attest --new-bundle-format` on the real registry, served
//! by the in-process fake from `GET /v2/<repo>/referrers/<digest>` (one page, or two linked
//! pages), as registries with the API serve it.

mod support;

#[path = "sigstore_bundle/common.rs"]
mod common;
#[path = "support/fake_registry.rs"]
mod fake_registry;

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use common::*;
use fake_registry::{FakeRegistry, Reply};
use serde_json::{json, Value};
use signet_verify::digest::sha256_digest;
use signet_verify::registry::referrers::{referrers_tag, OCI_INDEX_MEDIA_TYPE};
use signet_verify::{StaticKeys, VerdictResult, Verifier};
use support::*;

const BUNDLE_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// A cosign-made bundle for a fresh image: (image digest, referrer manifest, bundle blob).
async fn cosign_bundle(env: &Env, signer: &KeyPair) -> (String, Bytes, Bytes) {
    let (_, digest) = env.image("app", "v1").await;
    cosign_bundle_attest(
        env,
        signer,
        &provenance(BUILDER),
        &env.by_digest("app", &digest),
    );
    let (_, referrer) = referrers_index(env, "app", &digest).await;
    let parsed: Value = serde_json::from_slice(&referrer).expect("manifest JSON");
    let layer = parsed["layers"][0]["digest"]
        .as_str()
        .expect("bundle layer");
    let blob = env
        .client()
        .blob(&env.host(), "app", layer)
        .await
        .expect("bundle blob");
    (digest, referrer, blob)
}

fn index(descriptors: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX_MEDIA_TYPE,
        "manifests": descriptors,
    }))
    .expect("JSON")
}

fn descriptor(manifest: &Bytes) -> Value {
    json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": sha256_digest(manifest),
        "size": manifest.len(),
        "artifactType": BUNDLE_TYPE,
    })
}

/// A fake registry with the referrers API: `pages` are the index pages of `digest`, each
/// linking to the next; manifests and blobs by digest from `content`.
async fn fake(digest: &str, pages: Vec<Vec<u8>>, content: HashMap<String, Bytes>) -> FakeRegistry {
    let referrers = format!("/v2/app/referrers/{digest}");
    let pages = Arc::new(pages);
    FakeRegistry::start(move |seen| {
        let path = seen.path();
        if path == referrers {
            let page: usize = seen.param("page").and_then(|p| p.parse().ok()).unwrap_or(0);
            let Some(body) = pages.get(page) else {
                return Reply::status(404);
            };
            let mut reply = Reply::ok(body.clone()).header("content-type", OCI_INDEX_MEDIA_TYPE);
            if page + 1 < pages.len() {
                let next = format!("<{referrers}?page={}>; rel=\"next\"", page + 1);
                reply = reply.header("link", next);
            }
            return reply;
        }
        let last = path.rsplit('/').next().unwrap_or_default();
        match content.get(last) {
            Some(bytes) if path.contains("/manifests/") => Reply::ok(bytes.to_vec())
                .header("content-type", "application/vnd.oci.image.manifest.v1+json")
                .header("docker-content-digest", last),
            Some(bytes) => Reply::ok(bytes.to_vec()),
            None => Reply::status(404),
        }
    })
    .await
}

fn content(referrer: &Bytes, blob: &Bytes) -> HashMap<String, Bytes> {
    HashMap::from([
        (sha256_digest(referrer), referrer.clone()),
        (sha256_digest(blob), blob.clone()),
    ])
}

async fn decide(
    verifier: &Verifier,
    host: &str,
    pem: &str,
    digest: &str,
) -> (VerdictResult, String) {
    let p = policy(&signature_policy(host, &bundle_key_attestor(pem, true)));
    let v = verify(verifier, first_entry(&p), &format!("{host}/app@{digest}")).await;
    (v.result, v.message)
}

#[tokio::test(flavor = "multi_thread")]
async fn bundles_listed_by_the_referrers_api_verify() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (digest, referrer, blob) = cosign_bundle(&env, &signer).await;
    let registry = fake(
        &digest,
        vec![index(vec![descriptor(&referrer)])],
        content(&referrer, &blob),
    )
    .await;
    let verifier = env.verifier(StaticKeys::new());

    let (result, message) =
        decide(&verifier, &registry.host(), &signer.public_pem(), &digest).await;
    assert_eq!(result, VerdictResult::Pass, "{message}");
    assert_eq!(registry.count(&format!("/v2/app/referrers/{digest}")), 1);
    // The API answered: the tag schema is never consulted.
    assert_eq!(
        registry.count(&format!("/v2/app/manifests/{}", referrers_tag(&digest))),
        0
    );

    let stranger = env.key_pair("stranger");
    let (result, message) =
        decide(&verifier, &registry.host(), &stranger.public_pem(), &digest).await;
    assert_eq!(result, VerdictResult::Fail, "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn paginated_referrers_are_followed_and_other_artifacts_skipped() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (digest, referrer, blob) = cosign_bundle(&env, &signer).await;
    // Page one: an SBOM-like referrer of another artifact type, never fetched.
    let sbom = json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": sha256_digest(b"sbom"),
        "size": 4,
        "artifactType": "application/spdx+json",
    });
    let pages = vec![index(vec![sbom]), index(vec![descriptor(&referrer)])];
    let registry = fake(&digest, pages, content(&referrer, &blob)).await;
    let verifier = env.verifier(StaticKeys::new());

    let (result, message) =
        decide(&verifier, &registry.host(), &signer.public_pem(), &digest).await;
    assert_eq!(result, VerdictResult::Pass, "{message}");
    assert_eq!(registry.count(&format!("/v2/app/referrers/{digest}")), 2);
    assert_eq!(
        registry.count(&format!("/v2/app/manifests/{}", sha256_digest(b"sbom"))),
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_bundle_layer_is_refused_unread() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (digest, referrer, blob) = cosign_bundle(&env, &signer).await;
    let mut manifest: Value = serde_json::from_slice(&referrer).expect("JSON");
    manifest["layers"][0]["size"] = json!(50_000_000u64);
    let huge = Bytes::from(serde_json::to_vec(&manifest).expect("JSON"));
    let registry = fake(
        &digest,
        vec![index(vec![descriptor(&huge)])],
        content(&huge, &blob),
    )
    .await;
    let verifier = env.verifier(StaticKeys::new());

    let (result, message) =
        decide(&verifier, &registry.host(), &signer.public_pem(), &digest).await;
    assert_eq!(result, VerdictResult::Error, "{message}");
    assert!(message.contains("exceeds the limit"), "{message}");
    assert_eq!(
        registry.count(&format!("/v2/app/blobs/{}", sha256_digest(&blob))),
        0
    );
}
