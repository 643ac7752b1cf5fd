//! Every policy of the seed guide loads as Kyverno reads it; the one whose key the guide
//! truncated is refused with the path of that key.

mod common;

use signet_policy::{
    load_policies, AttestorKind, Error, FailureAction, FailurePolicy, KeySource, Policy,
    SelectorOperator,
};

fn load(file: &str) -> Result<Vec<Policy>, Error> {
    load_policies(&common::read("policies", file))
}

fn load_one(file: &str) -> Policy {
    let mut policies = load(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(policies.len(), 1, "{file}");
    policies.remove(0)
}

#[test]
fn every_seed_policy_but_the_truncated_key_loads() {
    let dir = common::testdata("policies");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("policies dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        seen += 1;
        let result = load(&name);
        if name == "verify-image-signatures.yaml" {
            assert!(result.is_err(), "{name} must be refused");
        } else {
            assert!(
                result.is_ok(),
                "{name}: {}",
                result.err().map(|e| e.to_string()).unwrap_or_default()
            );
        }
    }
    assert_eq!(seen, 8, "the seed guide has eight policies");
}

#[test]
fn truncated_key_is_refused_with_its_path() {
    let Err(Error::InvalidPolicy(d)) = load("verify-image-signatures.yaml") else {
        panic!("expected an invalid policy");
    };
    assert_eq!(d.errors().len(), 1, "{d}");
    let e = &d.errors()[0];
    assert_eq!(e.document, 1);
    assert_eq!(
        e.path,
        "spec.rules[0].verifyImages[0].attestors[0].entries[0].keys.publicKeys"
    );
    assert!(
        e.message.contains("not a valid public key"),
        "{}",
        e.message
    );
}

#[test]
fn spec_fields_and_defaults() {
    let p = load_one("optimized-verification.yaml");
    assert_eq!(p.name, "optimized-verification");
    assert_eq!(p.spec.validation_failure_action, FailureAction::Enforce);
    assert_eq!(p.spec.failure_policy, FailurePolicy::Ignore);
    assert_eq!(p.spec.webhook_timeout_seconds, 15);
    assert!(!p.spec.background);
    let entry = &p.spec.rules[0].verify_images[0];
    assert!(entry.mutate_digest && entry.verify_digest && entry.required && entry.use_cache);

    let p = load_one("verify-with-secret-key.yaml");
    assert_eq!(
        p.spec.failure_policy,
        FailurePolicy::Fail,
        "default failurePolicy"
    );
    let set = &p.spec.rules[0].verify_images[0].attestors[0];
    assert_eq!(set.count, Some(1));
    match &set.entries[0].kind {
        AttestorKind::Keys(k) => match &k.source {
            KeySource::Secret(s) => {
                assert_eq!(
                    (s.namespace.as_str(), s.name.as_str()),
                    ("kyverno", "cosign-pub-key")
                )
            }
            other => panic!("expected a secret, got {other:?}"),
        },
        other => panic!("expected keys, got {other:?}"),
    }
}

#[test]
fn allow_rules_need_no_attestors() {
    let p = load_one("verify-all-registries.yaml");
    let names: Vec<_> = p.spec.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "verify-company-images",
            "verify-vendor-images",
            "allow-public-images"
        ]
    );
    let allow = &p.spec.rules[2].verify_images[0];
    assert!(allow.is_allow_only());
    assert_eq!(allow.image_references, ["docker.io/library/*"]);
    assert!(!p.spec.rules[0].verify_images[0].is_allow_only());
}

#[test]
fn namespace_selectors() {
    let p = load_one("conditional-verification.yaml");
    let sel = p.spec.rules[0].match_resources.any[0]
        .namespace_selector
        .as_ref()
        .expect("namespaceSelector");
    assert_eq!(
        sel.match_labels,
        [("environment".to_owned(), "production".to_owned())]
    );
    assert!(sel.match_expressions.is_empty());
    assert!(p.spec.rules[1].verify_images[0].is_allow_only());
    let _ = SelectorOperator::In;
}

#[test]
fn attestations_with_conditions() {
    let p = load_one("verify-attestations.yaml");
    let att = &p.spec.rules[0].verify_images[0].attestations[0];
    assert_eq!(att.predicate_type, "https://slsa.dev/provenance/v0.2");
    assert_eq!(att.conditions.len(), 1);
    assert_eq!(att.conditions[0].all.len(), 2);
    assert_eq!(
        att.conditions[0].all[0].key,
        serde_json::json!("{{ builder.id }}")
    );

    let p = load_one("verify-scan-results.yaml");
    let att = &p.spec.rules[0].verify_images[0].attestations[0];
    assert_eq!(
        att.predicate_type,
        "https://cosign.sigstore.dev/attestation/vuln/v1"
    );
    assert_eq!(att.conditions[0].all.len(), 3);
    assert_eq!(att.conditions[0].all[2].value, serde_json::json!(0));
}

#[test]
fn keyless_attestor() {
    let p = load_one("verify-keyless.yaml");
    let entry = &p.spec.rules[0].verify_images[0].attestors[0].entries[0];
    let AttestorKind::Keyless(k) = &entry.kind else {
        panic!("expected keyless");
    };
    assert_eq!(
        k.subject.as_deref(),
        Some("https://github.com/company/workflows/*")
    );
    assert_eq!(
        k.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(
        k.rekor.as_ref().map(|r| r.url.as_str()),
        Some("https://rekor.sigstore.dev")
    );
}
