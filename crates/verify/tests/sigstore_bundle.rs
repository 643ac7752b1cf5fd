//! `type: SigstoreBundle` images against the real Distribution registry (no referrers API:
//! the referrers tag schema) with bundles made by `cosign attest --new-bundle-format`, and
//! cosign's own verdict on the same bundles; the referrers API itself in
//! `sigstore_bundle_api.rs`.

mod support;

#[path = "sigstore_bundle/common.rs"]
mod common;

use common::*;
use signet_verify::{StaticKeys, VerdictResult};
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn cosign_bundle_verifies_as_signature_and_attestation() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (tagged, digest) = env.image("app", "v1").await;
    let by_digest = env.by_digest("app", &digest);
    cosign_bundle_attest(&env, &signer, &provenance(BUILDER), &by_digest);
    // cosign, the peer, accepts the bundle it attached.
    assert!(cosign_verify_bundle(&env, &signer, &by_digest)
        .status
        .success());

    let verifier = env.verifier(StaticKeys::new());
    let host = env.host();
    let pem = signer.public_pem();

    let signed = policy(&signature_policy(&host, &bundle_key_attestor(&pem, true)));
    let v = verify(&verifier, first_entry(&signed), &tagged).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    assert_eq!(v.digest.as_deref(), Some(digest.as_str()));
    assert_eq!(v.attestors_satisfied, ["attestors[0].entries[0].keys"]);

    let attested = policy(&attestation_policy(&host, &pem, BUILDER));
    let v = verify(&verifier, first_entry(&attested), &tagged).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);

    let other_builder = policy(&attestation_policy(
        &host,
        &pem,
        "https://example.com/other",
    ));
    let v = verify(&verifier, first_entry(&other_builder), &tagged).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(v.message.contains("builder.id"), "{}", v.message);

    let other_type = policy(
        &attestation_policy(&host, &pem, BUILDER).replace(PROVENANCE, "https://spdx.dev/Document"),
    );
    let v = verify(&verifier, first_entry(&other_type), &tagged).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(
        v.message
            .contains("no Sigstore bundle with an attestation of type https://spdx.dev/Document"),
        "{}",
        v.message
    );

    // A named attestation is named in the messages, with its type.
    let named = |text: String| {
        policy(&text.replace(
            &format!("            - type: {PROVENANCE}"),
            &format!("            - name: build\n              type: {PROVENANCE}"),
        ))
    };
    let v = verify(
        &verifier,
        first_entry(&named(attestation_policy(
            &host,
            &pem,
            "https://example.com/other",
        ))),
        &tagged,
    )
    .await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(
        v.message.contains(&format!(
            "attestations[0].attestors[0].entries[0].keys (key 1 of 1): attestation \"build\" \
             ({PROVENANCE}): condition failed: "
        )),
        "{}",
        v.message
    );
    let v = verify(
        &verifier,
        first_entry(&policy(&attestation_policy(&host, &pem, BUILDER).replace(
            &format!("            - type: {PROVENANCE}"),
            "            - name: build\n              type: https://spdx.dev/Document",
        ))),
        &tagged,
    )
    .await;
    assert!(
        v.message.contains(
            "no Sigstore bundle with an attestation \"build\" of type https://spdx.dev/Document"
        ),
        "{}",
        v.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_key_fails_for_signet_and_cosign() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let stranger = env.key_pair("stranger");
    let (tagged, digest) = env.image("app", "v1").await;
    let by_digest = env.by_digest("app", &digest);
    cosign_bundle_attest(&env, &signer, &provenance(BUILDER), &by_digest);
    assert!(!cosign_verify_bundle(&env, &stranger, &by_digest)
        .status
        .success());

    let verifier = env.verifier(StaticKeys::new());
    let p = policy(&signature_policy(
        &env.host(),
        &bundle_key_attestor(&stranger.public_pem(), true),
    ));
    let v = verify(&verifier, first_entry(&p), &tagged).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(v.message.contains("signature"), "{}", v.message);
    let p = policy(&attestation_policy(
        &env.host(),
        &stranger.public_pem(),
        BUILDER,
    ));
    let v = verify(&verifier, first_entry(&p), &tagged).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bundle_for_another_digest_never_verifies() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (_, signed_digest) = env.image("app", "signed").await;
    cosign_bundle_attest(
        &env,
        &signer,
        &provenance(BUILDER),
        &env.by_digest("app", &signed_digest),
    );
    let (copy_tagged, copy_digest) = env.image("app", "copy").await;
    let p = policy(&signature_policy(
        &env.host(),
        &bundle_key_attestor(&signer.public_pem(), true),
    ));
    let verifier = env.verifier(StaticKeys::new());

    // The signed image's referrer listed, as is, for the other image: its subject names
    // the signed image, so it is not the other image's.
    let (index, referrer) = referrers_index(&env, "app", &signed_digest).await;
    put_index(&env, "app", &copy_digest, &index).await;
    let v = verify(&verifier, first_entry(&p), &copy_tagged).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(v.message.contains("no Sigstore bundle"), "{}", v.message);

    // The same bundle in a referrer that claims the other image: the bundle itself names
    // the signed image's digest.
    let forged = reparent(&env, "app", &referrer, &copy_digest).await;
    put_index(&env, "app", &copy_digest, &index_of(&forged)).await;
    let v = verify(&verifier, first_entry(&p), &copy_tagged).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(v.message.contains("artifact mismatch"), "{}", v.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn transparency_log_and_signing_time_as_kyverno_requires() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (tagged, digest) = env.image("app", "v1").await;
    cosign_bundle_attest(
        &env,
        &signer,
        &provenance(BUILDER),
        &env.by_digest("app", &digest),
    );
    let verifier = env.verifier(StaticKeys::new());
    let pem = signer.public_pem();

    // No rekor block: a log entry is required, and cosign uploaded none.
    let logged = signature_policy(
        &env.host(),
        &format!(
            "                - keys:\n                    publicKeys: |-\n{}",
            indent(&pem, 22)
        ),
    );
    let v = verify(&verifier, first_entry(&policy(&logged)), &tagged).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(
        v.message.contains("no transparency-log entry"),
        "{}",
        v.message
    );

    // ignoreTlog without ignoreSCT: Kyverno still demands an observer timestamp.
    let untimed = signature_policy(&env.host(), &bundle_key_attestor(&pem, false));
    let v = verify(&verifier, first_entry(&policy(&untimed)), &tagged).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(
        v.message.contains("no trusted signing time"),
        "{}",
        v.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_without_bundles_fails_and_cosign_signatures_do_not_count() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (tagged, digest) = env.image("app", "v1").await;
    // A classic cosign signature (.sig tag) is not a Sigstore bundle.
    env.cosign_sign(&signer, &env.by_digest("app", &digest), &[]);
    let verifier = env.verifier(StaticKeys::new());
    let p = policy(&signature_policy(
        &env.host(),
        &bundle_key_attestor(&signer.public_pem(), true),
    ));
    let v = verify(&verifier, first_entry(&p), &tagged).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(
        v.message.contains("no Sigstore bundle found"),
        "{}",
        v.message
    );
    assert!(v.message.contains("TagSchema"), "{}", v.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn policy_fields_bundles_cannot_honour_are_refused() {
    let entry = "        - imageReferences: [\"*\"]
          type: SigstoreBundle
          attestors:
            - entries:
                - keyless:
                    subject: someone@example.com
          attestations:
            - type: https://slsa.dev/provenance/v0.2";
    let err = signet_policy::load_policies(&cluster_policy(entry))
        .expect_err("refused")
        .to_string();
    for path in [
        "spec.rules[0].verifyImages[0].attestors[0].entries[0].keyless",
        "spec.rules[0].verifyImages[0].attestations[0].attestors",
    ] {
        assert!(err.contains(path), "{path} in {err}");
    }
}
