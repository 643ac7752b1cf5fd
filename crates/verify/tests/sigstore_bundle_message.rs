//! `type: SigstoreBundle` with message-signature bundles (what `cosign sign
//! --new-bundle-format` writes from cosign 2.6 on; cosign 2.5 here cannot, so the bundle is
//! made with Signet's signing key): the signature is over the image manifest, and the
//! bundle's message digest must be the image's digest. Stored on the real registry in the
//! referrers tag schema, typed as a bundle.

mod support;

#[path = "sigstore_bundle/common.rs"]
mod common;

use base64::Engine;
use bytes::Bytes;
use common::*;
use serde_json::{json, Value};
use signet_verify::crypto::SigningKey;
use signet_verify::digest::sha256_digest;
use signet_verify::{StaticKeys, VerdictResult};
use support::*;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const BUNDLE_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const EMPTY: &str = "application/vnd.oci.empty.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// A v0.3 bundle signing the manifest of `digest` with `key`; `claimed` is the message
/// digest it names (`None`: no digest hint).
async fn message_bundle(env: &Env, key: &SigningKey, digest: &str, claimed: Option<&str>) -> Bytes {
    let manifest = env
        .client()
        .manifest(&env.host(), "app", digest)
        .await
        .expect("read the image manifest")
        .expect("the image manifest");
    let signature = key.sign(&manifest.bytes).expect("sign");
    let mut message = json!({"signature": B64.encode(signature)});
    if let Some(claimed) = claimed {
        let hex = claimed.trim_start_matches("sha256:");
        let raw = hex::decode(hex).expect("hex digest");
        message["messageDigest"] = json!({"algorithm": "SHA2_256", "digest": B64.encode(raw)});
    }
    let bundle = json!({
        "mediaType": BUNDLE_TYPE,
        "verificationMaterial": {"publicKey": {"hint": "test"}},
        "messageSignature": message,
    });
    Bytes::from(serde_json::to_vec(&bundle).expect("JSON"))
}

/// Stores `bundle` as a referrer of `subject` and lists it in the tag schema's index.
async fn attach(env: &Env, subject: &str, bundle: Bytes) {
    let client = env.client();
    let host = env.host();
    let layer = client
        .push_blob(&host, "app", bundle.clone())
        .await
        .expect("bundle blob");
    let config = client
        .push_blob(&host, "app", Bytes::from_static(b"{}"))
        .await
        .expect("empty config");
    let target = client
        .manifest(&host, "app", subject)
        .await
        .expect("subject")
        .expect("subject manifest");
    let manifest: Value = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": BUNDLE_TYPE,
        "config": {"mediaType": EMPTY, "digest": config, "size": 2},
        "layers": [{"mediaType": BUNDLE_TYPE, "digest": layer, "size": bundle.len()}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": target.bytes.len()},
    });
    let manifest = Bytes::from(serde_json::to_vec(&manifest).expect("JSON"));
    let digest = sha256_digest(&manifest);
    client
        .push_manifest(&host, "app", &digest, OCI_MANIFEST, manifest.clone())
        .await
        .expect("referrer manifest");
    let mut index: Value = serde_json::from_slice(&index_of(&manifest)).expect("JSON");
    index["manifests"][0]["artifactType"] = json!(BUNDLE_TYPE);
    put_index(env, "app", subject, &Bytes::from(index.to_string())).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn message_signature_bundles_are_bound_to_the_image_digest() {
    let env = Env::new().await;
    let key = SigningKey::generate().expect("key");
    let pem = key.public_key_pem().expect("pem");
    let (signed_tag, signed) = env.image("app", "signed").await;
    let (copy_tag, copy) = env.image("app", "copy").await;
    let (bare_tag, bare) = env.image("app", "bare").await;
    let verifier = env.verifier(StaticKeys::new());
    let p = policy(&signature_policy(
        &env.host(),
        &bundle_key_attestor(&pem, true),
    ));

    attach(
        &env,
        &signed,
        message_bundle(&env, &key, &signed, Some(&signed)).await,
    )
    .await;
    let v = verify(&verifier, first_entry(&p), &signed_tag).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);

    let stranger = SigningKey::generate().expect("key");
    let other = policy(&signature_policy(
        &env.host(),
        &bundle_key_attestor(&stranger.public_key_pem().expect("pem"), true),
    ));
    let v = verify(&verifier, first_entry(&other), &signed_tag).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);

    // The signed image's bundle attached to another image: its digest names the signed one.
    attach(
        &env,
        &copy,
        message_bundle(&env, &key, &signed, Some(&signed)).await,
    )
    .await;
    let v = verify(&verifier, first_entry(&p), &copy_tag).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(v.message.contains("artifact mismatch"), "{}", v.message);

    // Without a digest hint the signature itself is checked over the other image's digest.
    attach(&env, &bare, message_bundle(&env, &key, &signed, None).await).await;
    let v = verify(&verifier, first_entry(&p), &bare_tag).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(v.message.contains("signature"), "{}", v.message);

    // A message signature is no attestation.
    let attested = policy(&attestation_policy(&env.host(), &pem, BUILDER));
    let v = verify(&verifier, first_entry(&attested), &signed_tag).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(
        v.message.contains("no Sigstore bundle with an attestation"),
        "{}",
        v.message
    );
}
