//! What a valid policy is read as: Kyverno's defaults where fields are left out, and the
//! values of the less common forms as written.

mod common;

use common::build::*;
use signet_policy::pem_material::parse_certificates;
use signet_policy::{
    AttestorKind, FailureAction, FailurePolicy, KeySource, SecretReference, SignatureAlgorithm,
    VerificationType,
};

/// The valid policy without `validationFailureAction`.
fn without_action(entry: &str, attestor: &str) -> String {
    policy("", entry, attestor).replace("  validationFailureAction: Enforce\n", "")
}

fn cert_der() -> Vec<u8> {
    let pem: String = serde_yaml_ng::from_str(CERT).expect("YAML string");
    parse_certificates(&pem).expect("certificate").remove(0).der
}

#[test]
fn spec_defaults_are_kyvernos() {
    let p = load_one(&without_action("", ""));
    // Kyverno: webhookTimeoutSeconds defaults to 10, validationFailureAction to Audit.
    assert_eq!(p.spec.webhook_timeout_seconds, 10);
    assert_eq!(p.spec.validation_failure_action, FailureAction::Audit);
    assert_eq!(p.spec.failure_policy, FailurePolicy::Fail);
    assert!(p.spec.background);
    let entry = &p.spec.rules[0].verify_images[0];
    assert_eq!(entry.failure_action, None);
    assert_eq!(entry.verification_type, VerificationType::Cosign);
    // Under Audit an absent mutateDigest means false; the others default to true.
    assert!(!entry.mutate_digest);
    assert!(entry.verify_digest);
    assert!(entry.required);
    assert!(entry.use_cache);
    assert_eq!(entry.repository, None);
    assert_eq!(entry.attestors[0].count, None);
    assert_eq!(entry.attestors[0].required_count(), 1);

    let p = load_one(&policy("  webhookTimeoutSeconds: 25", "", ""));
    assert_eq!(p.spec.webhook_timeout_seconds, 25);
    let p = load_one(&policy("", "", "").replace("Enforce", "enforce"));
    assert_eq!(p.spec.validation_failure_action, FailureAction::Enforce);
}

#[test]
fn use_cache_false_and_explicit_type() {
    let p = load_one(&policy(
        "",
        "          type: Cosign\n          useCache: false",
        "",
    ));
    let entry = &p.spec.rules[0].verify_images[0];
    assert!(!entry.use_cache);
    assert_eq!(entry.verification_type, VerificationType::Cosign);
}

#[test]
fn attestation_type_alone_or_predicate_type_alone() {
    for field in ["type", "predicateType"] {
        let entry = format!(
            "          attestations:\n            - {field}: https://slsa.dev/provenance/v0.2"
        );
        let p = load_one(&policy("", &entry, ""));
        let attestation = &p.spec.rules[0].verify_images[0].attestations[0];
        assert_eq!(
            attestation.predicate_type,
            "https://slsa.dev/provenance/v0.2"
        );
        assert_eq!(attestation.name, None);
        assert!(attestation.attestors.is_empty());
        assert!(attestation.conditions.is_empty());
    }
}

#[test]
fn certificates_attestors() {
    let p = load_one(&policy(
        "",
        "",
        &format!(
            "certificates: {{cert: {CERT}, certChain: {CERT}, rekor: {{url: \"https://rekor.example\", ignoreTlog: true}}, ctlog: {{ignoreSCT: true}}}}"
        ),
    ));
    let AttestorKind::Certificates(c) =
        &p.spec.rules[0].verify_images[0].attestors[0].entries[0].kind
    else {
        panic!("certificates attestor");
    };
    assert_eq!(c.cert.as_ref().map(|c| c.der.clone()), Some(cert_der()));
    assert_eq!(c.cert_chain.len(), 1);
    assert_eq!(c.cert_chain[0].der, cert_der());
    let rekor = c.rekor.as_ref().expect("rekor");
    assert_eq!(rekor.url, "https://rekor.example");
    assert!(rekor.ignore_tlog);
    assert!(rekor.pubkey.is_none());
    assert!(c.ctlog.as_ref().expect("ctlog").ignore_sct);
}

#[test]
fn nested_attestor_sets() {
    let nested = format!(
        "attestor: {{count: 1, entries: [{{keys: {{publicKeys: {KEY}}}}}, {{keys: {{publicKeys: \"k8s://team/cosign\"}}}}]}}"
    );
    let p = load_one(&policy("", "", &nested));
    let AttestorKind::Nested(set) = &p.spec.rules[0].verify_images[0].attestors[0].entries[0].kind
    else {
        panic!("nested attestor");
    };
    assert_eq!(set.count, Some(1));
    assert_eq!(set.required_count(), 1);
    assert_eq!(set.entries.len(), 2);
    assert!(matches!(set.entries[0].kind, AttestorKind::Keys(_)));
}

#[test]
fn signature_algorithms() {
    let keys = |attestor: &str| {
        let p = load_one(&policy("", "", attestor));
        match &p.spec.rules[0].verify_images[0].attestors[0].entries[0].kind {
            AttestorKind::Keys(k) => k.signature_algorithm,
            other => panic!("keys attestor, found {other:?}"),
        }
    };
    assert_eq!(
        keys(&format!("keys: {{publicKeys: {KEY}}}")),
        SignatureAlgorithm::Sha256
    );
    assert_eq!(
        keys(&format!(
            "keys: {{publicKeys: {KEY}, signatureAlgorithm: sha512}}"
        )),
        SignatureAlgorithm::Sha512
    );
    // Kyverno's older spelling on the attestor entry applies to its keys.
    assert_eq!(
        keys(&format!(
            "{{signatureAlgorithm: sha384, keys: {{publicKeys: {KEY}}}}}"
        )),
        SignatureAlgorithm::Sha384
    );
    assert_eq!(
        keys(&format!(
            "keys: {{publicKeys: {KEY}, signatureAlgorithm: sha224}}"
        )),
        SignatureAlgorithm::Sha224
    );
}

#[test]
fn k8s_key_references_name_a_stored_key() {
    let p = load_one(&policy(
        "",
        "",
        "keys: {publicKeys: \"k8s://team/cosign-pub\"}",
    ));
    let AttestorKind::Keys(k) = &p.spec.rules[0].verify_images[0].attestors[0].entries[0].kind
    else {
        panic!("keys attestor");
    };
    let secret = |source: &KeySource| match source {
        KeySource::Secret(r) => r.clone(),
        other => panic!("a stored key reference, found {other:?}"),
    };
    assert_eq!(
        secret(&k.source),
        SecretReference {
            namespace: "team".into(),
            name: "cosign-pub".into(),
        }
    );
    // `secret:` is the same reference.
    let p = load_one(&policy(
        "",
        "",
        "keys: {secret: {name: cosign-pub, namespace: team}}",
    ));
    let AttestorKind::Keys(k2) = &p.spec.rules[0].verify_images[0].attestors[0].entries[0].kind
    else {
        panic!("keys attestor");
    };
    assert_eq!(secret(&k2.source), secret(&k.source));
}
