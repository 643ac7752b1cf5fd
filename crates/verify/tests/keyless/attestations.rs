//! Keyless attestations, and `attestations[]` entries without attestors (Kyverno: keyless,
//! any identity, the trust root's CAs and Rekor keys).

use serde_json::json;
use signet_verify::VerdictResult;

use crate::fixture::{Fixture, Log, GITHUB, WORKFLOW};
use crate::pki::LeafSpec;
use crate::support::*;
use crate::yaml::Opts;

const SLSA: &str = "https://slsa.dev/provenance/v0.2";

/// A policy with one attestation of `SLSA` whose attestors are `entries` (indented 20), or
/// none when `entries` is empty.
fn attestation_policy(f: &Fixture, entries: &str) -> signet_policy::Policy {
    let host = f.env.host();
    let attestors = if entries.is_empty() {
        String::new()
    } else {
        format!("              attestors:\n                - entries:\n{entries}")
    };
    policy(&cluster_policy(&format!(
        "        - imageReferences:
            - \"{host}/*\"
          attestations:
            - type: {SLSA}
{attestors}              conditions:
                - all:
                    - key: \"{{{{ builder.id }}}}\"
                      operator: Equals
                      value: https://builder.example/v1
"
    )))
}

fn cosign_verify_attestation(f: &Fixture, image: &str, identity: &str) -> std::process::Output {
    let rekor = f.env.write("rekor.pub", &f.rekor.public_pem());
    let ct = f.env.write("ct.pub", &f.ct.public_pem());
    let mut cmd = f.env.cosign.command(&f.env.registry);
    cmd.env("SIGSTORE_REKOR_PUBLIC_KEY", &rekor)
        .env("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", &ct)
        .args([
            "verify-attestation",
            "--offline",
            "--type",
            "slsaprovenance",
        ])
        .arg("--certificate-chain")
        .arg(&f.chain)
        .args([
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            GITHUB,
        ])
        .args(f.env.cosign.registry_flags(&f.env.registry))
        .arg(image);
    cmd.output().expect("cosign verify-attestation")
}

#[tokio::test(flavor = "multi_thread")]
async fn keyless_attestations_verify_like_signatures() {
    let f = Fixture::new().await;
    let leaf = f.leaf("leaf", &LeafSpec::github(WORKFLOW), true);
    let provenance = json!({"builder": {"id": "https://builder.example/v1"}, "buildType": "x"});
    let (_, digest) = f.env.image("app", "attested").await;
    f.attest(
        "app",
        &digest,
        &leaf,
        "slsaprovenance",
        &provenance,
        Log::SecondsAgo(60),
    )
    .await;
    let image = f.env.by_digest("app", &digest);
    let (_, unlogged_digest) = f.env.image("app", "unlogged").await;
    f.attest(
        "app",
        &unlogged_digest,
        &leaf,
        "slsaprovenance",
        &provenance,
        Log::Unlogged,
    )
    .await;
    let unlogged = f.env.by_digest("app", &unlogged_digest);

    let out = cosign_verify_attestation(&f, &image, WORKFLOW);
    assert!(
        out.status.success(),
        "cosign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !cosign_verify_attestation(&f, &image, "https://github.com/evil/x")
            .status
            .success()
    );

    let verifier = f.bare_verifier();
    let good = attestation_policy(
        &f,
        &f.keyless(
            20,
            &[
                "subject: \"https://github.com/company/*\"",
                &format!("issuer: {GITHUB}"),
            ],
            &Opts::default(),
        ),
    );
    let v = verify(&verifier, first_entry(&good), &image).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    assert_eq!(
        v.attestors_satisfied,
        vec!["attestations[0].attestors[0].entries[0].keyless"]
    );

    // Kyverno: a verified attestation of the type by another identity fails the attestor.
    let other = attestation_policy(
        &f,
        &f.keyless(
            20,
            &["subject: \"https://github.com/evil/*\""],
            &Opts::default(),
        ),
    );
    let v = verify(&verifier, first_entry(&other), &image).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(
        v.message.contains("signed by another identity"),
        "{}",
        v.message
    );

    let v = verify(&verifier, first_entry(&good), &unlogged).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(v.message.contains("has no Rekor bundle"), "{}", v.message);
    let lax = Opts {
        ignore_tlog: true,
        ..Opts::default()
    };
    let lax = attestation_policy(
        &f,
        &f.keyless(20, &["subject: \"https://github.com/company/*\""], &lax),
    );
    let v = verify(&verifier, first_entry(&lax), &unlogged).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);

    // Another root for the attestor: the attestation is not trusted at all.
    let elsewhere = Opts {
        roots: Some(f.other_root.pem()),
        ..Opts::default()
    };
    let elsewhere = attestation_policy(&f, &f.keyless(20, &[], &elsewhere));
    let v = verify(&verifier, first_entry(&elsewhere), &image).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(
        v.message.contains("does not chain to a trusted root"),
        "{}",
        v.message
    );

    // A condition the predicate does not meet.
    let wrong = json!({"builder": {"id": "https://other.example"}, "buildType": "x"});
    let (_, d) = f.env.image("app", "wrong-builder").await;
    f.attest(
        "app",
        &d,
        &leaf,
        "slsaprovenance",
        &wrong,
        Log::SecondsAgo(60),
    )
    .await;
    let v = verify(&verifier, first_entry(&good), &f.env.by_digest("app", &d)).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn attestations_without_attestors_accept_any_identity_from_the_trust_root() {
    let f = Fixture::new().await;
    // No SCT: Kyverno ignores SCTs for attestations without attestors.
    let stranger = LeafSpec {
        san: "email:anyone@elsewhere.example".into(),
        ..LeafSpec::github(WORKFLOW)
    };
    let leaf = f.leaf("anyone", &stranger, false);
    let provenance = json!({"builder": {"id": "https://builder.example/v1"}, "buildType": "x"});
    let (_, digest) = f.env.image("app", "any").await;
    f.attest(
        "app",
        &digest,
        &leaf,
        "slsaprovenance",
        &provenance,
        Log::SecondsAgo(60),
    )
    .await;
    let image = f.env.by_digest("app", &digest);
    let (_, unlogged_digest) = f.env.image("app", "any-unlogged").await;
    f.attest(
        "app",
        &unlogged_digest,
        &leaf,
        "slsaprovenance",
        &provenance,
        Log::Unlogged,
    )
    .await;

    let p = attestation_policy(&f, "");
    let v = verify(&f.private_verifier(), first_entry(&p), &image).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    assert_eq!(v.attestors_satisfied, vec!["attestations[0]"]);

    // The Rekor entry is still required (Kyverno's empty attestor does not ignore the log).
    let v = verify(
        &f.private_verifier(),
        first_entry(&p),
        &f.env.by_digest("app", &unlogged_digest),
    )
    .await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(v.message.contains("has no Rekor bundle"), "{}", v.message);

    // A verifier whose trust root has no CA (or another one) does not trust the signer.
    let v = verify(&f.bare_verifier(), first_entry(&p), &image).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(
        v.message.contains("no Fulcio root certificates"),
        "{}",
        v.message
    );
    // The public-good root: Fulcio's CA did not issue this certificate.
    let public = signet_verify::Verifier::new(
        f.env.client(),
        std::sync::Arc::new(signet_verify::StaticKeys::new()),
        signet_verify::trust::TrustRoot::public_good().expect("public good"),
    );
    let v = verify(&public, first_entry(&p), &image).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(
        v.message.contains("does not chain to a trusted root"),
        "{}",
        v.message
    );
}
