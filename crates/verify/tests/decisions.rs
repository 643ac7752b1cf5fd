//! Admission decisions over whole requests: fetch-once, digest patches at the right
//! pointers, audit versus enforce, pod controllers.

mod support;

use std::collections::BTreeMap;

use serde_json::json;
use signet_policy::matching::AdmissionRequest;
use signet_verify::{StaticKeys, VerdictResult};
use support::*;

fn entry(host: &str, pem: &str) -> String {
    format!(
        "        - imageReferences: [\"{host}/*\"]
          attestors:
            - entries:
{}",
        key_attestor(pem)
    )
}

/// `yaml`, a policy whose one rule `rule` is written last, with a copy of that rule named
/// `again` after it.
fn with_rule_again(yaml: &str, rule: &str, again: &str) -> String {
    let start = yaml
        .find(&format!("    - name: {rule}\n"))
        .expect("the rule");
    let copy = yaml[start..].replacen(
        &format!("- name: {rule}\n"),
        &format!("- name: {again}\n"),
        1,
    );
    format!("{}\n{copy}", yaml.trim_end())
}

/// A Pod of `n` containers running `image`.
fn pod_of(n: usize, image: &str) -> serde_json::Value {
    let containers: Vec<_> = (0..n)
        .map(|i| json!({"name": format!("c{i}"), "image": image}))
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "team"},
        "spec": {"containers": containers}})
}

fn request(kind: &str, object: serde_json::Value) -> AdmissionRequest {
    let (group, version) = match kind {
        "Pod" => ("", "v1"),
        "CronJob" | "Job" => ("batch", "v1"),
        _ => ("apps", "v1"),
    };
    AdmissionRequest::from_json(&json!({
        "uid": "u1",
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_lowercase())},
        "namespace": "team", "name": "x", "operation": "CREATE",
        "userInfo": {"username": "alice"},
        "object": object
    }))
    .expect("request")
}

#[tokio::test(flavor = "multi_thread")]
async fn eight_containers_of_one_image_fetch_signatures_once_and_all_get_pinned() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (tagged, digest) = env.image("app", "v1").await;
    env.cosign_sign(&signer, &env.by_digest("app", &digest), &[]);
    // Two rules needing the same signatures.
    let text = cluster_policy(&entry(&env.host(), &signer.public_pem()));
    let p = policy(&with_rule_again(&text, "verify", "verify-again"));
    assert_eq!(p.spec.rules.len(), 2);

    let pod = pod_of(8, &tagged);
    let before = sig_fetches(&env);
    let verifier = env.verifier(StaticKeys::new());
    let decision = verifier
        .review(&[p], &request("Pod", pod), &BTreeMap::new())
        .await
        .expect("review");
    assert!(decision.allowed, "{:?}", decision.message);
    assert_eq!(
        decision.verdicts.len(),
        2,
        "one verdict per rule for the one distinct image"
    );
    assert!(decision
        .verdicts
        .iter()
        .all(|v| v.result == VerdictResult::Pass));
    let fetched = sig_fetches(&env) - before;
    assert_eq!(fetched, 1, "the .sig manifest is fetched once per decision");
    let paths: Vec<_> = decision.patch.iter().map(|p| p.path.as_str()).collect();
    let expected: Vec<_> = (0..8)
        .map(|i| format!("/spec/containers/{i}/image"))
        .collect();
    assert_eq!(paths, expected);
    assert!(decision
        .patch
        .iter()
        .all(|p| p.value == format!("{tagged}@{digest}") && p.op == "replace"));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_rules_on_eight_containers_fetch_signatures_and_attestations_once() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (tagged, digest) = env.image("app", "v1").await;
    let by_digest = env.by_digest("app", &digest);
    env.cosign_sign(&signer, &by_digest, &[]);
    let provenance = json!({"builder": {"id": "https://builder.example"}, "buildType": "x"});
    env.cosign_attest(&signer, "slsaprovenance", &provenance, &by_digest);
    // Each rule needs the signature and the signed provenance: while one rule's signatures
    // are checked, the attestations are fetched for it, and the other rule must find both
    // in the decision's cache rather than fetch them again.
    let attestations = signet_testkit::provenance_by_key(&signer.public_pem());
    let one =
        signet_testkit::KeyPolicy::new("p", &format!("{}/*", env.host()), &signer.public_pem())
            .then(&attestations)
            .yaml();
    let p = policy(&with_rule_again(&one, "r", "r2"));
    assert_eq!(p.spec.rules.len(), 2);

    let pod = pod_of(8, &tagged);
    let (sigs, atts) = (sig_fetches(&env), fetches_of(&env, ".att"));
    let decision = env
        .verifier(StaticKeys::new())
        .review(&[p], &request("Pod", pod), &BTreeMap::new())
        .await
        .expect("review");
    assert!(decision.allowed, "{:?}", decision.message);
    assert_eq!(decision.verdicts.len(), 2, "one verdict per rule");
    assert!(decision
        .verdicts
        .iter()
        .all(|v| v.result == VerdictResult::Pass));
    assert_eq!(sig_fetches(&env) - sigs, 1, "the .sig manifest, once");
    assert_eq!(
        fetches_of(&env, ".att") - atts,
        1,
        "the .att manifest, once"
    );
}

