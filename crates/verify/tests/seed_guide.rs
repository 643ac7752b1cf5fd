//! The seed guide's policies, verbatim but for a real key and a local registry, decide
//! signed, unsigned, wrongly-signed, unlogged and partially-attested images as the guide
//! says. Their key attestors name no `rekor`, so Kyverno requires a transparency-log entry:
//! signatures carry Rekor bundles signed by a local Rekor key, which cosign confirms.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};
use signet_policy::pem_material::parse_public_keys;
use signet_verify::cosign::{attestation_tag, signature_tag, SignatureManifest, BUNDLE_ANNOTATION};
use signet_verify::crypto::SigningKey;
use signet_verify::digest::sha256_digest;
use signet_verify::trust::TrustRoot;
use signet_verify::{pod_request, StaticKeys, VerdictResult, Verifier};
use support::*;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A stand-in for Rekor: its key signs entry timestamps.
struct LocalRekor {
    key: SigningKey,
}

impl LocalRekor {
    fn bundle(&self, body: &Value) -> String {
        let body = B64.encode(serde_json::to_vec(body).expect("json"));
        let log_id = self.key.verification_key().expect("key").fingerprint();
        let integrated = chrono::Utc::now().timestamp() - 60;
        let canonical = format!(
            r#"{{"body":{},"integratedTime":{integrated},"logID":{},"logIndex":7}}"#,
            Value::String(body.clone()),
            Value::String(log_id.clone())
        );
        let set = self.key.sign(canonical.as_bytes()).expect("sign");
        json!({
            "SignedEntryTimestamp": B64.encode(set),
            "Payload": {"body": body, "integratedTime": integrated, "logIndex": 7, "logID": log_id}
        })
        .to_string()
    }

    fn public_pem(&self) -> String {
        self.key.public_key_pem().expect("pem")
    }
}

fn hex_sha256(data: &[u8]) -> String {
    sha256_digest(data).trim_start_matches("sha256:").to_owned()
}

/// Adds a Rekor bundle to every layer of the signature image at `tag`, computed from the
/// layer's blob by `body_of`.
async fn add_bundles(
    env: &Env,
    rekor: &LocalRekor,
    tag: &str,
    body_of: impl Fn(&[u8], &BTreeMap<String, String>) -> Value,
) {
    let client = env.client();
    let host = env.host();
    let manifest = client
        .manifest(&host, "app", tag)
        .await
        .expect("fetch")
        .expect("exists");
    let parsed = SignatureManifest::parse(&manifest.bytes).expect("parse");
    let mut doc: Value = serde_json::from_slice(&manifest.bytes).expect("json");
    for (i, layer) in parsed.layers.iter().enumerate() {
        let blob = client
            .blob(&host, "app", &layer.digest)
            .await
            .expect("blob");
        let bundle = rekor.bundle(&body_of(&blob, &layer.annotations));
        doc["layers"][i]["annotations"][BUNDLE_ANNOTATION] = Value::String(bundle);
    }
    client
        .push_manifest(
            &host,
            "app",
            tag,
            "application/vnd.oci.image.manifest.v1+json",
            Bytes::from(serde_json::to_vec(&doc).expect("json")),
        )
        .await
        .expect("push");
}

fn hashedrekord(public_pem: &str) -> impl Fn(&[u8], &BTreeMap<String, String>) -> Value + '_ {
    move |payload, annotations| {
        json!({
            "apiVersion": "0.0.1", "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": hex_sha256(payload)}},
                "signature": {
                    "content": annotations["dev.cosignproject.cosign/signature"],
                    "publicKey": {"content": B64.encode(public_pem)}
                }
            }
        })
    }
}

fn intoto(envelope: &[u8], _: &BTreeMap<String, String>) -> Value {
    let env: Value = serde_json::from_slice(envelope).expect("envelope");
    let payload = B64
        .decode(env["payload"].as_str().expect("payload"))
        .expect("b64");
    json!({
        "apiVersion": "0.0.2", "kind": "intoto",
        "spec": {"content": {
            "hash": {"algorithm": "sha256", "value": hex_sha256(envelope)},
            "payloadHash": {"algorithm": "sha256", "value": hex_sha256(&payload)}
        }}
    })
}

