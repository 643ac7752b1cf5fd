//! `imageRegistryCredentials.secrets`: a rule naming registry-credential sets reads its
//! images and signatures with them (first set holding the registry wins, no fallback to
//! the verifier's other credentials, as Kyverno builds such a rule's client from its
//! secrets alone); a set that does not exist is an error verdict naming it; a rule
//! without secrets never gets what a rule with them fetched, resolved or had cached; and a
//! replaced or deleted set leaves no stale verdict. Real htpasswd registry, real cosign.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use signet_policy::matching::AdmissionRequest;
use signet_policy::Policy;
use signet_testkit::RegistryOptions;
use signet_verify::cache::CacheConfig;
use signet_verify::registry::{CredentialSet, Credentials};
use signet_verify::trust::TrustRoot;
use signet_verify::{StaticKeys, VerdictResult, Verifier};
use support::*;

const USER: &str = "puller";
const PASS: &str = "pull-Pa55-word";

/// A verifier over plain HTTP with verdict and tag caches, so that a cached answer given
/// to one rule would show in another's verdict.
fn verifier(env: &Env) -> Verifier {
    Verifier::new(
        env.client(),
        Arc::new(StaticKeys::new()),
        TrustRoot::default(),
    )
    .with_cache(CacheConfig::default())
}

fn basic(password: &str) -> Credentials {
    Credentials::Basic {
        username: USER.into(),
        password: password.into(),
    }
}

/// A named set holding `password` for `host`, at `revision`.
fn set(host: &str, password: &str, revision: &str) -> CredentialSet {
    let mut s = CredentialSet::new(revision);
    s.insert(host, basic(password));
    s
}

fn sets(list: Vec<(&str, CredentialSet)>) -> HashMap<String, CredentialSet> {
    list.into_iter().map(|(n, s)| (n.to_owned(), s)).collect()
}

/// A policy named `name` whose one entry checks `pem` on the registry's images, naming
/// `secrets` (none when empty).
fn policy_named(name: &str, host: &str, pem: &str, secrets: &[&str]) -> Policy {
    let credentials = if secrets.is_empty() {
        String::new()
    } else {
        format!(
            "          imageRegistryCredentials:\n            secrets: [{}]\n",
            secrets.join(", ")
        )
    };
    policy(
        &cluster_policy(&format!(
            "        - imageReferences: [\"{host}/*\"]
{credentials}          attestors:
            - entries:
{}",
            key_attestor(pem)
        ))
        .replace("  name: test\n", &format!("  name: {name}\n")),
    )
}

/// A CREATE of a Pod in namespace `team` running `image`.
fn pod(image: &str) -> AdmissionRequest {
    signet_verify::pod_request("team", &[image.to_owned()])
}

/// Signature manifests the registry served (200), i.e. authenticated signature fetches.
fn served_sig_fetches(env: &Env) -> usize {
    env.registry
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(".sig") && r.status == 200)
        .count()
}

