//! Keyless `type: SigstoreBundle` images without the internet: a private Fulcio-like CA
//! issues the leaf, `cosign attest --new-bundle-format --certificate` puts it in the bundle
//! it attaches to the real registry (referrers tag schema), and Signet matches identities
//! the way Kyverno's sigstore-go policy does: exact `subject` / `issuer`, regular
//! expressions, every one given must match.

mod support;

#[path = "sigstore_bundle/common.rs"]
mod common;
#[path = "support/der.rs"]
mod der;
#[allow(dead_code)]
#[path = "keyless/fixture.rs"]
mod fixture;
#[path = "support/pki.rs"]
mod pki;
#[path = "support/rekor.rs"]
mod rekor;

use common::*;
use fixture::{Fixture, GITHUB, WORKFLOW};
use pki::LeafSpec;
use signet_verify::VerdictResult;
use support::*;

/// Attests a fresh image with a leaf for `WORKFLOW`; returns the reference by digest.
async fn attested(f: &Fixture) -> String {
    let leaf = f.leaf("leaf", &LeafSpec::github(WORKFLOW), true);
    let (_, digest) = f.env.image("app", "v1").await;
    let image = f.env.by_digest("app", &digest);
    // cosign checks the certificate's SCT when it signs: it needs the CT log key.
    let ct = f.env.write("ct.pub", &f.ct.public_pem());
    let extra = [
        "--certificate".to_owned(),
        leaf.path.display().to_string(),
        "--certificate-chain".to_owned(),
        f.chain.display().to_string(),
    ];
    let vars = [("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", ct)];
    cosign_bundle_attest_with(
        &f.env,
        &f.signer,
        &provenance(BUILDER),
        &image,
        &extra,
        &vars,
    );
    image
}

/// `cosign verify-attestation --new-bundle-format` for `identity`, offline: the private CA
/// as the trusted root, no log, no SCT.
fn cosign_verify_keyless(f: &Fixture, image: &str, identity: &str) -> std::process::Output {
    let b64 = |der: Vec<u8>| {
        use base64::Engine;
        serde_json::json!({"rawBytes": base64::engine::general_purpose::STANDARD.encode(der)})
    };
    let root = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "certificateAuthorities": [{
            "subject": {"organization": "test", "commonName": "test"},
            "uri": "https://fulcio.local",
            "certChain": {"certificates": [b64(f.fulcio.der()), b64(f.root.der())]},
            "validFor": {"start": "2020-01-01T00:00:00Z"},
        }],
        "tlogs": [],
        "ctlogs": [],
        "timestampAuthorities": [],
    });
    let path = f.env.write("trusted_root.json", &root.to_string());
    let mut cmd = f.env.cosign.command(&f.env.registry);
    cmd.env("SIGSTORE_ROOT_FILE", &f.chain);
    cmd.args([
        "verify-attestation",
        "--new-bundle-format",
        "--insecure-ignore-tlog",
    ])
    .args(["--insecure-ignore-sct", "--type", "slsaprovenance"])
    .arg("--trusted-root")
    .arg(&path)
    .args([
        "--certificate-identity",
        identity,
        "--certificate-oidc-issuer",
        GITHUB,
    ])
    .args(f.env.cosign.registry_flags(&f.env.registry))
    .arg(image);
    cmd.output().expect("run cosign verify-attestation")
}

