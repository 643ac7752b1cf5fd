//! The keyless policies of the seed guide and of Kyverno's policy library, verbatim but
//! for the local registry, decide images signed by this private instance (its CA, Rekor
//! and CT log keys form the verifier's trust root, as a named private root would): pass
//! for the identity they name, fail for another.

use std::collections::BTreeMap;

use serde_json::json;
use signet_policy::Policy;
use signet_verify::{pod_request, VerdictResult};

use crate::fixture::{Fixture, Log};
use crate::pki::LeafSpec;
use crate::support::*;

fn testdata(dir: &str, file: &str, replace: &[(&str, &str)]) -> Policy {
    let path = std::env::var_os("SIGNET_TESTDATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
        })
        .join(dir)
        .join(file);
    let mut text = std::fs::read_to_string(&path).expect("testdata policy");
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    policy(&text)
}

const EVIL: &str = "https://github.com/evil/workflows/.github/workflows/x.yml@refs/heads/main";

#[tokio::test(flavor = "multi_thread")]
async fn keyless_signature_policies_decide_by_identity() {
    let f = Fixture::new().await;
    let host = f.env.host();
    let verifier = f.private_verifier();
    let good = f.leaf(
        "good",
        &LeafSpec::github(
            "https://github.com/company/workflows/.github/workflows/release.yml@refs/tags/v1",
        ),
        true,
    );
    let evil = f.leaf("evil", &LeafSpec::github(EVIL), true);
    let (signed, _) = f
        .signed_image("app", "signed", &good, Log::SecondsAgo(60))
        .await;
    let (intruded, _) = f
        .signed_image("app", "intruded", &evil, Log::SecondsAgo(60))
        .await;

    // The seed guide's verify-keyless, through a whole admission decision.
    let p = testdata(
        "policies",
        "verify-keyless.yaml",
        &[("registry.example.com", &host)],
    );
    let request = pod_request("default", std::slice::from_ref(&signed));
    let decision = verifier
        .review(std::slice::from_ref(&p), &request, &BTreeMap::new())
        .await
        .expect("review");
    assert!(decision.allowed, "{:?}", decision.message);
    let request = pod_request("default", &[signed.clone(), intruded.clone()]);
    let decision = verifier
        .review(std::slice::from_ref(&p), &request, &BTreeMap::new())
        .await
        .expect("review");
    assert!(!decision.allowed, "another identity is denied");
    let message = decision.message.expect("message");
    assert!(
        message.contains(&intruded) && message.contains("does not match subject"),
        "{message}"
    );

    // Kyverno's verify-flux-images with Flux's own identity.
    let flux = f.leaf("flux", &LeafSpec::github("https://github.com/fluxcd/source-controller/.github/workflows/release.yml@refs/tags/v1.4.1"), true);
    let (flux_image, _) = f
        .signed_image(
            "fluxcd/source-controller",
            "v1.4.1",
            &flux,
            Log::SecondsAgo(60),
        )
        .await;
    let (fake_flux, _) = f
        .signed_image(
            "fluxcd/source-controller",
            "fake",
            &evil,
            Log::SecondsAgo(60),
        )
        .await;
    let p = testdata(
        "kyverno-policies",
        "verify-flux-images.yaml",
        &[("ghcr.io/fluxcd", &format!("{host}/fluxcd"))],
    );
    let v = verify(&verifier, first_entry(&p), &flux_image).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    let v = verify(&verifier, first_entry(&p), &fake_flux).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);

    // The same policies under the public-good root do not trust the private CA.
    let public = signet_verify::Verifier::new(
        f.env.client(),
        std::sync::Arc::new(signet_verify::StaticKeys::new()),
        signet_verify::trust::TrustRoot::public_good().expect("root"),
    );
    let v = verify(&public, first_entry(&p), &flux_image).await;
    assert_eq!(v.result, VerdictResult::Fail, "{}", v.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn keyless_attestation_policies_decide_by_identity_and_predicate() {
    let f = Fixture::new().await;
    let host = f.env.host();
    let evil = f.leaf("evil", &LeafSpec::github(EVIL), true);

    // verify-image-slsa: the SLSA generator's identity, a tagged builder.
    let generator = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v1.4.0";
    let slsa = f.leaf("slsa", &LeafSpec::github(generator), true);
    let provenance = json!({"builder": {"id": generator}, "buildType": "https://github.com/slsa-framework/slsa-github-generator/container@v1"});
    let p = testdata(
        "kyverno-policies",
        "verify-image-slsa.yaml",
        &[("myreg.org", &host)],
    );
    let (_, good) = f.env.image("path/repo", "good").await;
    f.attest(
        "path/repo",
        &good,
        &slsa,
        "slsaprovenance",
        &provenance,
        Log::SecondsAgo(60),
    )
    .await;
    let (_, bad) = f.env.image("path/repo", "bad").await;
    f.attest(
        "path/repo",
        &bad,
        &evil,
        "slsaprovenance",
        &provenance,
        Log::SecondsAgo(60),
    )
    .await;
    decide(&f, &p, "path/repo", &good, &bad).await;

    // verify-sbom-cyclonedx: subject "mysubject".
    let sbom_signer = crate::pki::LeafSpec {
        san: "URI:mysubject".into(),
        ..LeafSpec::github(generator)
    };
    let sbom_leaf = f.leaf("sbom", &sbom_signer, true);
    let sbom = json!({"Data": {"bomFormat": "CycloneDX", "specVersion": "1.4"}});
    let p = testdata(
        "kyverno-policies",
        "verify-sbom-cyclonedx.yaml",
        &[("myreg.org", &host)],
    );
    let (_, good) = f.env.image("path/repo", "sbom-good").await;
    f.attest(
        "path/repo",
        &good,
        &sbom_leaf,
        "https://cyclonedx.org/schema",
        &sbom,
        Log::SecondsAgo(60),
    )
    .await;
    let (_, bad) = f.env.image("path/repo", "sbom-bad").await;
    f.attest(
        "path/repo",
        &bad,
        &evil,
        "https://cyclonedx.org/schema",
        &sbom,
        Log::SecondsAgo(60),
    )
    .await;
    decide(&f, &p, "path/repo", &good, &bad).await;

    // require-vulnerability-scan: the old cosign vuln type, a scan younger than a week.
    let workflow = "https://github.com/myorg/myrepo/.github/workflows/scan.yml@refs/heads/main";
    let scanner = f.leaf("scanner", &LeafSpec::github(workflow), true);
    let finished = (chrono::Utc::now() - chrono::Duration::hours(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let scan = json!({"scanner": {"uri": "pkg:trivy", "version": "0.45"}, "metadata": {"scanStartedOn": finished, "scanFinishedOn": finished}});
    let vuln = "cosign.sigstore.dev/attestation/vuln/v1";
    let p = testdata(
        "kyverno-policies",
        "require-vulnerability-scan.yaml",
        &[("ghcr.io", &host)],
    );
    let (_, good) = f.env.image("myorg/myrepo", "scanned").await;
    f.attest_with_signet(
        "myorg/myrepo",
        &good,
        &scanner,
        "vuln",
        vuln,
        &scan,
        Log::SecondsAgo(60),
    )
    .await;
    let (_, bad) = f.env.image("myorg/myrepo", "scanned-elsewhere").await;
    f.attest_with_signet(
        "myorg/myrepo",
        &bad,
        &evil,
        "vuln",
        vuln,
        &scan,
        Log::SecondsAgo(60),
    )
    .await;
    decide(&f, &p, "myorg/myrepo", &good, &bad).await;
}

/// `good` passes `p`, `bad` (attested by another identity) fails it.
async fn decide(f: &Fixture, p: &Policy, repository: &str, good: &str, bad: &str) {
    let verifier = f.private_verifier();
    let name = &p.name;
    let v = verify(
        &verifier,
        first_entry(p),
        &f.env.by_digest(repository, good),
    )
    .await;
    assert_eq!(v.result, VerdictResult::Pass, "{name}: {}", v.message);
    let v = verify(&verifier, first_entry(p), &f.env.by_digest(repository, bad)).await;
    assert_eq!(v.result, VerdictResult::Fail, "{name}: {}", v.message);
    assert!(
        v.message.contains("another identity"),
        "{name}: {}",
        v.message
    );
}
