//! One bad input per validation rule: each is refused, and the error names the field.

mod common;

use common::build::*;
use signet_policy::{load_policies, Error, FailureAction};

#[test]
fn base_policy_is_valid() {
    let p = load_policies(&policy("", "", "")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p[0].spec.validation_failure_action, FailureAction::Enforce);
    assert!(p[0].spec.rules[0].verify_images[0].mutate_digest);
}

#[test]
fn unknown_fields_are_named() {
    assert_error(
        &policy("  backgroud: true", "", ""),
        "spec.backgroud",
        "unknown field",
    );
    assert_error(
        &policy("", "          mutateDigests: true", ""),
        &format!("{ENTRY}.mutateDigests"),
        "unknown field",
    );
}

#[test]
fn wrong_types_are_named() {
    assert_error(
        &policy("  background: \"no\"", "", ""),
        "spec.background",
        "expected a boolean, found a string",
    );
    assert_error(
        &policy("  webhookTimeoutSeconds: ten", "", ""),
        "spec.webhookTimeoutSeconds",
        "expected an integer",
    );
    assert_error(
        &policy("", "          imageReferences: registry.example.com/*", ""),
        &format!("{ENTRY}.imageReferences"),
        "",
    );
    assert_error(
        &policy("", "", "keys: []"),
        &format!("{ATTESTOR}.keys"),
        "expected an object, found a list",
    );
}

#[test]
fn unsupported_kyverno_fields_say_so() {
    assert_error(
        &policy("", "          type: Notary", ""),
        &format!("{ENTRY}.type"),
        "\"Notary\" is not supported",
    );
    assert_error(
        &policy("  applyRules: One", "", ""),
        "spec.applyRules",
        "not supported by Signet",
    );
    assert_error(
        &policy("", "", "keys: {kms: \"gcpkms://x\"}"),
        &format!("{ATTESTOR}.keys.kms"),
        "not supported by Signet",
    );
    assert_error(
        &policy("", "          image: nginx", ""),
        &format!("{ENTRY}.image"),
        "deprecated",
    );
}

#[test]
fn webhook_timeout_range() {
    assert_error(
        &policy("  webhookTimeoutSeconds: 31", "", ""),
        "spec.webhookTimeoutSeconds",
        "1 to 30",
    );
    assert_error(
        &policy("  webhookTimeoutSeconds: 0", "", ""),
        "spec.webhookTimeoutSeconds",
        "1 to 30",
    );
    assert!(load_policies(&policy("  webhookTimeoutSeconds: 30", "", "")).is_ok());
}

#[test]
fn mutate_digest_under_audit() {
    let audit = policy("", "          mutateDigest: true", "").replace(
        "validationFailureAction: Enforce",
        "validationFailureAction: audit",
    );
    assert_error(&audit, &format!("{ENTRY}.mutateDigest"), "Audit");
    // Left out under Audit it means false; a per-entry Enforce brings the default back.
    let audit = policy("", "", "").replace(
        "validationFailureAction: Enforce",
        "validationFailureAction: Audit",
    );
    let p = load_policies(&audit).unwrap_or_else(|e| panic!("{e}"));
    assert!(!p[0].spec.rules[0].verify_images[0].mutate_digest);
    let per_entry = policy("", "          failureAction: Enforce", "").replace(
        "validationFailureAction: Enforce",
        "validationFailureAction: Audit",
    );
    let p = load_policies(&per_entry).unwrap_or_else(|e| panic!("{e}"));
    assert!(p[0].spec.rules[0].verify_images[0].mutate_digest);
    // And an entry that is Audit under an Enforce policy cannot mutate either.
    assert_error(
        &policy(
            "",
            "          failureAction: Audit\n          mutateDigest: true",
            "",
        ),
        &format!("{ENTRY}.mutateDigest"),
        "Audit",
    );
}

#[test]
fn bad_pem_is_refused() {
    let broken = policy("", "", "").replace(
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM",
        "MFkw",
    );
    assert_error(
        &broken,
        &format!("{ATTESTOR}.keys.publicKeys"),
        "not a valid public key",
    );
    let roots = "keyless: {subject: a, roots: not a certificate}";
    assert_error(
        &policy("", "", roots),
        &format!("{ATTESTOR}.keyless.roots"),
        "not a valid certificate",
    );
}

#[test]
fn bad_regexps_and_patterns() {
    let keyless = "keyless: {subjectRegExp: \"([a-z\", roots: x}";
    assert_error(
        &policy("", "", keyless),
        &format!("{ATTESTOR}.keyless.subjectRegExp"),
        "invalid regular expression",
    );
    assert_error(
        &policy("", "          skipImageReferences: [\"a b\"]", ""),
        &format!("{ENTRY}.skipImageReferences[0]"),
        "white space",
    );
    assert_error(
        &policy("", "          skipImageReferences: [\"\"]", ""),
        &format!("{ENTRY}.skipImageReferences[0]"),
        "must not be empty",
    );
}

