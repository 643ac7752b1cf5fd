//! Keyless signatures need their Rekor entry (unless `ignoreTlog`), a certificate valid at
//! the entry's integrated time, and an SCT from a trusted CT log (unless `ignoreSCT`).

use signet_verify::cosign::{signature_tag, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION};

use crate::fixture::{Fixture, Log, GITHUB, WORKFLOW};
use crate::pki::LeafSpec;
use crate::rekor::edit_layers;
use crate::support::*;
use crate::yaml::{assert_fail, assert_pass, Opts};

#[tokio::test(flavor = "multi_thread")]
async fn keyless_signatures_need_their_log_entry_a_valid_time_and_an_sct() {
    let f = Fixture::new().await;
    let verifier = f.bare_verifier();
    let spec = LeafSpec::github(WORKFLOW);
    let identity = [
        format!("subject: \"{WORKFLOW}\""),
        format!("issuer: \"{GITHUB}\""),
    ];
    let identity: Vec<&str> = identity.iter().map(String::as_str).collect();
    let strict = f.signature_policy(&f.keyless(16, &identity, &Opts::default()));
    let no_tlog = Opts {
        ignore_tlog: true,
        ..Opts::default()
    };
    let lax = f.signature_policy(&f.keyless(16, &identity, &no_tlog));
    let no_sct = Opts {
        ignore_sct: true,
        ..Opts::default()
    };
    let unlogged_ct = f.signature_policy(&f.keyless(16, &identity, &no_sct));

    let leaf = f.leaf("leaf", &spec, true);
    let (unlogged, _) = f
        .signed_image("app", "unlogged", &leaf, Log::Unlogged)
        .await;
    assert_fail(
        &verify(&verifier, first_entry(&strict), &unlogged).await,
        "no bundle",
        "no Rekor bundle",
    );
    assert_pass(
        &verify(&verifier, first_entry(&lax), &unlogged).await,
        "no bundle, ignoreTlog",
    );

    let (bad_set, _) = f.signed_image("app", "bad-set", &leaf, Log::BadSet).await;
    assert_fail(
        &verify(&verifier, first_entry(&strict), &bad_set).await,
        "bad SET",
        "Rekor SET does not verify",
    );
    let out = f.cosign_verify(&bad_set, WORKFLOW, GITHUB, false);
    assert!(!out.status.success(), "cosign refuses the bad SET too");

    let (untrusted, _) = f
        .signed_image("app", "untrusted", &leaf, Log::Untrusted)
        .await;
    assert_fail(
        &verify(&verifier, first_entry(&strict), &untrusted).await,
        "untrusted log",
        "untrusted log",
    );

    // Valid from two hours ago to one hour ago; logged a minute ago: expired at signing.
    let now = chrono::Utc::now().timestamp();
    let expired = LeafSpec {
        validity: Some((now - 7200, now - 3600)),
        ..spec.clone()
    };
    let leaf = f.leaf("expired", &expired, true);
    let (late, _) = f
        .signed_image("app", "late", &leaf, Log::SecondsAgo(60))
        .await;
    let v = verify(&verifier, first_entry(&strict), &late).await;
    assert_fail(
        &v,
        "expired at signing",
        "the signing certificate expired at",
    );
    assert!(
        v.message
            .contains("before the Rekor entry's integrated time"),
        "{}",
        v.message
    );
    let out = f.cosign_verify(&late, WORKFLOW, GITHUB, false);
    assert!(
        !out.status.success(),
        "cosign refuses the expired certificate too"
    );
    // Logged while it was valid: accepted, by cosign too.
    let (early, _) = f
        .signed_image("app", "early", &leaf, Log::SecondsAgo(5000))
        .await;
    assert_pass(
        &verify(&verifier, first_entry(&strict), &early).await,
        "logged in time",
    );
    let out = f.cosign_verify(&early, WORKFLOW, GITHUB, false);
    assert!(
        out.status.success(),
        "cosign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without a log entry the time checked is now, and the certificate has expired.
    let v = verify(&verifier, first_entry(&lax), &early).await;
    assert_fail(
        &v,
        "expired, ignoreTlog",
        "no signed time to show it was valid when signing",
    );

    // No SCT: refused unless ignoreSCT, as cosign does.
    let leaf = f.leaf("no-sct", &spec, false);
    let (unlogged_cert, _) = f
        .signed_image("app", "no-sct", &leaf, Log::SecondsAgo(60))
        .await;
    let v = verify(&verifier, first_entry(&strict), &unlogged_cert).await;
    assert_fail(&v, "no SCT", "no embedded SCT");
    assert_pass(
        &verify(&verifier, first_entry(&unlogged_ct), &unlogged_cert).await,
        "no SCT, ignoreSCT",
    );
    assert!(!f
        .cosign_verify(&unlogged_cert, WORKFLOW, GITHUB, false)
        .status
        .success());
    let out = f.cosign_verify(&unlogged_cert, WORKFLOW, GITHUB, true);
    assert!(
        out.status.success(),
        "cosign --insecure-ignore-sct: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An SCT from a CT log the policy does not name (cosign would refuse to attach the
    // certificate, so the annotations are written by hand).
    let stranger = crate::rekor::CtLog::new();
    let leaf = f
        .fulcio
        .issue("stranger-sct", &spec, &f.signer.public, Some(&stranger));
    let odd = signed_then_attached(&f, &f.signer, "odd-sct", &leaf.pem).await;
    assert_fail(
        &verify(&verifier, first_entry(&lax), &odd).await,
        "unknown CT log",
        "untrusted CT log",
    );

    // A signature by a key that is not the certificate's: cosign's signature check fails.
    let intruder = f.env.key_pair("intruder");
    let forged = signed_then_attached(&f, &intruder, "forged", &leaf.pem).await;
    let v = verify(&verifier, first_entry(&unlogged_ct), &forged).await;
    assert_fail(
        &v,
        "another key",
        "does not verify with its certificate's key",
    );
}

/// An image signed by `keys` with cosign, then given `cert_pem` and the fixture's chain as
/// certificate annotations; unlogged.
async fn signed_then_attached(f: &Fixture, keys: &KeyPair, tag: &str, cert_pem: &str) -> String {
    let (_, digest) = f.env.image("app", tag).await;
    let image = f.env.by_digest("app", &digest);
    f.env.cosign_sign(keys, &image, &[]);
    let chain = std::fs::read_to_string(&f.chain).expect("chain");
    let with_cert = |_: &[u8], _: &std::collections::BTreeMap<String, String>| {
        vec![
            (CERTIFICATE_ANNOTATION.to_owned(), cert_pem.to_owned()),
            (CHAIN_ANNOTATION.to_owned(), chain.clone()),
        ]
    };
    let (client, host) = (f.env.client(), f.env.host());
    edit_layers(&client, &host, "app", &signature_tag(&digest), with_cert).await;
    image
}