/// A seed policy with the local registry in place of registry.example.com and, for the
/// one whose key the guide truncated, the real key.
fn seed(file: &str, host: &str, pem: &str) -> signet_policy::Policy {
    let path = std::env::var_os("SIGNET_TESTDATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
        })
        .join("policies")
        .join(file);
    let text = std::fs::read_to_string(path).expect("seed policy");
    let truncated = "                      -----BEGIN PUBLIC KEY-----\n                      MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE...\n                      -----END PUBLIC KEY-----";
    let text = text
        .replace("registry.example.com", host)
        .replace(truncated, &indent(pem, 22));
    policy(&text)
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_policies_decide_as_the_guide_says() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let intruder = env.key_pair("intruder");
    let rekor = LocalRekor {
        key: SigningKey::generate().expect("rekor key"),
    };
    let host = env.host();

    let (signed, signed_digest) = env.image("app", "signed").await;
    let (unlogged, unlogged_digest) = env.image("app", "unlogged").await;
    let (wrong, wrong_digest) = env.image("app", "wrong").await;
    let (unsigned, _) = env.image("app", "unsigned").await;
    env.cosign_sign(&signer, &env.by_digest("app", &signed_digest), &[]);
    env.cosign_sign(&signer, &env.by_digest("app", &unlogged_digest), &[]);
    env.cosign_sign(&intruder, &env.by_digest("app", &wrong_digest), &[]);
    add_bundles(
        &env,
        &rekor,
        &signature_tag(&signed_digest),
        hashedrekord(&signer.public_pem()),
    )
    .await;
    add_bundles(
        &env,
        &rekor,
        &signature_tag(&wrong_digest),
        hashedrekord(&intruder.public_pem()),
    )
    .await;

    // cosign agrees that the bundle is a valid transparency-log entry for the local Rekor key.
    let rekor_pub = env.write("rekor.pub", &rekor.public_pem());
    let mut cmd = env.cosign.command(&env.registry);
    cmd.env("SIGSTORE_REKOR_PUBLIC_KEY", &rekor_pub)
        .args(["verify", "--offline", "--allow-http-registry", "--key"])
        .arg(&signer.public)
        .arg(&signed);
    let out = cmd.output().expect("cosign");
    assert!(
        out.status.success(),
        "cosign verifies the bundle: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut keys = StaticKeys::new();
    keys.insert(
        "kyverno",
        "cosign-pub-key",
        parse_public_keys(&signer.public_pem()).expect("pem"),
    );
    let rekor_key = signet_verify::crypto::VerificationKey::from_spki_der(
        &parse_public_keys(&rekor.public_pem()).expect("pem")[0].spki_der,
    )
    .expect("rekor key");
    let verifier = Verifier::new(
        env.client(),
        Arc::new(keys),
        TrustRoot::with_rekor_key(rekor_key, "https://rekor.local"),
    );

    for file in [
        "verify-image-signatures.yaml",
        "verify-with-secret-key.yaml",
        "optimized-verification.yaml",
    ] {
        let p = seed(file, &host, &signer.public_pem());
        let entry = first_entry(&p);
        let v = verify(&verifier, entry, &signed).await;
        assert_eq!(
            v.result,
            VerdictResult::Pass,
            "{file}: signed: {}",
            v.message
        );
        assert_eq!(
            v.pinned,
            Some(format!("{signed}@{signed_digest}")),
            "{file}: mutateDigest pins the tag"
        );
        for (image, why, expect) in [
            (&unsigned, "unsigned", "no signatures found"),
            (&wrong, "wrongly signed", "no signature matched"),
            (&unlogged, "signed but never logged", "no Rekor bundle"),
        ] {
            let v = verify(&verifier, entry, image).await;
            assert_eq!(v.result, VerdictResult::Fail, "{file}: {why}");
            assert!(v.message.contains(expect), "{file}: {why}: {}", v.message);
        }
    }

    // A bundle from a log the verifier does not trust is refused.
    let stranger = LocalRekor {
        key: SigningKey::generate().expect("key"),
    };
    add_bundles(
        &env,
        &stranger,
        &signature_tag(&unlogged_digest),
        hashedrekord(&signer.public_pem()),
    )
    .await;
    let p = seed("verify-with-secret-key.yaml", &host, &signer.public_pem());
    let v = verify(&verifier, first_entry(&p), &unlogged).await;
    assert_eq!(v.result, VerdictResult::Fail);
    assert!(v.message.contains("untrusted log"), "{}", v.message);

    // verify-all-registries: the company rule with the local registry as the company's.
    let all = std::fs::read_to_string(seed_path("verify-all-registries.yaml"))
        .expect("seed")
        .replace("registry.company.com", &host);
    let mut keys = StaticKeys::new();
    keys.insert(
        "kyverno",
        "company-cosign-key",
        parse_public_keys(&signer.public_pem()).expect("pem"),
    );
    let company = Verifier::new(
        env.client(),
        Arc::new(keys),
        TrustRoot::with_rekor_key(
            signet_verify::crypto::VerificationKey::from_spki_der(
                &parse_public_keys(&rekor.public_pem()).expect("pem")[0].spki_der,
            )
            .expect("key"),
            "https://rekor.local",
        ),
    );
    let all = policy(&all);
    let request = pod_request("default", &[signed.clone(), unsigned.clone()]);
    let decision = company
        .review(std::slice::from_ref(&all), &request, &BTreeMap::new())
        .await
        .expect("review");
    assert!(!decision.allowed, "the unsigned company image is denied");
    let message = decision.message.expect("message");
    assert!(
        message.contains("policy verify-all-registries, rule verify-company-images"),
        "{message}"
    );
    assert!(message.contains(&unsigned), "{message}");
    assert!(!message.contains(&signed), "{message}");
}

