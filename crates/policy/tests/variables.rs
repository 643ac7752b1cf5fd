//! `{{ }}` variables: refused in every field Signet reads literally (it has no admission
//! request to resolve them against), and in attestation conditions wherever they would
//! read Kyverno's admission context instead of the predicate.

mod common;

use common::build::*;

const VARIABLES: &str = "variables are not supported in this field by Signet";
const PREDICATE_ONLY: &str =
    "not supported by Signet: attestation conditions see the attestation's predicate only";

fn keys_with(extra: &str) -> String {
    format!("{{keys: {{publicKeys: {KEY}}}, {extra}}}")
}

#[test]
fn attestor_annotations() {
    assert_error_at(
        &policy(
            "",
            "",
            &keys_with("annotations: {team: \"{{ request.namespace }}\"}"),
        ),
        &format!("{ATTESTOR}.annotations[team]"),
        VARIABLES,
    );
    assert_error_at(
        &policy(
            "",
            "",
            &keys_with("annotations: {\"{{ request.namespace }}\": x}"),
        ),
        &format!("{ATTESTOR}.annotations[{{{{ request.namespace }}}}]"),
        VARIABLES,
    );
}

#[test]
fn match_and_exclude_annotations_kinds_and_selectors() {
    for (extra, at) in [
        (
            "              annotations: {team: \"{{ request.namespace }}\"}",
            ".annotations[team]",
        ),
        (
            "              annotations: {\"{{ x }}\": y}",
            ".annotations[{{ x }}]",
        ),
        (
            "              selector: {matchLabels: {app: \"{{ request.name }}\"}}",
            ".selector.matchLabels[app]",
        ),
        (
            "              selector: {matchLabels: {\"{{ k }}\": web}}",
            ".selector.matchLabels[{{ k }}]",
        ),
        (
            "              namespaceSelector: {matchExpressions: [{key: team, operator: In, values: [\"{{ x }}\"]}]}",
            ".namespaceSelector.matchExpressions[0].values[0]",
        ),
        (
            "              namespaceSelector: {matchExpressions: [{key: \"{{ x }}\", operator: Exists}]}",
            ".namespaceSelector.matchExpressions[0].key",
        ),
    ] {
        assert_error_at(
            &policy_matching(extra),
            &format!("{RESOURCES}{at}"),
            VARIABLES,
        );
    }
    let kinds =
        policy("", "", "").replace("kinds: [Pod]", "kinds: [Pod, \"{{ request.kind.kind }}\"]");
    assert_error_at(&kinds, &format!("{RESOURCES}.kinds[1]"), VARIABLES);
    let exclude = policy("", "", "").replace(
        "      verifyImages:\n",
        "      exclude:\n        any:\n          - resources:\n              kinds: [Pod]\n              annotations: {skip: \"{{ x }}\"}\n      verifyImages:\n",
    );
    assert_error_at(
        &exclude,
        "spec.rules[0].exclude.any[0].resources.annotations[skip]",
        VARIABLES,
    );
}

