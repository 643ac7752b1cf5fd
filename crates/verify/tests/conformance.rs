//! The sigstore-conformance `bundle-verify` cases (../shared/testdata, or
//! `$SIGNET_TESTDATA`), each run over the artifact file and over its `sha256:<hex>`
//! digest, as the conformance client protocol does: a case whose folder ends in `_fail`
//! must fail with the failure class (and words) that say why; every other case must verify.
//! No test touches the network.

use std::path::{Path, PathBuf};

use signet_policy::pem_material::parse_public_keys;
use signet_verify::bundle::{self, Artifact, BundleError, FailureClass, Signer};
use signet_verify::crypto::VerificationKey;
use signet_verify::trust::TrustRoot;
use FailureClass::*;

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// How many cases the suite has: none may be dropped silently.
const CASES: usize = 70;

/// Cases Signet does not decide as named, with the reason. Empty: every case is decided
/// as named. A case listed here that starts being decided correctly fails the test too.
const EXPECTED_WRONG: &[(&str, &str)] = &[];

/// Why each `_fail` case must fail: the class, and words the message must contain.
/// Every failure class a conformance case exercises (`Identity` has its own test below).
#[rustfmt::skip]
const ALL_CLASSES: [FailureClass; 14] = [
    Malformed, UnsupportedVersion, TrustRoot, Material, Certificate, CertificateTransparency,
    Signature, ArtifactMismatch, LogEntryMismatch, TransparencyLog, InclusionProof, Checkpoint,
    Timestamp, SigningTime,
];

#[rustfmt::skip]
const FAILURES: &[(&str, FailureClass, &str)] = &[
    ("bundle-empty-certificate-chain_fail", Material, "chain is empty"),
    ("bundle-from-wrong-instance_fail", TransparencyLog, "log the trust root does not have"),
    ("bundle-invalid-base64-signature_fail", Malformed, "signature is not valid base64"),
    ("bundle-malformed-json_fail", Malformed, "not JSON"),
    ("bundle-negative-log-index_fail", Malformed, "negative log index"),
    ("bundle-unknown-version_fail", UnsupportedVersion, "version=99.9"),
    ("bundle-with-root-cert_fail", Material, "contains a root certificate"),
    ("checkpoint-bad-keyhint_fail", Checkpoint, "no signature from the log rekor.sigstore.dev"),
    ("checkpoint-wrong-roothash_fail", Checkpoint, "for another tree"),
    ("dsse-invalid-sig_fail", Signature, "DSSE envelope signature does not verify"),
    ("dsse-mismatch-envelope_fail", LogEntryMismatch, "another DSSE payload"),
    ("dsse-mismatch-sig_fail", LogEntryMismatch, "another signature"),
    ("inclusion-proof-corrupted-hash_fail", InclusionProof, "does not lead to its root hash"),
    ("incorrect-public-key_fail", LogEntryMismatch, "another certificate"),
    ("integrated-time-in-future_fail", SigningTime, "outside the signing certificate's validity"),
    ("intoto-expired-certificate_fail", Certificate, "expired"),
    ("intoto-log-entry-mismatch_fail", LogEntryMismatch, "another signature"),
    ("intoto-missing-inclusion-proof_fail", InclusionProof, "no inclusion proof"),
    ("intoto-set-outside-signing-cert-validity_fail", SigningTime, "outside the signing certificate's validity"),
    ("intoto-tsa-timestamp-outside-cert-validity_fail", SigningTime, "outside the signing certificate's validity"),
    ("invalid-checkpoint-signature_fail", Checkpoint, "checkpoint signature of rekor.sigstore.dev does not verify"),
    ("invalid-ct-key_fail", CertificateTransparency, "untrusted CT log"),
    ("invalid-inclusion-proof_fail", InclusionProof, "does not lead to its root hash"),
    ("managed-key-no-key_fail", Material, "signed with a key, not a certificate"),
    ("managed-key-wrong-key_fail", Material, "not a usable public key"),
    ("message-digest-mismatch_fail", ArtifactMismatch, "message digest"),
    ("rekor2-checkpoint-missing-log-signature_fail", Checkpoint, "not signed"),
    ("rekor2-checkpoint-missing-origin_fail", Checkpoint, "not a tree size"),
    ("rekor2-checkpoint-missing-root-hash_fail", Checkpoint, "not a base64 SHA-256 root hash"),
    ("rekor2-checkpoint-missing-size_fail", Checkpoint, "not a tree size"),
    ("rekor2-checkpoint-no-matching-signature_fail", Checkpoint, "no signature from the log log2025-alpha1.rekor.sigstage.dev"),
    ("rekor2-dsse-invalid-sig_fail", Signature, "DSSE envelope signature does not verify"),
    ("rekor2-dsse-mismatch-envelope_fail", LogEntryMismatch, "another DSSE envelope"),
    ("rekor2-dsse-mismatch-sig_fail", LogEntryMismatch, "another signature"),
    ("rekor2-no-inclusion-proof_fail", InclusionProof, "no inclusion proof"),
    ("rekor2-no-timestamp_fail", SigningTime, "no trusted signing time"),
    ("rekor2-timestamp-outside-trust-root-tsa-validity_fail", Timestamp, "outside the authority's validity in the trust root"),
    ("rekor2-timestamp-outside-tsa-cert-validity_fail", Timestamp, "chain was not valid at the timestamp"),
    ("rekor2-timestamp-payload-mismatch_fail", Timestamp, "over other data than the bundle's signature"),
    ("rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail", Timestamp, "do not include this authority's"),
    ("rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail", Timestamp, "not signed by this authority"),
    ("rekor2-timestamp-with-incorrect-time_fail", SigningTime, "outside the signing certificate's validity"),
    ("set-invalid-signature_fail", TransparencyLog, "signed entry timestamp does not verify"),
    ("signature-mismatch_fail", Signature, "signature is not over this artifact"),
    ("trust-root-tlog-missing-validity-start_fail", TrustRoot, "validFor has no start"),
    ("wrong-hashedrekord-artifact_fail", LogEntryMismatch, "another artifact"),
    ("wrong-hashedrekord-cert-and-sig_fail", LogEntryMismatch, "another signature"),
    ("wrong-hashedrekord-entry_fail", LogEntryMismatch, "another artifact"),
    ("wrong-material_fail", ArtifactMismatch, "message digest"),
];