fn seed_path(file: &str) -> std::path::PathBuf {
    std::env::var_os("SIGNET_TESTDATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
        })
        .join("policies")
        .join(file)
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_attestation_policies_with_logged_attestations() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let rekor = LocalRekor {
        key: SigningKey::generate().expect("rekor key"),
    };
    let host = env.host();
    let (full, full_digest) = env.image("app", "full").await;
    let (partial, partial_digest) = env.image("app", "partial").await;
    let provenance = json!({
        "builder": {"id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v1.4.0"},
        "buildType": "https://github.com/slsa-framework/slsa-github-generator/container@v1",
        "invocation": {"configSource": {"uri": "git+https://github.com/company/app@refs/heads/main"}}
    });
    let scan = json!({
        "scanner": {"vendor": "Trivy", "uri": "pkg:trivy", "version": "0.45",
            "result": {"vulnerabilities": [{"id": "CVE-1", "severity": "HIGH"}]}},
        "metadata": {"scanStartedOn": "2026-11-27T00:00:00Z", "scanFinishedOn": "2026-11-27T00:01:00Z"}
    });
    for digest in [&full_digest, &partial_digest] {
        env.cosign_attest(
            &signer,
            "slsaprovenance",
            &provenance,
            &env.by_digest("app", digest),
        );
    }
    env.cosign_attest(
        &signer,
        "https://cosign.sigstore.dev/attestation/vuln/v1",
        &scan,
        &env.by_digest("app", &full_digest),
    );
    for digest in [&full_digest, &partial_digest] {
        add_bundles(&env, &rekor, &attestation_tag(digest), intoto).await;
    }
    let mut keys = StaticKeys::new();
    keys.insert(
        "kyverno",
        "cosign-pub-key",
        parse_public_keys(&signer.public_pem()).expect("pem"),
    );
    let rekor_key = signet_verify::crypto::VerificationKey::from_spki_der(
        &parse_public_keys(&rekor.public_pem()).expect("pem")[0].spki_der,
    )
    .expect("rekor key");
    let verifier = Verifier::new(
        env.client(),
        Arc::new(keys),
        TrustRoot::with_rekor_key(rekor_key, "https://rekor.local"),
    );

    let provenance_policy = seed("verify-attestations.yaml", &host, "");
    let scan_policy = seed("verify-scan-results.yaml", &host, "");
    for image in [&full, &partial] {
        let v = verify(&verifier, first_entry(&provenance_policy), image).await;
        assert_eq!(v.result, VerdictResult::Pass, "{image}: {}", v.message);
    }
    let v = verify(&verifier, first_entry(&scan_policy), &full).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    let v = verify(&verifier, first_entry(&scan_policy), &partial).await;
    assert_eq!(v.result, VerdictResult::Fail, "partially attested: no scan");
    assert!(
        v.message
            .contains("no attestation of type https://cosign.sigstore.dev/attestation/vuln/v1"),
        "{}",
        v.message
    );
}
