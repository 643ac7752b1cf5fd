//! Attestations made by `cosign attest`: DSSE signatures checked like attestors, the
//! statement's subject bound to the image, the predicate type filter and the conditions.

mod support;

use bytes::Bytes;
use serde_json::json;
use signet_verify::cosign::{attestation_tag, SignatureManifest};
use signet_verify::{StaticKeys, VerdictResult};
use support::*;

const BUILDER: &str =
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v1.4.0";

fn provenance() -> serde_json::Value {
    json!({
        "builder": {"id": BUILDER},
        "buildType": "https://github.com/slsa-framework/slsa-github-generator/container@v1",
        "invocation": {"configSource": {"uri": "git+https://github.com/company/app@refs/heads/main"}}
    })
}

fn attestation_policy(host: &str, pem: &str, builder: &str) -> String {
    cluster_policy(&format!(
        "        - imageReferences: [\"{host}/*\"]
          attestations:
            - type: https://slsa.dev/provenance/v0.2
              attestors:
                - entries:
{}
              conditions:
                - all:
                    - key: \"{{{{ builder.id }}}}\"
                      operator: Equals
                      value: \"{builder}\"",
        key_attestor(pem)
            .replace("\n                ", "\n                    ")
            .replacen("                - keys", "                    - keys", 1)
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn slsa_provenance_conditions_decide() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (tagged, digest) = env.image("app", "v1").await;
    env.cosign_attest(
        &signer,
        "slsaprovenance",
        &provenance(),
        &env.by_digest("app", &digest),
    );
    let verifier = env.verifier(StaticKeys::new());
    let host = env.host();

    let good = policy(&attestation_policy(&host, &signer.public_pem(), BUILDER));
    let v = verify(&verifier, first_entry(&good), &tagged).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    assert_eq!(
        v.attestors_satisfied,
        ["attestations[0].attestors[0].entries[0].keys"]
    );

    let other_builder = policy(&attestation_policy(
        &host,
        &signer.public_pem(),
        "https://evil.example/builder",
    ));
    let v = verify(&verifier, first_entry(&other_builder), &tagged).await;
    assert_eq!(v.result, VerdictResult::Fail);
    let leaf = "attestations[0].attestors[0].entries[0].keys (key 1 of 1): ";
    assert!(
        v.message.contains(&format!(
            "{leaf}attestation https://slsa.dev/provenance/v0.2: condition failed: "
        )),
        "{}",
        v.message
    );
    assert!(v.message.contains("builder.id"), "{}", v.message);
    // A named attestation is named in the message, with its type.
    let named = |text: String| {
        policy(&text.replace(
            "            - type: https://slsa.dev/provenance/v0.2",
            "            - name: build\n              type: https://slsa.dev/provenance/v0.2",
        ))
    };
    let v = verify(
        &verifier,
        first_entry(&named(attestation_policy(
            &host,
            &signer.public_pem(),
            "https://evil.example/builder",
        ))),
        &tagged,
    )
    .await;
    assert_eq!(v.result, VerdictResult::Fail);
    assert!(
        v.message.contains(&format!(
            "{leaf}attestation \"build\" (https://slsa.dev/provenance/v0.2): condition failed: "
        )),
        "{}",
        v.message
    );

    // Another key signed nothing; another type was never attested.
    let stranger = env.key_pair("stranger");
    let v = verify(
        &verifier,
        first_entry(&policy(&attestation_policy(
            &host,
            &stranger.public_pem(),
            BUILDER,
        ))),
        &tagged,
    )
    .await;
    assert_eq!(v.result, VerdictResult::Fail);
    assert!(
        v.message.ends_with(&format!(
            "no attestation of type https://slsa.dev/provenance/v0.2 found in {host}/app"
        )),
        "{}",
        v.message
    );
    let v = verify(
        &verifier,
        first_entry(&named(attestation_policy(
            &host,
            &stranger.public_pem(),
            BUILDER,
        ))),
        &tagged,
    )
    .await;
    assert_eq!(v.result, VerdictResult::Fail);
    assert!(
        v.message.ends_with(&format!(
            "no attestation \"build\" of type https://slsa.dev/provenance/v0.2 found in {host}/app"
        )),
        "{}",
        v.message
    );
    let vuln = attestation_policy(&host, &signer.public_pem(), BUILDER).replace(
        "https://slsa.dev/provenance/v0.2",
        "https://cosign.sigstore.dev/attestation/vuln/v1",
    );
    let v = verify(&verifier, first_entry(&policy(&vuln)), &tagged).await;
    assert_eq!(v.result, VerdictResult::Fail, "partially attested: no scan");

    let out = env
        .cosign
        .verify_attestation(&env.registry, &signer.public, "slsaprovenance", &tagged)
        .expect("cosign");
    assert!(
        out.status.success(),
        "cosign accepts what Signet accepts: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn vulnerability_scan_with_zero_critical() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (clean, clean_digest) = env.image("app", "clean").await;
    let (dirty, dirty_digest) = env.image("app", "dirty").await;
    let scan = |severities: &[&str]| {
        json!({
            "invocation": {"uri": "", "event_id": "", "builder.id": ""},
            "scanner": {"uri": "pkg:github/aquasecurity/trivy@0.45.0", "version": "0.45.0",
                "vendor": "Trivy",
                "result": {"vulnerabilities": severities.iter().map(|s| json!({"id": "CVE-1", "severity": s})).collect::<Vec<_>>()}},
            "metadata": {"scanStartedOn": "2026-11-27T00:00:00Z", "scanFinishedOn": "2026-11-27T00:01:00Z"}
        })
    };
    // `--type vuln` makes cosign rebuild the predicate from its own Go struct, which has no
    // `scanner.vendor`; a scanner that writes the whole predicate attests it by URI.
    let uri = "https://cosign.sigstore.dev/attestation/vuln/v1";
    env.cosign_attest(
        &signer,
        uri,
        &scan(&["LOW"]),
        &env.by_digest("app", &clean_digest),
    );
    env.cosign_attest(
        &signer,
        uri,
        &scan(&["CRITICAL", "LOW"]),
        &env.by_digest("app", &dirty_digest),
    );
    // The seed guide's verify-scan-results conditions, verbatim, with a real key.
    let seed = std::fs::read_to_string(support_testdata("policies/verify-scan-results.yaml"))
        .expect("seed policy");
    let p = seed
        .replace("registry.example.com/*", &format!("{}/*", env.host()))
        .replace(
            "                    - keys:\n                        secret:\n                          name: cosign-pub-key\n                          namespace: kyverno",
            &format!(
                "                    - keys:\n                        publicKeys: |-\n{}\n                        rekor: {{url: \"https://rekor.sigstore.dev\", ignoreTlog: true}}",
                indent(&signer.public_pem(), 26)
            ),
        );
    let p = policy(&p);
    let verifier = env.verifier(StaticKeys::new());
    let v = verify(&verifier, first_entry(&p), &clean).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    let v = verify(&verifier, first_entry(&p), &dirty).await;
    assert_eq!(v.result, VerdictResult::Fail);
    assert!(v.message.contains("LessThanOrEquals"), "{}", v.message);
}

fn support_testdata(rel: &str) -> std::path::PathBuf {
    std::env::var_os("SIGNET_TESTDATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
        })
        .join(rel)
}

#[tokio::test(flavor = "multi_thread")]
async fn attestations_bound_to_another_image_or_badly_signed_fail() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (_, attested) = env.image("app", "a").await;
    let (target, target_digest) = env.image("app", "b").await;
    env.cosign_attest(
        &signer,
        "slsaprovenance",
        &provenance(),
        &env.by_digest("app", &attested),
    );
    let client = env.client();
    let host = env.host();
    let manifest = client
        .manifest(&host, "app", &attestation_tag(&attested))
        .await
        .expect("fetch")
        .expect("exists");
    client
        .push_manifest(
            &host,
            "app",
            &attestation_tag(&target_digest),
            "application/vnd.oci.image.manifest.v1+json",
            manifest.bytes.clone(),
        )
        .await
        .expect("copy");
    let verifier = env.verifier(StaticKeys::new());
    let p = policy(&attestation_policy(&host, &signer.public_pem(), BUILDER));
    let v = verify(&verifier, first_entry(&p), &target).await;
    assert_eq!(v.result, VerdictResult::Fail);
    assert!(v.message.contains("for another image"), "{}", v.message);

    // A DSSE envelope whose signature no longer matches its payload.
    let parsed = SignatureManifest::parse(&manifest.bytes).expect("parse");
    let layer = &parsed.layers[0];
    let envelope = client
        .blob(&host, "app", &layer.digest)
        .await
        .expect("envelope");
    let mut doc: serde_json::Value = serde_json::from_slice(&envelope).expect("json");
    let sig = doc["signatures"][0]["sig"]
        .as_str()
        .expect("sig")
        .to_owned();
    let flipped = if sig.starts_with('M') {
        sig.replacen('M', "N", 1)
    } else {
        format!("M{}", &sig[1..])
    };
    doc["signatures"][0]["sig"] = json!(flipped);
    let bad = serde_json::to_vec(&doc).expect("json");
    let bad_digest = client
        .push_blob(&host, "app", Bytes::from(bad.clone()))
        .await
        .expect("push");
    let text = String::from_utf8(manifest.bytes.to_vec())
        .expect("utf8")
        .replace(&layer.digest, &bad_digest)
        .replace(
            &format!("\"size\":{}", envelope.len()),
            &format!("\"size\":{}", bad.len()),
        );
    client
        .push_manifest(
            &host,
            "app",
            &attestation_tag(&attested),
            "application/vnd.oci.image.manifest.v1+json",
            Bytes::from(text),
        )
        .await
        .expect("push");
    let v = verify(&verifier, first_entry(&p), &env.by_digest("app", &attested)).await;
    assert_eq!(v.result, VerdictResult::Fail);
    assert!(
        v.message.contains("no attestation of type"),
        "{}",
        v.message
    );
}