#[test]
fn unknown_operator() {
    let entry = "          attestations:
            - type: https://slsa.dev/provenance/v0.2
              conditions:
                - all:
                    - key: \"{{ builder.id }}\"
                      operator: Equal
                      value: x";
    assert_error(
        &policy("", entry, ""),
        &format!("{ENTRY}.attestations[0].conditions[0].all[0].operator"),
        "unknown operator \"Equal\"",
    );
}

#[test]
fn attestor_structure() {
    assert_error(
        &policy("", "", "annotations: {a: b}"),
        ATTESTOR,
        "exactly one of keys, keyless, certificates or attestor",
    );
    let two = "{keys: {secret: {name: a, namespace: b}}, keyless: {subject: s, roots: x}}";
    assert_error(&policy("", "", two), ATTESTOR, "found keys, keyless");
    assert_error(
        &policy("", "", "keyless: {subject: s}"),
        &format!("{ATTESTOR}.keyless"),
        "either rekor or roots",
    );
    let count = policy("", "", "").replace(
        "            - entries:",
        "            - count: 2\n              entries:",
    );
    assert_error(
        &count,
        "spec.rules[0].verifyImages[0].attestors[0].count",
        "exceeds the number of entries (1)",
    );
    let ext = "keyless: {rekor: {url: \"https://rekor.sigstore.dev\"}, additionalExtensions: {githubWorkflowTrigerr: push}}";
    assert_error(
        &policy("", "", ext),
        &format!("{ATTESTOR}.keyless.additionalExtensions.githubWorkflowTrigerr"),
        "unknown Fulcio extension",
    );
}

#[test]
fn every_error_is_reported_at_once() {
    let text = policy(
        "  webhookTimeoutSeconds: 99\n  bogus: 1",
        "          type: Notary",
        "",
    );
    let errs = errors(&text);
    let paths: Vec<_> = errs.iter().map(|(p, _)| p.as_str()).collect();
    assert!(paths.contains(&"spec.webhookTimeoutSeconds"), "{paths:?}");
    assert!(paths.contains(&"spec.bogus"), "{paths:?}");
    assert!(
        paths.contains(&"spec.rules[0].verifyImages[0].type"),
        "{paths:?}"
    );
}

#[test]
fn documents_are_numbered_and_json_is_read() {
    let two = format!(
        "{}---\n{}",
        policy("", "", ""),
        policy("  bogus: 1", "", "")
    );
    let Err(Error::InvalidPolicy(d)) = load_policies(&two) else {
        panic!("second document is invalid");
    };
    assert_eq!(d.errors()[0].document, 2);
    assert_eq!(
        d.errors()[0].to_string(),
        "document 2: spec.bogus: unknown field"
    );

    let json = r#"{"apiVersion":"kyverno.io/v1","kind":"Policy","metadata":{"name":"p","namespace":"team"},
      "spec":{"rules":[{"name":"r","match":{"any":[{"resources":{"kinds":["Pod"]}}]},
      "verifyImages":[{"imageReferences":["*"],"required":false}]}]}}"#;
    let p = load_policies(json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p[0].namespace.as_deref(), Some("team"));
    assert!(p[0].spec.rules[0].verify_images[0].is_allow_only());
    assert!(
        !p[0].spec.rules[0].verify_images[0].mutate_digest,
        "Audit by default"
    );
}

#[test]
fn syntax_errors_and_wrong_documents() {
    assert!(matches!(
        load_policies("a: [unclosed"),
        Err(Error::InvalidPolicy(_))
    ));
    assert!(matches!(load_policies(""), Err(Error::InvalidPolicy(_))));
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {}";
    let errs = errors(cm);
    assert!(errs.iter().any(|(p, _)| p == "apiVersion"), "{errs:?}");
    assert!(errs.iter().any(|(p, _)| p == "kind"), "{errs:?}");
}

#[test]
fn rules_need_verify_images_and_match() {
    let text = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n    - name: r\n      validate: {message: x}\n";
    let errs = errors(text);
    assert!(
        errs.iter()
            .any(|(p, m)| p == "spec.rules[0].match" && m == "required"),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|(p, _)| p == "spec.rules[0].verifyImages"),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|(p, m)| p == "spec.rules[0].validate" && m.contains("verifyImages rules only")),
        "{errs:?}"
    );
}
