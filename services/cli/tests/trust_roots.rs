//! `signet verify --policy` with policies that name a trust root
//! (`signet.dev/trust-root`), against the real Distribution registry.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use signet_testkit::{push_random_image, Registry};

fn signet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(args)
        .output()
        .expect("run signet")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The embedded Sigstore root as a file: a valid trusted_root.json to name.
fn public_good() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/verify/trust/public-good.trusted_root.json")
}

fn policy(dir: &Path, host: &str) -> PathBuf {
    let path = dir.join("keyless.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: keyless
  annotations: {{signet.dev/trust-root: private}}
spec:
  validationFailureAction: Enforce
  rules:
    - name: signed-in-ci
      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}
      verifyImages:
        - imageReferences: [\"{host}/*\"]
          attestors:
            - entries:
                - keyless:
                    subject: ci@example.com
                    issuer: https://issuer.example
                    rekor: {{url: https://rekor.sigstore.dev}}
"
        ),
    )
    .expect("write policy");
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn named_roots_come_from_trust_root_options() {
    let registry = Registry::start().await.expect("registry");
    push_random_image(&registry, "app", "v1")
        .await
        .expect("push");
    let image = registry.reference("app", "v1");
    let dir = tempfile::tempdir().expect("tmp");
    let policy = policy(dir.path(), &registry.host());
    let policy = policy.to_str().expect("utf-8 path");
    let root = public_good();
    let named = format!("private={}", root.display());
    let verify = |extra: &[&str]| {
        // The image first: --policy takes every value up to the next option.
        let mut args = vec![
            "verify",
            &image,
            "--allow-http-registry",
            "--policy",
            policy,
        ];
        args.extend_from_slice(extra);
        signet(&args)
    };

    // Not given: the policy's root is unknown, so Signet cannot decide.
    let out = verify(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("\"private\""), "{}", text(&out));

    // Given: the image is judged under it, and fails for want of a signature.
    let out = verify(&["--trust-root", &named]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        !text(&out).contains("trust root \"private\""),
        "{}",
        text(&out)
    );

    // Malformed options are refused before anything is fetched.
    let out = verify(&["--trust-root", "private"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("is not NAME=FILE"), "{}", text(&out));
    let out = verify(&["--trust-root", "private=/nonexistent/root.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("cannot read"), "{}", text(&out));
}