fn fetches_of(env: &Env, suffix: &str) -> usize {
    env.registry
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(suffix))
        .count()
}

fn sig_fetches(env: &Env) -> usize {
    fetches_of(env, ".sig")
}

#[tokio::test(flavor = "multi_thread")]
async fn deployments_and_cronjobs_are_checked_through_their_pod_templates() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (signed, digest) = env.image("app", "v1").await;
    let (unsigned, _) = env.image("app", "v2").await;
    env.cosign_sign(&signer, &env.by_digest("app", &digest), &[]);
    let p = policy(&cluster_policy(&entry(&env.host(), &signer.public_pem())));
    let verifier = env.verifier(StaticKeys::new());
    let template = |image: &str| json!({"spec": {"initContainers": [{"name": "init", "image": image}], "containers": [{"name": "app", "image": image}]}});

    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "namespace": "team"},
        "spec": {"template": template(&signed)}});
    let d = verifier
        .review(
            std::slice::from_ref(&p),
            &request("Deployment", deployment),
            &BTreeMap::new(),
        )
        .await
        .expect("review");
    assert!(d.allowed, "{:?}", d.message);
    let paths: Vec<_> = d.patch.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/spec/template/spec/initContainers/0/image",
            "/spec/template/spec/containers/0/image"
        ]
    );

    let cronjob = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "x", "namespace": "team"},
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template(&unsigned)}}}});
    let d = verifier
        .review(
            std::slice::from_ref(&p),
            &request("CronJob", cronjob),
            &BTreeMap::new(),
        )
        .await
        .expect("review");
    assert!(!d.allowed);
    assert!(d.patch.is_empty(), "a denied request is not patched");
    let message = d.message.expect("message");
    assert!(
        message.contains("rule autogen-cronjob-verify") || message.contains("rule verify"),
        "{message}"
    );
    assert!(message.contains(&unsigned), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_admits_with_a_warning_and_enforce_denies() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (unsigned, _) = env.image("app", "v1").await;
    let verifier = env.verifier(StaticKeys::new());
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "team"},
        "spec": {"containers": [{"name": "c", "image": unsigned}]}});

    let audit = policy(
        &cluster_policy(&entry(&env.host(), &signer.public_pem())).replace("Enforce", "Audit"),
    );
    let d = verifier
        .review(&[audit], &request("Pod", pod.clone()), &BTreeMap::new())
        .await
        .expect("review");
    assert!(d.allowed);
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    assert!(
        d.warnings[0].contains("no signatures found"),
        "{}",
        d.warnings[0]
    );
    assert_eq!(
        d.verdicts[0].result,
        VerdictResult::Fail,
        "the failure is still recorded"
    );
    assert!(d.patch.is_empty(), "audit never mutates");

    let enforce = policy(&cluster_policy(&entry(&env.host(), &signer.public_pem())));
    let d = verifier
        .review(
            std::slice::from_ref(&enforce),
            &request("Pod", pod.clone()),
            &BTreeMap::new(),
        )
        .await
        .expect("review");
    assert!(!d.allowed);

    // Images the entry does not match are not checked at all.
    let other = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "team"},
        "spec": {"containers": [{"name": "c", "image": "docker.io/library/nginx:1.25"}]}});
    let d = verifier
        .review(&[enforce], &request("Pod", other), &BTreeMap::new())
        .await
        .expect("review");
    assert!(d.allowed && d.verdicts.is_empty());
}
