//! `imageRegistryCredentials.allowInsecureRegistry`: a rule that sets it reaches a
//! plain-HTTP registry (as Kyverno does through go-containerregistry's `name.Insecure`),
//! a rule that does not is refused by a verifier configured for HTTPS only, and no cache
//! hands what one read to the other. Real registry, real cosign signatures.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use signet_policy::image::ImageRef;
use signet_policy::matching::AdmissionRequest;
use signet_verify::cache::CacheConfig;
use signet_verify::registry::{RegistryClient, RegistryConfig, Transport};
use signet_verify::trust::TrustRoot;
use signet_verify::{ArtifactCache, StaticKeys, VerdictResult, Verifier};
use support::*;

/// A verifier reaching registries over `transport`, with verdict and tag
/// caches (so that a cached answer given to one rule would show in the other's verdict).
fn verifier_with(transport: Transport) -> Verifier {
    let client = RegistryClient::new(RegistryConfig {
        default_transport: transport,
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        max_retries: 1,
        initial_backoff: Duration::from_millis(10),
        ..RegistryConfig::default()
    })
    .expect("registry client");
    Verifier::new(client, Arc::new(StaticKeys::new()), TrustRoot::default())
        .with_cache(CacheConfig::default())
}

/// A policy named `name` whose one entry checks `pem` on the registry's images, allowing
/// an insecure registry when `insecure`.
fn policy_text(name: &str, host: &str, pem: &str, insecure: bool) -> String {
    let credentials = if insecure {
        "          imageRegistryCredentials:\n            allowInsecureRegistry: true\n"
    } else {
        ""
    };
    cluster_policy(&format!(
        "        - imageReferences: [\"{host}/*\"]
{credentials}          attestors:
            - entries:
{}",
        key_attestor(pem)
    ))
    .replace("  name: test\n", &format!("  name: {name}\n"))
}

/// A CREATE of a Pod in namespace `team` running `image`.
fn pod(image: &str) -> AdmissionRequest {
    signet_verify::pod_request("team", &[image.to_owned()])
}

fn sig_fetches(env: &Env) -> usize {
    env.registry
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(".sig"))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_rule_allowing_an_insecure_registry_reaches_a_plain_http_one() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (tagged, digest) = env.image("app", "v1").await;
    let by_digest = env.by_digest("app", &digest);
    env.cosign_sign(&signer, &by_digest, &[]);
    let pem = signer.public_pem();
    let strict = policy(&policy_text("strict", &env.host(), &pem, false));
    let insecure = policy(&policy_text("insecure", &env.host(), &pem, true));
    let verifier = verifier_with(Transport::Https);

    // Without the flag, a verifier configured for HTTPS does not fall back to HTTP.
    let v = verify(&verifier, first_entry(&strict), &tagged).await;
    assert_eq!(v.result, VerdictResult::Error, "{}", v.message);
    assert!(
        v.message
            .starts_with(&format!("cannot resolve {tagged} to a digest")),
        "{}",
        v.message
    );
    assert!(v.message.contains("TLS handshake failed"), "{}", v.message);

    // With it, the same verifier reads the tag and the cosign signature over HTTP.
    let v = verify(&verifier, first_entry(&insecure), &tagged).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    assert_eq!(v.digest.as_deref(), Some(digest.as_str()));
    assert_eq!(v.attestors_satisfied, ["attestors[0].entries[0].keys"]);
    assert_eq!(v.pinned, Some(format!("{tagged}@{digest}")));

    // The tag resolved and the verdict cached for the insecure rule are not the strict
    // rule's: by tag it still cannot resolve, by digest it still cannot read signatures.
    let v = verify(&verifier, first_entry(&strict), &tagged).await;
    assert_eq!(v.result, VerdictResult::Error, "{}", v.message);
    assert!(
        v.message
            .starts_with(&format!("cannot resolve {tagged} to a digest")),
        "{}",
        v.message
    );
    let v = verify(&verifier, first_entry(&insecure), &by_digest).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    let v = verify(&verifier, first_entry(&strict), &by_digest).await;
    assert_eq!(v.result, VerdictResult::Error, "{}", v.message);
    assert!(
        v.message.starts_with(&format!("cannot verify {by_digest}")),
        "{}",
        v.message
    );

    // In one decision (one artifact cache) of a fresh verifier, the insecure rule passes
    // and the strict one denies: signatures fetched for one are not handed to the other.
    let decision = verifier_with(Transport::Https)
        .review(&[&insecure, &strict], &pod(&by_digest), &BTreeMap::new())
        .await
        .expect("review");
    let results: Vec<_> = decision
        .verdicts
        .iter()
        .map(|v| (v.policy.as_str(), v.result))
        .collect();
    assert_eq!(
        results,
        [
            ("insecure", VerdictResult::Pass),
            ("strict", VerdictResult::Error)
        ]
    );
    assert!(!decision.allowed);
    let message = decision.message.unwrap_or_default();
    assert!(
        message.starts_with("policy strict, rule verify: cannot verify"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_reaching_a_registry_the_same_way_share_one_fetch() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (_, digest) = env.image("app", "v1").await;
    let image = env.by_digest("app", &digest);
    env.cosign_sign(&signer, &image, &[]);
    let pem = signer.public_pem();
    let insecure = policy(&policy_text("insecure", &env.host(), &pem, true));
    let again = policy(&policy_text("insecure-again", &env.host(), &pem, true));
    let strict = policy(&policy_text("strict", &env.host(), &pem, false));
    let parsed = ImageRef::parse(&image).expect("reference");

    // Two rules allowing an insecure registry: one fetch of the signatures.
    let verifier = verifier_with(Transport::Https);
    let cache = ArtifactCache::default();
    let before = sig_fetches(&env);
    for p in [&insecure, &again] {
        let v = verifier.verify_entry(&cache, &parsed, first_entry(p)).await;
        assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    }
    assert_eq!(sig_fetches(&env) - before, 1);

    // A verifier configured for plain HTTP reaches the registry the same way with or
    // without the flag: the strict rule passes too, on the same fetch.
    let verifier = verifier_with(Transport::Http);
    let cache = ArtifactCache::default();
    let before = sig_fetches(&env);
    for p in [&insecure, &strict] {
        let v = verifier.verify_entry(&cache, &parsed, first_entry(p)).await;
        assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    }
    assert_eq!(sig_fetches(&env) - before, 1);
}
