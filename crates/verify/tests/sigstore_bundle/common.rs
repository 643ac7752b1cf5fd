//! Shared by the `SigstoreBundle` tests: cosign's bundle commands, policies, and the
//! referrers tag schema read and rewritten through the registry API.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Output;

use bytes::Bytes;
use serde_json::{json, Value};
use signet_verify::digest::sha256_digest;
use signet_verify::registry::referrers::{referrers_tag, OCI_INDEX_MEDIA_TYPE};

use crate::support::*;

pub const PROVENANCE: &str = "https://slsa.dev/provenance/v0.2";
pub const BUILDER: &str = "https://github.com/company/builder/.github/workflows/build.yml@v1";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

pub fn provenance(builder: &str) -> Value {
    json!({
        "builder": {"id": builder},
        "buildType": "https://example.com/build@v1",
        "invocation": {"configSource": {"uri": "git+https://github.com/company/app@refs/heads/main"}}
    })
}

/// The Sigstore public-good root as a file, for cosign's `--trusted-root` (it would
/// otherwise ask the TUF repository on the network).
pub fn trusted_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("trust/public-good.trusted_root.json")
}

/// `cosign attest --new-bundle-format --key … --tlog-upload=false`: a Sigstore bundle
/// attached as an OCI referrer of `image` (by digest).
pub fn cosign_bundle_attest(env: &Env, keys: &KeyPair, predicate: &Value, image: &str) {
    cosign_bundle_attest_with(env, keys, predicate, image, &[], &[]);
}

/// [`cosign_bundle_attest`] with extra flags (`--certificate`, …) and environment.
pub fn cosign_bundle_attest_with(
    env: &Env,
    keys: &KeyPair,
    predicate: &Value,
    image: &str,
    extra: &[String],
    vars: &[(&str, PathBuf)],
) {
    let path = env.write("predicate.json", &predicate.to_string());
    let mut cmd = env.cosign.command(&env.registry);
    cmd.envs(vars.iter().map(|(k, v)| (*k, v)));
    cmd.env("COSIGN_PASSWORD", PASSWORD)
        .args([
            "attest",
            "--yes",
            "--new-bundle-format",
            "--tlog-upload=false",
        ])
        .arg("--key")
        .arg(&keys.key)
        .args(extra)
        .args(["--type", "slsaprovenance", "--predicate"])
        .arg(&path)
        .args(env.cosign.registry_flags(&env.registry))
        .arg(image);
    let out = cmd.output().expect("run cosign attest");
    signet_testkit::ensure_success(&out, "cosign attest --new-bundle-format")
        .expect("cosign attest --new-bundle-format");
}

/// `cosign verify-attestation --new-bundle-format --key PUB --insecure-ignore-tlog`.
pub fn cosign_verify_bundle(env: &Env, keys: &KeyPair, image: &str) -> Output {
    let mut cmd = env.cosign.command(&env.registry);
    cmd.args([
        "verify-attestation",
        "--new-bundle-format",
        "--insecure-ignore-tlog",
    ])
    .arg("--key")
    .arg(&keys.public)
    .arg("--trusted-root")
    .arg(trusted_root())
    .args(["--type", "slsaprovenance"])
    .args(env.cosign.registry_flags(&env.registry))
    .arg(image);
    cmd.output().expect("run cosign verify-attestation")
}

/// A `keys` entry (list item, indented 16) for bundles made without a log: `ignoreTlog`,
/// and `ignoreSCT` when `no_timestamp` (Kyverno then needs no observer timestamp).
pub fn bundle_key_attestor(pem: &str, no_timestamp: bool) -> String {
    let ctlog = if no_timestamp {
        "\n                    ctlog:\n                      ignoreSCT: true"
    } else {
        ""
    };
    format!("{}{ctlog}", key_attestor(pem))
}

/// A SigstoreBundle entry for `host/*` with one attestor set holding `attestor`.
pub fn signature_policy(host: &str, attestor: &str) -> String {
    cluster_policy(&format!(
        "        - imageReferences: [\"{host}/*\"]
          type: SigstoreBundle
          attestors:
            - entries:
{attestor}"
    ))
}

/// A SigstoreBundle entry demanding a provenance attestation by `pem` from `builder`.
pub fn attestation_policy(host: &str, pem: &str, builder: &str) -> String {
    let attestor = bundle_key_attestor(pem, true)
        .lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    cluster_policy(&format!(
        "        - imageReferences: [\"{host}/*\"]
          type: SigstoreBundle
          attestations:
            - type: {PROVENANCE}
              attestors:
                - entries:
{attestor}
              conditions:
                - all:
                    - key: \"{{{{ builder.id }}}}\"
                      operator: Equals
                      value: \"{builder}\""
    ))
}

/// The referrers tag schema's index of `digest`, and its first referrer manifest.
pub async fn referrers_index(env: &Env, repository: &str, digest: &str) -> (Bytes, Bytes) {
    let client = env.client();
    let host = env.host();
    let index = client
        .manifest(&host, repository, &referrers_tag(digest))
        .await
        .expect("read the referrers tag")
        .expect("a referrers index");
    let parsed: Value = serde_json::from_slice(&index.bytes).expect("index JSON");
    let first = parsed["manifests"][0]["digest"]
        .as_str()
        .expect("a referrer");
    let referrer = client
        .manifest(&host, repository, first)
        .await
        .expect("read the referrer")
        .expect("the referrer");
    (index.bytes, referrer.bytes)
}

/// Stores `index` as the referrers tag schema's index of `digest`.
pub async fn put_index(env: &Env, repository: &str, digest: &str, index: &Bytes) {
    env.client()
        .push_manifest(
            &env.host(),
            repository,
            &referrers_tag(digest),
            OCI_INDEX_MEDIA_TYPE,
            index.clone(),
        )
        .await
        .expect("store the referrers index");
}

/// `referrer` with its subject changed to `digest`, stored; returns its bytes.
pub async fn reparent(env: &Env, repository: &str, referrer: &Bytes, digest: &str) -> Bytes {
    let mut manifest: Value = serde_json::from_slice(referrer).expect("manifest JSON");
    manifest["subject"]["digest"] = json!(digest);
    let bytes = Bytes::from(serde_json::to_vec(&manifest).expect("JSON"));
    let stored = sha256_digest(&bytes);
    env.client()
        .push_manifest(
            &env.host(),
            repository,
            &stored,
            OCI_MANIFEST,
            bytes.clone(),
        )
        .await
        .expect("store the manifest");
    bytes
}

/// An index listing `manifest` the way cosign 2.5 lists bundles in the tag schema
/// (artifact type `application/vnd.oci.empty.v1+json`).
pub fn index_of(manifest: &Bytes) -> Bytes {
    Bytes::from(
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX_MEDIA_TYPE,
            "manifests": [{
                "mediaType": OCI_MANIFEST,
                "size": manifest.len(),
                "digest": sha256_digest(manifest),
                "artifactType": "application/vnd.oci.empty.v1+json",
            }],
        }))
        .expect("JSON"),
    )
}