fn suite() -> PathBuf {
    let base = std::env::var_os("SIGNET_TESTDATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata"),
        PathBuf::from,
    );
    let dir = base.join("sigstore-conformance/bundle-verify");
    assert!(
        dir.is_dir(),
        "conformance cases not found at {} (set SIGNET_TESTDATA)",
        dir.display()
    );
    dir
}

fn cases() -> Vec<(String, PathBuf)> {
    let name = |p: &Path| p.file_name().expect("name").to_string_lossy().into_owned();
    let mut cases: Vec<(String, PathBuf)> = std::fs::read_dir(suite())
        .expect("read the suite")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .map(|p| (name(&p), p))
        .collect();
    cases.sort();
    cases
}

fn read_text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

/// The signer a case asks for: `key.pub`, else `identity` and `issuer` (or the defaults).
fn signer(case: &Path) -> Result<Signer, BundleError> {
    let Some(pem) = read_text(&case.join("key.pub")) else {
        return Ok(Signer::Identity {
            identity: read_text(&case.join("identity")).unwrap_or(DEFAULT_IDENTITY.into()),
            issuer: read_text(&case.join("issuer")).unwrap_or(DEFAULT_ISSUER.into()),
        });
    };
    // The CLI refuses a key file it cannot read, as a conformance client must.
    parse_public_keys(&pem)
        .map_err(|e| e.to_string())
        .and_then(|keys| VerificationKey::from_public_key(&keys[0]).map_err(|e| e.to_string()))
        .map(Signer::Key)
        .map_err(|e| BundleError::new(Material, format!("key.pub is not a usable public key: {e}")))
}

