//! `signet` and cosign as peers: keys, signatures and attestations made by one are
//! accepted by the other, against the real Distribution registry.

use std::path::Path;
use std::process::{Command, Output};

use signet_testkit::{ensure_success, push_random_image, Cosign, Registry};

const PASSWORD: &str = "hunter2-but-longer";

fn signet(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(args)
        .current_dir(dir)
        .env("COSIGN_PASSWORD", PASSWORD)
        .env("DOCKER_CONFIG", dir)
        .output()
        .expect("run signet")
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn signet_keys_and_signatures_work_in_cosign() {
    let registry = Registry::start().await.expect("registry");
    let cosign = Cosign::find().expect("cosign");
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let digest = push_random_image(&registry, "app", "v1")
        .await
        .expect("push");
    let image = registry.reference("app", "v1");

    ok(
        &signet(d, &["generate-key-pair", "--output-key-prefix", "signet"]),
        "generate-key-pair",
    );
    let key = std::fs::read_to_string(d.join("signet.key")).expect("key");
    assert!(
        key.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"),
        "{key}"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(d.join("signet.key"))
            .expect("meta")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "private key is owner-only");
    assert!(
        !signet(d, &["generate-key-pair", "--output-key-prefix", "signet"])
            .status
            .success(),
        "never overwrites"
    );

    // signet signs with its own key; cosign verifies, annotations included.
    let out = signet(
        d,
        &[
            "sign",
            "--key",
            "signet.key",
            "-a",
            "team=payments",
            "--allow-http-registry",
            &image,
        ],
    );
    assert_eq!(ok(&out, "signet sign").trim(), digest);
    let v = cosign
        .verify(
            &registry,
            &d.join("signet.pub"),
            &image,
            &["--insecure-ignore-tlog", "-a", "team=payments"],
        )
        .expect("cosign verify");
    ensure_success(&v, "cosign verify of a signet signature").expect("cosign accepts it");

    // cosign signs with signet's key: cosign reads signet's encrypted key format.
    let (_, other) = (
        push_random_image(&registry, "app", "v2")
            .await
            .expect("push"),
        registry.reference("app", "v2"),
    );
    let s = cosign
        .sign(&registry, &d.join("signet.key"), PASSWORD, &other, &[])
        .expect("cosign sign");
    ensure_success(&s, "cosign sign with a signet key").expect("cosign reads signet keys");
    let out = signet(
        d,
        &[
            "verify",
            "--key",
            "signet.pub",
            "--insecure-ignore-tlog",
            "--allow-http-registry",
            &other,
        ],
    );
    ok(&out, "signet verify of a cosign signature");

    // signet signs with cosign's key.
    std::fs::create_dir_all(d.join("c")).expect("dir");
    let (ckey, cpub) = cosign
        .generate_key_pair(&d.join("c"), PASSWORD)
        .expect("cosign keys");
    let out = signet(
        d,
        &[
            "sign",
            "--key",
            &ckey.display().to_string(),
            "--allow-http-registry",
            &other,
        ],
    );
    ok(&out, "signet sign with a cosign key");
    let v = cosign
        .verify(&registry, &cpub, &other, &["--insecure-ignore-tlog"])
        .expect("cosign verify");
    ensure_success(&v, "cosign verify").expect("cosign accepts it");

    // A wrong password is an error, not a crash.
    let out = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args([
            "sign",
            "--key",
            "signet.key",
            "--allow-http-registry",
            &image,
        ])
        .current_dir(d)
        .env("COSIGN_PASSWORD", "wrong")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn signet_attestations_verify_in_cosign() {
    let registry = Registry::start().await.expect("registry");
    let cosign = Cosign::find().expect("cosign");
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    push_random_image(&registry, "app", "v1")
        .await
        .expect("push");
    let image = registry.reference("app", "v1");
    ok(&signet(d, &["generate-key-pair"]), "generate-key-pair");
    let predicates = [
        (
            "slsaprovenance",
            r#"{"builder":{"id":"https://example.com/builder"},"buildType":"https://example.com/type"}"#,
        ),
        (
            "vuln",
            r#"{"scanner":{"uri":"pkg:trivy","version":"1","result":{"vulnerabilities":[]}}}"#,
        ),
        ("custom", r#"{"anything":"goes"}"#),
        (
            "cyclonedx",
            r#"{"bomFormat":"CycloneDX","specVersion":"1.4"}"#,
        ),
    ];
    for (type_name, predicate) in predicates {
        std::fs::write(d.join("p.json"), predicate).expect("write");
        let out = signet(
            d,
            &[
                "attest",
                "--key",
                "cosign.key",
                "--type",
                type_name,
                "--predicate",
                "p.json",
                "--allow-http-registry",
                &image,
            ],
        );
        ok(&out, &format!("signet attest --type {type_name}"));
        let v = cosign
            .verify_attestation(&registry, &d.join("cosign.pub"), type_name, &image)
            .expect("cosign verify-attestation");
        ensure_success(&v, &format!("cosign verify-attestation --type {type_name}"))
            .expect("cosign accepts it");
    }
    let out = signet(
        d,
        &[
            "attest",
            "--key",
            "cosign.key",
            "--type",
            "nonsense",
            "--predicate",
            "p.json",
            "--allow-http-registry",
            &image,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown --type"));
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_with_seed_policies_exit_codes_and_json() {
    let registry = Registry::start().await.expect("registry");
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    ok(&signet(d, &["generate-key-pair"]), "generate-key-pair");
    push_random_image(&registry, "team/app", "signed")
        .await
        .expect("push");
    push_random_image(&registry, "team/app", "unsigned")
        .await
        .expect("push");
    let signed = registry.reference("team/app", "signed");
    let unsigned = registry.reference("team/app", "unsigned");
    ok(
        &signet(
            d,
            &[
                "sign",
                "--key",
                "cosign.key",
                "--allow-http-registry",
                &signed,
            ],
        ),
        "sign",
    );

    // The seed guide's conditional-verification policy, with tlog checks waived because
    // this signature was never logged.
    let seed =
        std::fs::read_to_string(testdata("policies/conditional-verification.yaml")).expect("seed");
    let policy = seed.replace(
        "                      namespace: kyverno",
        "                      namespace: kyverno\n                    rekor: {url: \"https://rekor.sigstore.dev\", ignoreTlog: true}",
    );
    std::fs::write(d.join("policy.yaml"), policy).expect("write");
    let base = [
        "verify",
        "--policy",
        "policy.yaml",
        "--secret",
        "kyverno/cosign-pub-key=cosign.pub",
        "--allow-http-registry",
    ];
    let run = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
        signet(d, &args)
    };
    let out = run(&["--namespace-label", "environment=production", &signed]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run(&[
        "--namespace-label",
        "environment=production",
        "-o",
        "json",
        &signed,
        &unsigned,
    ]);
    assert_eq!(out.status.code(), Some(1), "unsigned denied in production");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    assert_eq!(doc["allowed"], false);
    let results: Vec<&str> = doc["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .map(|v| v["result"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(results, ["pass", "fail"]);
    assert_eq!(doc["verdicts"][1]["rule"], "require-signatures-production");
    let out = run(&["--namespace-label", "environment=development", &unsigned]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "development admits unsigned images"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("SKIP"));

    // An unreachable registry cannot be decided: exit 2.
    let out = run(&[
        "--namespace-label",
        "environment=production",
        "127.0.0.1:1/app:v1",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn testdata(rel: &str) -> std::path::PathBuf {
    std::env::var_os("SIGNET_TESTDATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
        })
        .join(rel)
}
