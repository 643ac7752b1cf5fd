//! The README's walkthrough, end to end across real processes: a real registry, cosign,
//! Postgres (a fresh database), Redis, `signet-verifier`, two `signet-relay`s (HTTPS with
//! a test CA) and the `signet` CLI. The seed guide's scenarios go through real
//! AdmissionReview requests to the relay:
//!
//! - Enforce: an unsigned image is denied; once signed with cosign it is admitted, and
//!   `/mutate` pins its tag to the digest (`mutateDigest`);
//! - a Deployment's pod template is verified (denied unsigned, admitted and pinned signed);
//! - Audit admits an unsigned image and records the failure;
//! - several registries: company and vendor keys, `required: false` for public images;
//! - `namespaceSelector`: environment=production requires signatures, environment=development
//!   admits unsigned images;
//! - attestations: SLSA provenance builder id, vulnerability scan with zero CRITICAL, each
//!   admitting and denying;
//! - the decisions appear in `/v1/reports`, `signet reports` and the PolicyReport export;
//! - with the verifier stopped, a relay whose failure policy is Fail denies with a clear
//!   message, one with Ignore admits with a warning.

mod support;

use std::path::Path;

use serde_json::{json, Value};
use signet_testkit::{ensure_success, push_random_image, Cosign, Registry};
use support::*;

const PASSWORD: &str = "e2e-password";
const CLUSTER: &str = "e2e-cluster";

async fn push(registry: &Registry, repository: &str, tag: &str) -> (String, String) {
    let digest = push_random_image(registry, repository, tag)
        .await
        .unwrap_or_else(|e| panic!("pushing {repository}:{tag}: {e:#}"));
    (registry.reference(repository, tag), digest)
}

fn sign(cosign: &Cosign, registry: &Registry, key: &Path, image: &str) {
    let out = cosign
        .sign(registry, key, PASSWORD, image, &[])
        .expect("run cosign sign");
    ensure_success(&out, &format!("cosign sign {image}")).expect("signed");
}

fn attest(
    cosign: &Cosign,
    registry: &Registry,
    key: &Path,
    kind: &str,
    predicate: &Value,
    dir: &Path,
    image: &str,
) {
    let file = dir.join(format!(
        "predicate-{}.json",
        image.replace(['/', ':', '@'], "_")
    ));
    std::fs::write(&file, serde_json::to_vec(predicate).expect("json")).expect("write");
    let out = cosign
        .attest(registry, key, PASSWORD, kind, &file, image)
        .expect("run cosign attest");
    ensure_success(&out, &format!("cosign attest {image}")).expect("attested");
}

fn slsa_predicate(builder: &str) -> Value {
    json!({
        "builder": {"id": builder},
        "buildType": "https://github.com/slsa-framework/slsa-github-generator/container@v1",
        "invocation": {
            "configSource": {
                "uri": "git+https://github.com/company/app@refs/heads/main",
                "digest": {"sha1": "1111111111111111111111111111111111111111"},
                "entryPoint": ".github/workflows/release.yml",
            },
        },
        "metadata": {"buildInvocationID": "e2e", "completeness": {"parameters": true}},
    })
}

fn scan_predicate(criticals: usize) -> Value {
    let mut vulnerabilities = vec![json!({"id": "CVE-2024-0001", "severity": "LOW"})];
    for i in 0..criticals {
        vulnerabilities.push(json!({"id": format!("CVE-2024-10{i:02}"), "severity": "CRITICAL"}));
    }
    json!({
        "invocation": {"uri": "", "event_id": "", "builder.id": ""},
        "scanner": {
            "vendor": "Trivy",
            "uri": "pkg:github/aquasecurity/trivy@0.50.0",
            "version": "0.50.0",
            "result": {"vulnerabilities": vulnerabilities},
        },
        "metadata": {
            "scanStartedOn": "2026-11-27T05:00:00Z",
            "scanFinishedOn": "2026-11-27T05:01:00Z",
        },
    })
}