/// The registry, an image pushed and signed by digest, and its tag reference, digest
/// reference and signer's public key.
async fn signed_image() -> (Env, String, String, String, String) {
    let env = Env::with_registry(RegistryOptions::basic_auth(USER, PASS)).await;
    let signer = env.key_pair("signer");
    let (tagged, digest) = env.image("app", "v1").await;
    let by_digest = env.by_digest("app", &digest);
    env.cosign_sign(&signer, &by_digest, &[]);
    (env, tagged, by_digest, digest, signer.public_pem())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rule_naming_a_secret_reads_with_that_set_and_a_rule_without_gets_a_401() {
    let (env, tagged, by_digest, digest, pem) = signed_image().await;
    let host = env.host();
    let with_secret = policy_named("with-secret", &host, &pem, &["regcred"]);
    let plain = policy_named("plain", &host, &pem, &[]);
    let verifier = verifier(&env);

    // The set is not there: an error verdict naming it, not an anonymous read.
    let v = verify(&verifier, first_entry(&with_secret), &tagged).await;
    assert_eq!(v.result, VerdictResult::Error, "{}", v.message);
    assert_eq!(
        v.message,
        format!("cannot verify {tagged}: registry credentials secret \"regcred\" not found")
    );
    assert_eq!(v.digest, None);

    // With the set, the tag resolves and the cosign signature is read and verified.
    verifier
        .registry()
        .set_named_credentials(sets(vec![("regcred", set(&host, PASS, "r1"))]));
    let v = verify(&verifier, first_entry(&with_secret), &tagged).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    assert_eq!(v.digest.as_deref(), Some(digest.as_str()));
    assert_eq!(v.attestors_satisfied, ["attestors[0].entries[0].keys"]);
    assert_eq!(v.pinned, Some(format!("{tagged}@{digest}")));
    let v = verify(&verifier, first_entry(&with_secret), &by_digest).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);

    // The rule without secrets has no credentials: a 401, by tag (the tag resolved for the
    // other rule is not its answer) and by digest (nor is the other rule's cached verdict).
    let v = verify(&verifier, first_entry(&plain), &tagged).await;
    assert_eq!(v.result, VerdictResult::Error, "{}", v.message);
    assert_eq!(
        v.message,
        format!(
            "cannot resolve {tagged} to a digest: registry {host}: unauthorized: the registry \
             requires credentials and none are configured"
        )
    );
    let v = verify(&verifier, first_entry(&plain), &by_digest).await;
    assert_eq!(v.result, VerdictResult::Error, "{}", v.message);
    assert_eq!(
        v.message,
        format!(
            "cannot verify {by_digest}: registry {host}: unauthorized: the registry requires \
             credentials and none are configured"
        )
    );

    // Secret names never appear with a password in the client's Debug output.
    let shown = format!("{:?}", verifier.registry());
    assert!(!shown.contains(PASS), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sets_are_read_in_order_and_the_verifiers_other_credentials_are_not_a_fallback() {
    let (env, _, by_digest, _, pem) = signed_image().await;
    let host = env.host();
    let verifier = verifier(&env);
    verifier.registry().set_named_credentials(sets(vec![
        ("regcred", set(&host, PASS, "r1")),
        ("wrong", set(&host, "not-the-Pa55", "w1")),
        ("elsewhere", set("registry.example.com", PASS, "e1")),
    ]));
    // Credentials stored in the verifier for every rule without secrets.
    verifier
        .registry()
        .set_stored_credentials(HashMap::from([(host.clone(), basic(PASS))]));

    // The first set holding the registry wins: a set without it is passed over...
    let p = policy_named("skip", &host, &pem, &["elsewhere", "regcred"]);
    let v = verify(&verifier, first_entry(&p), &by_digest).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    // ...and a set holding it with a wrong password is used, not the next one.
    let p = policy_named("first", &host, &pem, &["wrong", "regcred"]);
    let v = verify(&verifier, first_entry(&p), &by_digest).await;
    assert_eq!(v.result, VerdictResult::Error, "{}", v.message);
    assert!(
        v.message.ends_with(&format!(
            "registry {host}: unauthorized: credentials were refused"
        )),
        "{}",
        v.message
    );
    // A rule whose sets hold nothing for the registry reads it anonymously, as Kyverno's
    // per-rule client does, although the verifier stores credentials for it.
    let p = policy_named("none", &host, &pem, &["elsewhere"]);
    let v = verify(&verifier, first_entry(&p), &by_digest).await;
    assert_eq!(v.result, VerdictResult::Error, "{}", v.message);
    assert!(
        v.message.ends_with(
            "the registry requires credentials and no registry credentials secret of the \
             rule (\"elsewhere\") holds any for it"
        ),
        "{}",
        v.message
    );
    // The rule without secrets uses the stored credentials.
    let p = policy_named("plain", &host, &pem, &[]);
    let v = verify(&verifier, first_entry(&p), &by_digest).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    // One missing name among several is reported by name.
    let p = policy_named("missing", &host, &pem, &["regcred", "gone"]);
    let v = verify(&verifier, first_entry(&p), &by_digest).await;
    assert_eq!(v.result, VerdictResult::Error, "{}", v.message);
    assert_eq!(
        v.message,
        format!("cannot verify {by_digest}: registry credentials secret \"gone\" not found")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn in_one_decision_the_authenticated_fetch_is_shared_only_by_rules_with_the_same_secrets() {
    let (env, _, by_digest, _, pem) = signed_image().await;
    let host = env.host();
    let with_secret = policy_named("with-secret", &host, &pem, &["regcred"]);
    let again = policy_named("with-secret-again", &host, &pem, &["regcred"]);
    let plain = policy_named("plain", &host, &pem, &[]);
    let verifier = verifier(&env);
    verifier
        .registry()
        .set_named_credentials(sets(vec![("regcred", set(&host, PASS, "r1"))]));

    let before = served_sig_fetches(&env);
    let decision = verifier
        .review(
            &[&with_secret, &plain, &again],
            &pod(&by_digest),
            &BTreeMap::new(),
        )
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
            ("with-secret", VerdictResult::Pass),
            ("plain", VerdictResult::Error),
            ("with-secret-again", VerdictResult::Pass),
        ]
    );
    assert!(!decision.allowed);
    let message = decision.message.unwrap_or_default();
    assert_eq!(
        message,
        format!(
            "policy plain, rule verify: cannot verify {by_digest}: registry {host}: \
             unauthorized: the registry requires credentials and none are configured"
        )
    );
    // The two rules naming the same secret read the signatures once, with its credentials.
    env.registry
        .wait_for_request(
            |r| r.path.ends_with(".sig") && r.status == 200,
            Duration::from_secs(5),
        )
        .await
        .expect("the signature fetch is logged");
    assert_eq!(served_sig_fetches(&env) - before, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replaced_or_deleted_set_leaves_no_stale_verdict() {
    let (env, _, by_digest, _, pem) = signed_image().await;
    let host = env.host();
    let with_secret = policy_named("with-secret", &host, &pem, &["regcred"]);
    let verifier = verifier(&env);
    verifier
        .registry()
        .set_named_credentials(sets(vec![("regcred", set(&host, PASS, "r1"))]));

    let v = verify(&verifier, first_entry(&with_secret), &by_digest).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    let runs = verifier.verifications();
    // The same set again: the cached verdict answers.
    let v = verify(&verifier, first_entry(&with_secret), &by_digest).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    assert_eq!(verifier.verifications(), runs);

    // The set replaced by one whose password the registry refuses: verified again, and
    // refused, instead of the verdict reached with the old credentials.
    verifier
        .registry()
        .set_named_credentials(sets(vec![("regcred", set(&host, "changed-Pa55", "r2"))]));
    let v = verify(&verifier, first_entry(&with_secret), &by_digest).await;
    assert_eq!(v.result, VerdictResult::Error, "{}", v.message);
    assert!(
        v.message
            .ends_with("unauthorized: credentials were refused"),
        "{}",
        v.message
    );
    assert_eq!(verifier.verifications(), runs + 1);

    // Deleted: an error naming it.
    verifier.registry().set_named_credentials(HashMap::new());
    let v = verify(&verifier, first_entry(&with_secret), &by_digest).await;
    assert_eq!(v.result, VerdictResult::Error, "{}", v.message);
    assert_eq!(
        v.message,
        format!("cannot verify {by_digest}: registry credentials secret \"regcred\" not found")
    );
    assert_eq!(
        verifier.registry().named_credentials(),
        Vec::<String>::new()
    );
}
