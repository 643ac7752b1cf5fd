//! `signet verify-bundle` as the sigstore-conformance harness calls it: exit codes over a
//! few cases of ../shared/testdata/sigstore-conformance/bundle-verify, by identity and by
//! key, over the artifact file and over its digest. Offline.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
/// A P-256 key that signed none of the cases (Rekor's public-good key).
const REKOR_PUB: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwr\nkBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==\n-----END PUBLIC KEY-----\n";
/// SHA-256 of the suite's default artifact, `a.txt`.
const A_TXT: &str = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";

fn suite() -> PathBuf {
    let base = std::env::var_os("SIGNET_TESTDATA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata"),
        PathBuf::from,
    );
    base.join("sigstore-conformance/bundle-verify")
}

fn signet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(args)
        .output()
        .expect("run signet")
}

fn path(case: &str, file: &str) -> String {
    suite().join(case).join(file).display().to_string()
}

/// `signet verify-bundle` on `case` over `artifact`, by identity or by the case's key.
fn verify(case: &str, artifact: &str, by_key: bool) -> Output {
    let bundle = path(case, "bundle.sigstore.json");
    let root = path(case, "trusted_root.json");
    let key = path(case, "key.pub");
    let mut args = vec!["verify-bundle", "--bundle", bundle.as_str()];
    if by_key {
        args.extend(["--key", key.as_str()]);
    } else {
        args.extend([
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ]);
    }
    if Path::new(&root).exists() {
        args.extend(["--trusted-root", root.as_str()]);
    }
    args.push(artifact);
    signet(&args)
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn keyless_cases_over_the_file_and_the_digest() {
    let a_txt = suite().join("a.txt").display().to_string();
    for (case, expected) in [
        ("happy-path-v0.1", 0),
        ("happy-path-v0.3", 0),
        ("rekor2-happy-path", 0),
        ("happy-path-intoto-in-dsse-v3", 0),
        ("signature-mismatch_fail", 1),
        ("set-invalid-signature_fail", 1),
        (
            "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
            1,
        ),
    ] {
        for artifact in [a_txt.as_str(), A_TXT] {
            let out = verify(case, artifact, false);
            assert_eq!(
                code(&out),
                expected,
                "{case} over {artifact}: {}",
                stderr(&out)
            );
        }
    }
    let out = verify("happy-path-v0.1", A_TXT, false);
    assert!(stderr(&out).contains("Verified OK"), "{}", stderr(&out));
    let out = verify("signature-mismatch_fail", A_TXT, false);
    assert!(
        stderr(&out).contains("verification failed: signature:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn managed_key_cases() {
    let a_txt = suite().join("a.txt").display().to_string();
    for artifact in [a_txt.as_str(), A_TXT] {
        let ok = verify("managed-key-happy-path", artifact, true);
        assert_eq!(code(&ok), 0, "{}", stderr(&ok));
        let ok = verify("managed-key-and-trusted-root", artifact, true);
        assert_eq!(code(&ok), 0, "{}", stderr(&ok));
        // A key bundle verified as an identity: not verified.
        let no_key = verify("managed-key-no-key_fail", artifact, false);
        assert_eq!(code(&no_key), 1, "{}", stderr(&no_key));
        assert!(
            stderr(&no_key).contains("signed with a key"),
            "{}",
            stderr(&no_key)
        );
        // The wrong key does not even load: Signet cannot decide with it.
        let wrong = verify("managed-key-wrong-key_fail", artifact, true);
        assert_ne!(code(&wrong), 0, "{}", stderr(&wrong));
    }
    // Another key than the signer's (here: the Rekor key): not verified.
    let dir = tempfile::tempdir().expect("tempdir");
    let other = dir.path().join("other.pub");
    std::fs::write(&other, REKOR_PUB).expect("write key");
    let bundle = path("managed-key-happy-path", "bundle.sigstore.json");
    let other = other.display().to_string();
    let out = signet(&["verify-bundle", "--bundle", &bundle, "--key", &other, A_TXT]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
}

#[test]
fn trust_roots_and_arguments() {
    let bundle = path("happy-path-v0.1", "bundle.sigstore.json");
    let identity = [
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
    ];
    // The staging root is not embedded: a clear error, never a network call.
    let mut args = vec!["verify-bundle", "--bundle", bundle.as_str(), "--staging"];
    args.extend(identity);
    args.push(A_TXT);
    let out = signet(&args);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("staging trust root is not embedded"),
        "{}",
        stderr(&out)
    );
    // A malformed trust root is refused, not read as unbounded.
    let root = path(
        "trust-root-tlog-missing-validity-start_fail",
        "trusted_root.json",
    );
    let mut args = vec![
        "verify-bundle",
        "--bundle",
        bundle.as_str(),
        "--trusted-root",
        root.as_str(),
    ];
    args.extend(identity);
    args.push(A_TXT);
    let out = signet(&args);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("validFor has no start"),
        "{}",
        stderr(&out)
    );
    // Neither a key nor an identity; an identity without its issuer; a bad digest.
    assert_eq!(
        code(&signet(&["verify-bundle", "--bundle", &bundle, A_TXT])),
        2
    );
    let half = signet(&[
        "verify-bundle",
        "--bundle",
        &bundle,
        "--certificate-identity",
        IDENTITY,
        A_TXT,
    ]);
    assert_eq!(code(&half), 2);
    let mut args = vec!["verify-bundle", "--bundle", bundle.as_str()];
    args.extend(identity);
    args.push("sha256:1234");
    let out = signet(&args);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}