/// `curl -sS --fail-with-body ARGS…`, returning stdout.
fn curl(args: &[&str]) -> String {
    let out = std::process::Command::new("curl")
        .args(["-sS", "--fail-with-body", "--noproxy", "*"])
        .args(args)
        .output()
        .expect("running curl");
    ensure_success(&out, &format!("curl {args:?}")).expect("curl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn walkthrough_through_the_relay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let cosign = Cosign::find().expect("cosign (scripts/install-test-tools.sh)");
    let registry = Registry::start().await.expect("registry");
    let host = registry.host();
    let database = Database::create().expect("a fresh Postgres database");

    // 1. Generate keys (cosign, as the guide does): the company key, and a vendor's.
    let keys = dir.join("keys");
    let vendor_keys = dir.join("vendor");
    std::fs::create_dir_all(&keys).expect("mkdir");
    std::fs::create_dir_all(&vendor_keys).expect("mkdir");
    let (key, public) = cosign.generate_key_pair(&keys, PASSWORD).expect("keys");
    let (vendor_key, vendor_public) = cosign
        .generate_key_pair(&vendor_keys, PASSWORD)
        .expect("vendor keys");

    // 2. Run the verifier; log in; store the keys under the names the policies use.
    let mut verifier = Verifier::start(dir, &database.url)
        .await
        .expect("signet-verifier");
    let cli = Cli {
        home: dir.join("home"),
        cwd: keys.clone(),
    };
    cli.ok(&[
        "login",
        "--server",
        &verifier.url,
        "--token",
        &verifier.admin_token,
    ])
    .await;
    for (name, file) in [
        ("cosign-pub-key", &public),
        ("company-cosign-key", &public),
        ("vendor-cosign-key", &vendor_public),
    ] {
        cli.ok(&[
            "key",
            "create",
            name,
            "-n",
            "kyverno",
            "--from-file",
            &file.display().to_string(),
        ])
        .await;
    }

    // 3. Apply the seed guide's policies, pointed at the test registry.
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).expect("mkdir");
    let example = "registry.example.com";
    let applied = [
        seed_policy(
            &policies,
            "verify-with-secret-key.yaml",
            &[(example, format!("{host}/enforce"))],
            |_| {},
        ),
        seed_policy(
            &policies,
            "verify-with-secret-key.yaml",
            &[(example, format!("{host}/audit"))],
            |p| {
                p["metadata"]["name"] = json!("audit-image-signatures");
                p["spec"]["validationFailureAction"] = json!("Audit");
            },
        ),
        seed_policy(
            &policies,
            "verify-all-registries.yaml",
            &[
                ("registry.company.com", format!("{host}/company")),
                ("vendor-registry.io", format!("{host}/vendor")),
                ("docker.io/library", format!("{host}/library")),
            ],
            |_| {},
        ),
        seed_policy(&policies, "conditional-verification.yaml", &[], |_| {}),
        seed_policy(
            &policies,
            "verify-attestations.yaml",
            &[(example, format!("{host}/slsa"))],
            |_| {},
        ),
        seed_policy(
            &policies,
            "verify-scan-results.yaml",
            &[(example, format!("{host}/scan"))],
            |_| {},
        ),
    ];
    for file in &applied {
        let out = cli
            .ok(&["policy", "apply", "-f", &file.display().to_string()])
            .await;
        assert!(out.contains("created"), "{out}");
    }
    let listed = cli.ok(&["policy", "list"]).await;
    for name in [
        "verify-with-secret-key",
        "audit-image-signatures",
        "verify-all-registries",
        "conditional-verification",
        "verify-attestations",
        "verify-scan-results",
    ] {
        assert!(listed.contains(name), "{name} in {listed}");
    }

    // 4. Register the cluster; its token (last line) goes to the relay.
    let registered = cli
        .ok(&["cluster", "register", CLUSTER, "--label", "env=e2e"])
        .await;
    let token = registered.lines().last().unwrap_or_default().trim();
    assert_eq!(token.split('.').count(), 3, "a JWT last: {registered}");
    let token_file = dir.join("relay-token");
    std::fs::write(&token_file, token).expect("token file");

    // 5. Run the relay (Fail) and a second one (Ignore, used when the verifier is gone).
    let labels = dir.join("namespace-labels.yaml");
    std::fs::write(
        &labels,
        "production:\n  environment: production\ndevelopment:\n  environment: development\n",
    )
    .expect("labels");
    let pki = Pki::generate(dir).expect("relay certificate");
    let relay = Relay::start(
        "relay-fail",
        dir,
        &pki,
        &verifier.grpc_url,
        &token_file,
        &labels,
        "fail",
    )
    .await
    .expect("signet-relay");
    let relay_ignore = Relay::start(
        "relay-ignore",
        dir,
        &pki,
        &verifier.grpc_url,
        &token_file,
        &labels,
        "ignore",
    )
    .await
    .expect("second signet-relay");

    // 6. Unsigned → denied; sign → admitted; /mutate pins the tag.
    let (app, app_digest) = push(&registry, "enforce/app", "v1.0.0").await;
    // As the README does it: curl with the relay's CA.
    let ca = dir.join("ca.crt");
    std::fs::write(&ca, &pki.ca_pem).expect("ca");
    let review_file = dir.join("pod-review.json");
    let review = pod_review("default", "test-unsigned", &[&app]);
    std::fs::write(&review_file, review.to_string()).expect("review");
    let answer = curl(&[
        "--cacert",
        &ca.display().to_string(),
        "-H",
        "Content-Type: application/json",
        "--data",
        &format!("@{}", review_file.display()),
        &format!("{}/validate", relay.url),
    ]);
    let answer: Value = serde_json::from_str(&answer).expect("an AdmissionReview");
    assert_eq!(answer["response"]["uid"], review["request"]["uid"]);
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    let denied = relay
        .review(
            "/validate",
            &pod_review("default", "test-unsigned", &[&app]),
        )
        .await;
    assert_eq!(denied["allowed"], false, "{denied}");
    let message = message_of(&denied);
    assert!(
        message.contains("verify-with-secret-key") && message.contains(&app),
        "the denial names the policy and the image: {message}"
    );
    let denied_again = relay
        .review("/validate", &pod_review("default", "again", &[&app]))
        .await;
    assert_eq!(denied_again["allowed"], false);

    sign(
        &cosign,
        &registry,
        &key,
        &registry.reference("enforce/app", &app_digest),
    );
    let out = cosign
        .verify(&registry, &public, &app, &[])
        .expect("cosign verify");
    ensure_success(&out, "cosign verify").expect("cosign agrees");
    let verify = cli
        .run(&[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--allow-http-registry",
            &app,
        ])
        .await;
    assert_eq!(verify.status.code(), Some(0), "{verify:?}");

    let admitted = relay
        .review("/validate", &pod_review("default", "test-signed", &[&app]))
        .await;
    assert_eq!(admitted["allowed"], true, "{admitted}");
    assert!(patch_of(&admitted).is_empty(), "/validate never patches");
    // The README's second curl: the same review file, now on /mutate.
    let mutated = curl(&[
        "--cacert",
        &ca.display().to_string(),
        "-H",
        "Content-Type: application/json",
        "--data",
        &format!("@{}", review_file.display()),
        &format!("{}/mutate", relay.url),
    ]);
    let mutated: Value = serde_json::from_str(&mutated).expect("an AdmissionReview");
    let mutated = mutated["response"].clone();
    assert_eq!(mutated["allowed"], true, "{mutated}");
    let patch = patch_of(&mutated);
    let pin = patch
        .iter()
        .find(|op| op["path"] == "/spec/containers/0/image")
        .unwrap_or_else(|| panic!("a patch pinning the image: {patch:?}"));
    assert_eq!(pin["op"], "replace");
    let pinned = pin["value"].as_str().expect("image");
    assert!(
        pinned.starts_with(&format!("{host}/enforce/app")) && pinned.ends_with(&app_digest),
        "{pinned}"
    );

    // 7. A Deployment's pod template.
    let (unsigned, _) = push(&registry, "enforce/unsigned", "v1").await;
    let denied = relay
        .review(
            "/validate",
            &deployment_review("default", "web-unsigned", &[&unsigned]),
        )
        .await;
    assert_eq!(denied["allowed"], false, "{denied}");
    let mutated = relay
        .review("/mutate", &deployment_review("default", "web", &[&app]))
        .await;
    assert_eq!(mutated["allowed"], true, "{mutated}");
    let patch = patch_of(&mutated);
    assert!(
        patch
            .iter()
            .any(|op| op["path"] == "/spec/template/spec/containers/0/image"
                && op["value"]
                    .as_str()
                    .is_some_and(|v| v.ends_with(&app_digest))),
        "{patch:?}"
    );

    // 8. Audit admits and records the failure.
    let (audited, _) = push(&registry, "audit/app", "v1").await;
    let answer = relay
        .review("/validate", &pod_review("default", "audited", &[&audited]))
        .await;
    assert_eq!(answer["allowed"], true, "{answer}");

    // 9. Several registries; public images need no signature.
    let (public_image, _) = push(&registry, "library/nginx", "1.27").await;
    let (company, company_digest) = push(&registry, "company/api", "v2").await;
    let (vendor, vendor_digest) = push(&registry, "vendor/agent", "v3").await;
    let (vendor_wrong, wrong_digest) = push(&registry, "vendor/other", "v3").await;
    sign(
        &cosign,
        &registry,
        &key,
        &registry.reference("company/api", &company_digest),
    );
    sign(
        &cosign,
        &registry,
        &vendor_key,
        &registry.reference("vendor/agent", &vendor_digest),
    );
    sign(
        &cosign,
        &registry,
        &key,
        &registry.reference("vendor/other", &wrong_digest),
    );
    let answer = relay
        .review(
            "/validate",
            &pod_review("default", "mixed", &[&public_image, &company, &vendor]),
        )
        .await;
    assert_eq!(answer["allowed"], true, "{answer}");
    let answer = relay
        .review(
            "/validate",
            &pod_review("default", "wrong-key", &[&vendor_wrong]),
        )
        .await;
    assert_eq!(
        answer["allowed"], false,
        "the company key does not sign for the vendor: {answer}"
    );

    // 10. namespaceSelector: production requires signatures, development does not.
    let (cond_unsigned, _) = push(&registry, "cond/unsigned", "v1").await;
    let (cond_signed, cond_digest) = push(&registry, "cond/signed", "v1").await;
    sign(
        &cosign,
        &registry,
        &key,
        &registry.reference("cond/signed", &cond_digest),
    );
    let answer = relay
        .review(
            "/validate",
            &pod_review("production", "p1", &[&cond_unsigned]),
        )
        .await;
    assert_eq!(answer["allowed"], false, "production: {answer}");
    let answer = relay
        .review(
            "/validate",
            &pod_review("production", "p2", &[&cond_signed]),
        )
        .await;
    assert_eq!(answer["allowed"], true, "production signed: {answer}");
    let answer = relay
        .review(
            "/validate",
            &pod_review("development", "d1", &[&cond_unsigned]),
        )
        .await;
    assert_eq!(answer["allowed"], true, "development: {answer}");

    // 11. Attestations: SLSA builder id, vulnerability scan.
    let trusted = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v1.4.0";
    let (slsa_good, d) = push(&registry, "slsa/good", "v1").await;
    attest(
        &cosign,
        &registry,
        &key,
        "slsaprovenance",
        &slsa_predicate(trusted),
        dir,
        &registry.reference("slsa/good", &d),
    );
    let (slsa_bad, d) = push(&registry, "slsa/bad", "v1").await;
    attest(
        &cosign,
        &registry,
        &key,
        "slsaprovenance",
        &slsa_predicate("https://ci.example.com/untrusted-builder"),
        dir,
        &registry.reference("slsa/bad", &d),
    );
    let vuln = "https://cosign.sigstore.dev/attestation/vuln/v1";
    let (scan_clean, d) = push(&registry, "scan/clean", "v1").await;
    attest(
        &cosign,
        &registry,
        &key,
        vuln,
        &scan_predicate(0),
        dir,
        &registry.reference("scan/clean", &d),
    );
    let (scan_critical, d) = push(&registry, "scan/critical", "v1").await;
    attest(
        &cosign,
        &registry,
        &key,
        vuln,
        &scan_predicate(2),
        dir,
        &registry.reference("scan/critical", &d),
    );
    for (image, allowed) in [
        (&slsa_good, true),
        (&slsa_bad, false),
        (&scan_clean, true),
        (&scan_critical, false),
    ] {
        let answer = relay
            .review("/validate", &pod_review("default", "attested", &[image]))
            .await;
        assert_eq!(answer["allowed"], allowed, "{image}: {answer}");
    }

    // 12. Reports: REST, the CLI, and the PolicyReport export.
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let page: Value = http
        .get(format!(
            "{}/v1/reports?cluster={CLUSTER}&limit=500",
            verifier.url
        ))
        .bearer_auth(&verifier.admin_token)
        .send()
        .await
        .expect("GET /v1/reports")
        .json()
        .await
        .expect("json");
    let items = page["items"].as_array().expect("items");
    let has = |policy: &str, image: &str, result: &str| {
        items.iter().any(|d| {
            d["policy"] == policy
                && d["result"] == result
                && d["image"].as_str().is_some_and(|i| i.starts_with(image))
        })
    };
    assert!(has("verify-with-secret-key", &unsigned, "fail"), "{page}");
    assert!(has("verify-with-secret-key", &app, "pass"), "{page}");
    assert!(has("audit-image-signatures", &audited, "fail"), "{page}");
    assert!(items
        .iter()
        .any(|d| d["policy"] == "audit-image-signatures" && d["action"] == "audit"));
    assert!(
        has("conditional-verification", &cond_unsigned, "fail"),
        "{page}"
    );
    assert!(has("verify-scan-results", &scan_critical, "fail"), "{page}");
    assert!(items.iter().all(|d| d["cluster"] == CLUSTER));

    let json_out = cli
        .ok(&[
            "reports",
            "--cluster",
            CLUSTER,
            "--result",
            "fail",
            "-o",
            "json",
        ])
        .await;
    let failures: Value = serde_json::from_str(&json_out).expect("reports as JSON");
    let failures = failures
        .as_array()
        .or_else(|| failures["items"].as_array())
        .expect("a list of decisions")
        .clone();
    assert!(!failures.is_empty());
    assert!(failures.iter().all(|d| d["result"] == "fail"), "{json_out}");
    let table = cli
        .ok(&[
            "reports",
            "--cluster",
            CLUSTER,
            "--policy",
            "audit-image-signatures",
        ])
        .await;
    assert!(table.contains("audit/app"), "{table}");

    let reports = curl(&[
        "-H",
        &format!("Authorization: Bearer {}", verifier.admin_token),
        &format!("{}/v1/clusters/{CLUSTER}/policyreports", verifier.url),
    ]);
    let reports: Value = serde_json::from_str(&reports).expect("PolicyReports as JSON");
    let reports = reports.as_array().expect("PolicyReports");
    assert!(!reports.is_empty());
    assert!(reports
        .iter()
        .all(|r| r["apiVersion"] == "wgpolicyk8s.io/v1alpha2" && r["kind"] == "PolicyReport"));
    // One report per resource, as Kyverno writes them: its scope names the resource.
    let in_default: Vec<&Value> = reports
        .iter()
        .filter(|r| r["metadata"]["namespace"] == "default")
        .collect();
    assert!(
        in_default
            .iter()
            .all(|r| r["scope"]["namespace"] == "default" && r["scope"]["kind"].is_string()),
        "{reports:?}"
    );
    let total = |status: &str| -> u64 {
        in_default
            .iter()
            .filter_map(|r| r["summary"][status].as_u64())
            .sum()
    };
    assert!(total("fail") > 0, "{in_default:?}");
    assert!(total("pass") > 0, "{in_default:?}");

    // 13. The verifier stops: Fail denies with a clear message, Ignore admits with a warning.
    verifier.process.stop();
    let review = pod_review("default", "while-down", &[&app]);
    let answer = relay.review("/validate", &review).await;
    assert_eq!(answer["allowed"], false, "{answer}");
    let message = message_of(&answer);
    assert!(
        message.contains("unreachable") && message.contains("Fail"),
        "a clear message: {message}"
    );
    let answer = relay_ignore.review("/validate", &review).await;
    assert_eq!(answer["allowed"], true, "{answer}");
    assert!(
        warnings_of(&answer).contains("unreachable"),
        "a warning: {answer}"
    );
    drop(relay);
    drop(relay_ignore);
    drop(verifier);
    drop(database);
}