#[test]
fn keyless_certificate_and_log_fields() {
    let keyless = |extra: &str| {
        format!("keyless: {{subject: s, rekor: {{url: \"https://rekor.sigstore.dev\"}}, {extra}}}")
    };
    assert_error_at(
        &policy(
            "",
            "",
            &keyless("additionalExtensions: {githubWorkflowTrigger: \"{{ x }}\"}"),
        ),
        &format!("{ATTESTOR}.keyless.additionalExtensions.githubWorkflowTrigger"),
        VARIABLES,
    );
    assert_error_at(
        &policy("", "", &keyless("subjectRegExp: \"{{ x }}\"")),
        &format!("{ATTESTOR}.keyless.subjectRegExp"),
        VARIABLES,
    );
    assert_error_at(
        &policy("", "", &keyless("roots: \"{{ x }}\"")),
        &format!("{ATTESTOR}.keyless.roots"),
        VARIABLES,
    );
    assert_error_at(
        &policy("", "", &keyless("ctlog: {pubkey: \"{{ x }}\"}")),
        &format!("{ATTESTOR}.keyless.ctlog.pubkey"),
        VARIABLES,
    );
    assert_error_at(
        &policy(
            "",
            "",
            "keyless: {subject: s, rekor: {url: \"https://{{ request.namespace }}.example.com\"}}",
        ),
        &format!("{ATTESTOR}.keyless.rekor.url"),
        VARIABLES,
    );
    assert_error_at(
        &policy(
            "",
            "",
            &format!("keys: {{publicKeys: {KEY}, rekor: {{url: \"{{{{ x }}}}\"}}}}"),
        ),
        &format!("{ATTESTOR}.keys.rekor.url"),
        VARIABLES,
    );
    assert_error_at(
        &policy("", "", "certificates: {cert: \"{{ x }}\"}"),
        &format!("{ATTESTOR}.certificates.cert"),
        VARIABLES,
    );
    assert_error_at(
        &policy("", "", "certificates: {certChain: \"{{ x }}\"}"),
        &format!("{ATTESTOR}.certificates.certChain"),
        VARIABLES,
    );
}

fn attestation(fields: &str, condition: &str) -> String {
    policy(
        "",
        &format!(
            "          attestations:
            - {fields}
              conditions:
                - all:
                    - {condition}"
        ),
        "",
    )
}

const CONDITION: &str = "spec.rules[0].verifyImages[0].attestations[0].conditions[0].all[0]";

#[test]
fn attestation_types_and_names() {
    let ok = "{key: \"{{ builder.id }}\", operator: Equals, value: x}";
    for (fields, field) in [
        ("type: \"{{ request.type }}\"", "type"),
        ("predicateType: \"https://{{ x }}\"", "predicateType"),
        (
            "name: \"{{ request.name }}\"\n              type: https://slsa.dev/provenance/v0.2",
            "name",
        ),
    ] {
        assert_error_at(
            &attestation(fields, ok),
            &format!("{ENTRY}.attestations[0].{field}"),
            VARIABLES,
        );
    }
    load_one(&attestation("type: https://slsa.dev/provenance/v0.2", ok));
}

#[test]
fn conditions_cannot_read_the_admission_context() {
    let slsa = "type: https://slsa.dev/provenance/v0.2";
    for (condition, field) in [
        (
            "{key: \"{{ request.object.metadata.namespace }}\", operator: Equals, value: prod}",
            "key",
        ),
        (
            "{key: \"{{ builder.id }}\", operator: Equals, value: \"{{ serviceAccountName }}\"}",
            "value",
        ),
        (
            "{key: \"{{ builder.id }}\", operator: AnyIn, value: [a, \"{{ images.containers }}\"]}",
            "value[1]",
        ),
        (
            "{key: \"{{ to_upper(element.name) }}\", operator: Equals, value: X}",
            "key",
        ),
        (
            "{key: \"{{ builder.id }}\", operator: Equals, value: x, message: \"in {{ request.namespace }}\"}",
            "message",
        ),
    ] {
        assert_error_at(
            &attestation(slsa, condition),
            &format!("{CONDITION}.{field}"),
            PREDICATE_ONLY,
        );
    }
    // The predicate's own fields of the same names are fine.
    load_one(&attestation(
        slsa,
        "{key: \"{{ invocation.parameters.request }}\", operator: Equals, value: \"{{ materials[?images] | length(@) }}\"}",
    ));
}

#[test]
fn conditions_with_invalid_jmespath_are_refused() {
    assert_error_at(
        &attestation(
            "type: https://slsa.dev/provenance/v0.2",
            "{key: \"{{ builder.[ }}\", operator: Equals, value: x}",
        ),
        &format!("{CONDITION}.key"),
        "invalid JMESPath in {{builder.[}}",
    );
}