/// A keyless attestor (list item, indented 16) with `lines` (indented 20), no log, SCTs
/// ignored, and `roots` when given.
fn keyless(lines: &[&str], roots: Option<&str>) -> String {
    let mut out = String::from("                - keyless:\n");
    for l in lines {
        out.push_str(&format!("                    {l}\n"));
    }
    if let Some(pem) = roots {
        out.push_str(&format!(
            "                    roots: |-\n{}\n",
            indent(pem, 22)
        ));
    }
    out.push_str(
        "                    rekor:
                      url: https://rekor.local
                      ignoreTlog: true
                    ctlog:
                      ignoreSCT: true",
    );
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn keyless_bundle_identities_match_as_sigstore_go_matches_them() {
    let f = Fixture::new().await;
    let image = attested(&f).await;
    let chain = std::fs::read_to_string(&f.chain).expect("chain");
    let verifier = f.bare_verifier();
    let host = f.env.host();
    let subject = format!("subject: \"{WORKFLOW}\"");
    let issuer = format!("issuer: \"{GITHUB}\"");

    let decide = |lines: Vec<String>, roots: Option<String>| {
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        policy(&signature_policy(&host, &keyless(&lines, roots.as_deref())))
    };

    let exact = decide(vec![subject.clone(), issuer.clone()], Some(chain.clone()));
    let v = verify(&verifier, first_entry(&exact), &image).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    // cosign, the peer, agrees under a trusted_root.json holding the private CA, and
    // refuses another identity.
    let out = cosign_verify_keyless(&f, &image, WORKFLOW);
    assert!(
        out.status.success(),
        "cosign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !cosign_verify_keyless(&f, &image, "https://github.com/evil/x")
            .status
            .success()
    );
    assert_eq!(v.attestors_satisfied, ["attestors[0].entries[0].keyless"]);

    let regexps = decide(
        vec![
            "subjectRegExp: \"^https://github\\\\.com/company/\"".into(),
            "issuerRegExp: \"githubusercontent\"".into(),
        ],
        Some(chain.clone()),
    );
    let v = verify(&verifier, first_entry(&regexps), &image).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);

    let fails: Vec<(&str, Vec<String>, Option<String>, &str)> = vec![
        (
            "another subject",
            vec![
                "subject: \"https://github.com/evil/x\"".into(),
                issuer.clone(),
            ],
            Some(chain.clone()),
            "certificate identity",
        ),
        (
            // sigstore-go compares `subject` exactly: no wildcards for bundles.
            "a wildcard subject",
            vec![
                "subject: \"https://github.com/company/*\"".into(),
                issuer.clone(),
            ],
            Some(chain.clone()),
            "certificate identity",
        ),
        (
            "another issuer",
            vec![
                subject.clone(),
                "issuer: \"https://accounts.google.com\"".into(),
            ],
            Some(chain.clone()),
            "certificate identity",
        ),
        (
            "another root",
            vec![subject.clone(), issuer.clone()],
            Some(std::fs::read_to_string(&f.other_root.cert).expect("pem")),
            "certificate chain",
        ),
        (
            "no root at all",
            vec![subject.clone(), issuer.clone()],
            None,
            "no Fulcio root certificates",
        ),
    ];
    for (what, lines, roots, expect) in fails {
        let p = decide(lines, roots);
        let v = verify(&verifier, first_entry(&p), &image).await;
        assert_eq!(v.result, VerdictResult::Fail, "{what}: {}", v.message);
        assert!(v.message.contains(expect), "{what}: {}", v.message);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn keyless_bundles_under_the_trust_root_and_its_ct_logs() {
    let f = Fixture::new().await;
    let image = attested(&f).await;
    let host = f.env.host();
    let verifier = f.private_verifier();
    let identity = [
        format!("subject: \"{WORKFLOW}\""),
        format!("issuer: \"{GITHUB}\""),
    ];
    let lines: Vec<&str> = identity.iter().map(String::as_str).collect();

    // The trust root's CA replaces `roots`.
    let p = policy(&signature_policy(&host, &keyless(&lines, None)));
    let v = verify(&verifier, first_entry(&p), &image).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);

    // Without ignoreTlog a log entry is required, and the bundle has none.
    let logged = keyless(&lines, None).replace("                      ignoreTlog: true\n", "");
    let v = verify(
        &verifier,
        first_entry(&policy(&signature_policy(&host, &logged))),
        &image,
    )
    .await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
    assert!(
        v.message.contains("no transparency-log entry"),
        "{}",
        v.message
    );
}
