//! `certificates` attestors: `cert` alone (its key verifies, as cosign's key verifier),
//! `cert` with `certChain` (the certificate must chain to the chain's last certificate and
//! carry a valid SCT unless ignored), `certChain` alone (trusted roots for the signature's
//! certificate).

use signet_verify::VerdictResult;

use crate::fixture::{Fixture, Log, WORKFLOW};
use crate::pki::LeafSpec;
use crate::support::*;
use crate::yaml::Opts;

fn certificates(f: &Fixture, cert: Option<&str>, chain: Option<&str>, opts: &Opts) -> String {
    let mut out = String::from("                - certificates:\n");
    if let Some(cert) = cert {
        out.push_str(&format!(
            "                    cert: |-\n{}\n",
            indent(cert, 22)
        ));
    }
    if let Some(chain) = chain {
        out.push_str(&format!(
            "                    certChain: |-\n{}\n",
            indent(chain, 22)
        ));
    }
    out.push_str(&f.rekor_ctlog(20, opts));
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_attestors_check_the_given_certificate_or_chain() {
    let f = Fixture::new().await;
    let verifier = f.bare_verifier();
    let leaf = f.leaf("leaf", &LeafSpec::github(WORKFLOW), true);
    let (image, _) = f
        .signed_image("app", "signed", &leaf, Log::SecondsAgo(60))
        .await;
    let chain = format!("{}{}", f.fulcio.pem(), f.root.pem());
    let strict = Opts::default();

    let root = f.root.pem();
    let cases = [
        ("cert", Some(leaf.pem.as_str()), None),
        (
            "cert and certChain",
            Some(leaf.pem.as_str()),
            Some(chain.as_str()),
        ),
        ("certChain alone", None, Some(chain.as_str())),
        ("the root alone as certChain", None, Some(root.as_str())),
    ];
    for (what, cert, chain) in cases {
        let p = f.signature_policy(&certificates(&f, cert, chain, &strict));
        let v = verify(&verifier, first_entry(&p), &image).await;
        assert_eq!(v.result, VerdictResult::Pass, "{what}: {}", v.message);
        assert_eq!(
            v.attestors_satisfied,
            vec!["attestors[0].entries[0].certificates"]
        );
    }

    // Another certificate (another key): the signature does not verify with it.
    let intruder = f.env.key_pair("intruder");
    let other = f.fulcio.issue(
        "other",
        &LeafSpec::github(WORKFLOW),
        &intruder.public,
        Some(&f.ct),
    );
    let p = f.signature_policy(&certificates(&f, Some(&other.pem), None, &strict));
    let v = verify(&verifier, first_entry(&p), &image).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(
        v.message.contains("not for the key of certificates.cert"),
        "{}",
        v.message
    );

    // The certificate with a chain it does not belong to.
    let p = f.signature_policy(&certificates(
        &f,
        Some(&leaf.pem),
        Some(&f.other_root.pem()),
        &strict,
    ));
    let v = verify(&verifier, first_entry(&p), &image).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(
        v.message
            .contains("certificates.cert: the signing certificate does not chain"),
        "{}",
        v.message
    );

    // A chain alone that does not hold the signature's issuers.
    let p = f.signature_policy(&certificates(&f, None, Some(&f.other_root.pem()), &strict));
    let v = verify(&verifier, first_entry(&p), &image).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);

    // cert + certChain requires the certificate's SCT unless ctlog.ignoreSCT, as cosign.
    let bare = f.leaf("no-sct", &LeafSpec::github(WORKFLOW), false);
    let (unlogged_cert, _) = f
        .signed_image("app", "no-sct", &bare, Log::SecondsAgo(60))
        .await;
    let p = f.signature_policy(&certificates(&f, Some(&bare.pem), Some(&chain), &strict));
    let v = verify(&verifier, first_entry(&p), &unlogged_cert).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(v.message.contains("no embedded SCT"), "{}", v.message);
    let no_sct = Opts {
        ignore_sct: true,
        ..Opts::default()
    };
    let p = f.signature_policy(&certificates(&f, Some(&bare.pem), Some(&chain), &no_sct));
    let v = verify(&verifier, first_entry(&p), &unlogged_cert).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);

    // A plain key signature (no certificate on it) verifies with cert's key, as cosign's
    // key verifier does; unlogged, so only with ignoreTlog.
    let (_, digest) = f.env.image("app", "key-signed").await;
    let key_signed = f.env.by_digest("app", &digest);
    f.env.cosign_sign(&f.signer, &key_signed, &[]);
    let no_tlog = Opts {
        ignore_tlog: true,
        ..Opts::default()
    };
    let p = f.signature_policy(&certificates(&f, Some(&leaf.pem), None, &no_tlog));
    let v = verify(&verifier, first_entry(&p), &key_signed).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
}