/// Runs one case over the artifact, or over `sha256:<hex>` of it.
fn run_as(case: &Path, by_digest: bool, signer: &Signer) -> Result<bundle::Verified, BundleError> {
    let trust = match std::fs::read(case.join("trusted_root.json")) {
        Ok(bytes) => TrustRoot::from_trusted_root_json(&bytes),
        Err(_) => TrustRoot::public_good(),
    }
    .map_err(|e| BundleError::new(TrustRoot, e.to_string()))?;
    let artifact_path = Some(case.join("artifact"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| case.join("../a.txt"));
    let bytes = std::fs::read(artifact_path).expect("artifact");
    let bundle_json = std::fs::read(case.join("bundle.sigstore.json")).expect("bundle");
    let artifact = if by_digest {
        let text = format!("sha256:{}", hex::encode(Artifact::Bytes(&bytes).sha256()));
        Artifact::Sha256(Artifact::parse_digest(&text).expect("digest"))
    } else {
        Artifact::Bytes(&bytes)
    };
    bundle::verify(&bundle_json, &artifact, signer, &trust)
}

fn run(case: &Path, by_digest: bool) -> Result<bundle::Verified, BundleError> {
    run_as(case, by_digest, &signer(case)?)
}

/// Whether the case is decided as named, for the reason the table gives; and what happened.
fn decide(name: &str, result: &Result<bundle::Verified, BundleError>) -> (bool, String) {
    match (result, name.ends_with("_fail")) {
        (Ok(_), false) => (true, "verified".into()),
        (Ok(_), true) => (false, "verified, but must fail".into()),
        (Err(e), false) => (false, format!("must verify, failed: {e}")),
        (Err(e), true) => match FAILURES.iter().find(|f| f.0 == name) {
            Some((_, class, words)) if e.class == *class && e.message.contains(words) => {
                (true, e.to_string())
            }
            Some((_, class, words)) => (
                false,
                format!("failed as {e}, expected {class:?} saying {words:?}"),
            ),
            None => (
                false,
                format!("failed ({e}), but FAILURES has no entry for it"),
            ),
        },
    }
}

fn check_all(by_digest: bool) {
    let mode = ["artifact file", "sha256 digest"][usize::from(by_digest)];
    let cases = cases();
    assert_eq!(cases.len(), CASES, "the suite must have {CASES} cases");
    let (mut right, mut surprises) = (0, Vec::new());
    for (name, path) in &cases {
        let (decided, what) = decide(name, &run(path, by_digest));
        right += usize::from(decided);
        if decided == EXPECTED_WRONG.iter().any(|(n, _)| n == name) {
            surprises.push(format!("{name}: {what}"));
        }
    }
    println!("{right}/{CASES} cases decided as named ({mode})");
    assert!(surprises.is_empty(), "{mode}:\n{}", surprises.join("\n"));
    assert_eq!(right, CASES - EXPECTED_WRONG.len());
}

#[test]
fn every_case_is_decided_as_named_over_the_artifact() {
    check_all(false);
}

#[test]
fn every_case_is_decided_as_named_over_its_digest() {
    check_all(true);
}

#[test]
fn the_tables_name_real_cases_and_every_failure_class() {
    let names: Vec<String> = cases().into_iter().map(|(n, _)| n).collect();
    let fails = names.iter().filter(|n| n.ends_with("_fail")).count();
    assert_eq!(FAILURES.len(), fails, "one FAILURES entry per _fail case");
    for (name, _, _) in FAILURES {
        assert!(names.iter().any(|n| n == name), "{name} is not a case");
    }
    for (name, _) in EXPECTED_WRONG {
        assert!(names.iter().any(|n| n == name), "{name} is not a case");
    }
    for class in ALL_CLASSES {
        assert!(
            FAILURES.iter().any(|f| f.1 == class),
            "no case fails as {class:?}"
        );
    }
}

#[test]
fn a_certificate_for_another_identity_or_issuer_is_refused() {
    let case = suite().join("happy-path-v0.3");
    let as_identity = |identity: &str, issuer: &str| Signer::Identity {
        identity: identity.into(),
        issuer: issuer.into(),
    };
    let ok =
        run_as(&case, false, &as_identity(DEFAULT_IDENTITY, DEFAULT_ISSUER)).expect("happy path");
    let id = ok.identity.expect("keyless");
    assert_eq!(id.sans, [DEFAULT_IDENTITY]);
    assert_eq!(ok.signing_times, [1_710_869_186]);
    let err = run_as(
        &case,
        false,
        &as_identity("https://example.com/other", DEFAULT_ISSUER),
    )
    .expect_err("another identity");
    assert_eq!(err.class, FailureClass::Identity, "{err}");
    assert!(
        err.message.contains("not \"https://example.com/other\""),
        "{err}"
    );
    let err = run_as(
        &case,
        true,
        &as_identity(DEFAULT_IDENTITY, "https://accounts.google.com"),
    )
    .expect_err("another issuer");
    assert_eq!(err.class, FailureClass::Identity, "{err}");
    assert!(err.message.contains("OIDC issuer"), "{err}");
}

#[test]
fn a_policy_check_decides_the_identity() {
    let case = suite().join("rekor2-happy-path");
    let check = |prefix: &'static str| {
        Signer::Certificate(std::sync::Arc::new(
            move |id: &signet_verify::x509::CertificateIdentity| match id
                .sans
                .iter()
                .any(|s| s.starts_with(prefix))
            {
                true => Ok(()),
                false => Err(format!("no SAN starts with {prefix}")),
            },
        ))
    };
    run_as(
        &case,
        true,
        &check("https://github.com/sigstore-conformance/"),
    )
    .expect("accepted");
    let err = run_as(&case, true, &check("https://gitlab.com/")).expect_err("refused");
    assert_eq!(err.class, FailureClass::Identity, "{err}");
    assert!(err.message.contains("no SAN starts with"), "{err}");
}

#[test]
fn a_certificate_bundle_is_not_verified_with_a_key() {
    let key_case = suite().join("managed-key-happy-path");
    let Ok(Signer::Key(key)) = signer(&key_case) else {
        panic!("key case")
    };
    let err = run_as(&suite().join("happy-path-v0.1"), false, &Signer::Key(key))
        .expect_err("certificate bundle with a key");
    assert_eq!(err.class, FailureClass::Material, "{err}");
}
