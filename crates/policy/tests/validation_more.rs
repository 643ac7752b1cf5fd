//! More bad inputs, each refused with its exact field path and the start of its message,
//! and the values a valid policy is read with.

mod common;

use common::build::*;
use signet_policy::RegistryCredentials;

#[test]
fn registry_credential_secrets_are_read_in_order_with_insecure_registries() {
    let creds = |entry: &str| {
        load_one(&policy("", entry, "")).spec.rules[0].verify_images[0]
            .image_registry_credentials
            .clone()
    };
    assert_eq!(
        creds("          imageRegistryCredentials: {secrets: [regcred, kyverno/other.cred]}"),
        Some(RegistryCredentials {
            allow_insecure_registry: false,
            secrets: vec!["regcred".into(), "kyverno/other.cred".into()],
        })
    );
    assert_eq!(
        creds("          imageRegistryCredentials: {allowInsecureRegistry: true}"),
        Some(RegistryCredentials {
            allow_insecure_registry: true,
            secrets: Vec::new(),
        })
    );
    assert_eq!(
        creds("          imageRegistryCredentials: {allowInsecureRegistry: true, secrets: [a]}"),
        Some(RegistryCredentials {
            allow_insecure_registry: true,
            secrets: vec!["a".into()],
        })
    );
    assert_eq!(creds(""), None);
}

#[test]
fn bad_registry_credential_secrets_are_refused_with_their_path() {
    let at = |i: usize| format!("{ENTRY}.imageRegistryCredentials.secrets[{i}]");
    let entry =
        |secrets: &str| format!("          imageRegistryCredentials: {{secrets: {secrets}}}");
    assert_error_at(
        &policy("", &entry("[regcred, \"\"]"), ""),
        &at(1),
        "must not be empty",
    );
    assert_error_at(
        &policy("", &entry("[\"{{request.namespace}}-creds\"]"), ""),
        &at(0),
        "variables are not supported in this field by Signet",
    );
    assert_error_at(
        &policy("", &entry("regcred"), ""),
        &format!("{ENTRY}.imageRegistryCredentials.secrets"),
        "expected a list, found a string",
    );
    assert_error_at(
        &policy("", &entry("[{name: regcred}]"), ""),
        &at(0),
        "expected a string, found an object",
    );
    for bad in [
        "RegCred",
        "reg_cred",
        "/regcred",
        "ns/",
        "a/b/c",
        "my.ns/regcred",
    ] {
        assert_error_at(
            &policy("", &entry(&format!("[ok, \"{bad}\"]")), ""),
            &at(1),
            &format!("{bad:?} is not a Secret name"),
        );
    }
    // `providers` (cloud credential helpers) is still refused.
    assert_error_at(
        &policy(
            "",
            "          imageRegistryCredentials: {providers: [amazon]}",
            "",
        ),
        &format!("{ENTRY}.imageRegistryCredentials.providers"),
        "not supported by Signet: cloud credential helpers",
    );
}

const TSA: &str = "not supported by Signet: with type Cosign, signing times are taken from the \
                   Rekor bundle, not from RFC 3161 timestamps";

#[test]
fn tsa_cert_chain_is_refused_for_cosign_entries() {
    let ctlog = format!("ctlog: {{tsaCertChain: {CERT}}}");
    let rekor = "rekor: {url: \"https://rekor.sigstore.dev\"}";
    for (attestor, field) in [
        (format!("keys: {{publicKeys: {KEY}, {ctlog}}}"), "keys"),
        (
            format!("keyless: {{subject: s, {rekor}, {ctlog}}}"),
            "keyless",
        ),
        (
            format!("certificates: {{cert: {CERT}, {ctlog}}}"),
            "certificates",
        ),
    ] {
        let path = format!("{ATTESTOR}.{field}.ctlog.tsaCertChain");
        assert_error_at(&policy("", "", &attestor), &path, TSA);
        // `type: Cosign` written out is the same.
        assert_error_at(&policy("", "          type: Cosign", &attestor), &path, TSA);
    }
    let nested = format!("attestor: {{entries: [{{keys: {{publicKeys: {KEY}, {ctlog}}}}}]}}");
    assert_error_at(
        &policy("", "", &nested),
        &format!("{ATTESTOR}.attestor.entries[0].keys.ctlog.tsaCertChain"),
        TSA,
    );
    let attestation = format!(
        "          attestations:
            - type: https://slsa.dev/provenance/v0.2
              attestors:
                - entries:
                    - keys: {{publicKeys: {KEY}, {ctlog}}}"
    );
    assert_error_at(
        &policy("", &attestation, ""),
        &format!("{ENTRY}.attestations[0].attestors[0].entries[0].keys.ctlog.tsaCertChain"),
        TSA,
    );
    // A SigstoreBundle entry uses it.
    let p = load_one(&policy(
        "",
        "          type: SigstoreBundle",
        &format!("keys: {{publicKeys: {KEY}, {ctlog}}}"),
    ));
    let signet_policy::AttestorKind::Keys(keys) =
        &p.spec.rules[0].verify_images[0].attestors[0].entries[0].kind
    else {
        panic!("keys attestor");
    };
    let chain = &keys.ctlog.as_ref().expect("ctlog").tsa_cert_chain;
    assert_eq!(chain.len(), 1);
}

#[test]
fn unknown_operation() {
    assert_error_at(
        &policy_matching("              operations: [CREATE, create]"),
        &format!("{RESOURCES}.operations[1]"),
        "\"create\" is not an operation: expected CREATE, UPDATE, DELETE or CONNECT",
    );
}

#[test]
fn malformed_kinds() {
    for (kind, message) in [
        ("apps//Deployment", "\"apps//Deployment\" is not a kind"),
        ("/Pod", "\"/Pod\" is not a kind"),
        ("a/b/c/d/e", "\"a/b/c/d/e\" is not a kind"),
        // The last part splits at dots into kind and subresource: one dot at most.
        (
            "apps/v1/Deployment/scale.x",
            "\"apps/v1/Deployment/scale.x\" is not a kind",
        ),
        ("Pod status", "\"Pod status\" contains white space"),
        ("", "must not be empty"),
    ] {
        let text = policy("", "", "").replace("kinds: [Pod]", &format!("kinds: [\"{kind}\"]"));
        assert_error_at(&text, &format!("{RESOURCES}.kinds[0]"), message);
    }
}

#[test]
fn bad_failure_actions_policies_and_algorithms() {
    let text = policy("", "", "").replace(
        "validationFailureAction: Enforce",
        "validationFailureAction: Deny",
    );
    assert_error_at(
        &text,
        "spec.validationFailureAction",
        "\"Deny\" is not valid: expected Enforce or Audit",
    );
    assert_error_at(
        &policy("", "          failureAction: Warn", ""),
        &format!("{ENTRY}.failureAction"),
        "\"Warn\" is not valid: expected Enforce or Audit",
    );
    assert_error_at(
        &policy("  failurePolicy: Abort", "", ""),
        "spec.failurePolicy",
        "\"Abort\" is not valid: expected Fail or Ignore",
    );
    assert_error_at(
        &policy(
            "",
            "",
            &format!("keys: {{publicKeys: {KEY}, signatureAlgorithm: md5}}"),
        ),
        &format!("{ATTESTOR}.keys.signatureAlgorithm"),
        "\"md5\" is not valid: expected sha224, sha256, sha384 or sha512",
    );
    assert_error_at(
        &policy(
            "",
            "",
            &format!("{{signatureAlgorithm: SHA256, keys: {{publicKeys: {KEY}}}}}"),
        ),
        &format!("{ATTESTOR}.signatureAlgorithm"),
        "\"SHA256\" is not valid: expected sha224, sha256, sha384 or sha512",
    );
    assert_error_at(
        &policy(
            "",
            "",
            "{signatureAlgorithm: sha512, keyless: {subject: s, rekor: {url: \"https://rekor.sigstore.dev\"}}}",
        ),
        &format!("{ATTESTOR}.signatureAlgorithm"),
        "applies to keys attestors only",
    );
}

#[test]
fn rekor_urls() {
    let keys = |rekor: &str| format!("keys: {{publicKeys: {KEY}, rekor: {rekor}}}");
    assert_error_at(
        &policy("", "", &keys("{ignoreTlog: true}")),
        &format!("{ATTESTOR}.keys.rekor.url"),
        "required, as Kyverno requires",
    );
    assert_error_at(
        &policy("", "", &keys("{url: \"rekor.sigstore.dev\"}")),
        &format!("{ATTESTOR}.keys.rekor.url"),
        "\"rekor.sigstore.dev\" is not an http(s) URL",
    );
    assert_error_at(
        &policy(
            "",
            "",
            "keyless: {subject: s, rekor: {url: \"ftp://rekor\"}}",
        ),
        &format!("{ATTESTOR}.keyless.rekor.url"),
        "\"ftp://rekor\" is not an http(s) URL",
    );
}

#[test]
fn duplicate_rule_names() {
    let text = policy("", "", "");
    let rule = &text[text.find("    - name: r").expect("rule")..];
    let twice = format!("{}{rule}", text.trim_end().to_owned() + "\n");
    assert_error_at(&twice, "spec.rules[1].name", "duplicate rule name \"r\"");
}

#[test]
fn metadata_name_and_namespace() {
    let text = policy("", "", "").replace("  name: p\n", "  name: p\n  namespace: team\n");
    assert_error_at(
        &text,
        "metadata.namespace",
        "a ClusterPolicy is not namespaced (found \"team\")",
    );
    let namespaced = text.replace("kind: ClusterPolicy", "kind: Policy");
    assert_eq!(load_one(&namespaced).namespace.as_deref(), Some("team"));
    for name in ["My_Policy", "-p", "p..q", ""] {
        let text = policy("", "", "").replace("  name: p\n", &format!("  name: \"{name}\"\n"));
        assert_error_at(
            &text,
            "metadata.name",
            &format!("{name:?} is not a valid name"),
        );
    }
}

#[test]
fn any_and_all_together() {
    let text = policy("", "", "").replace(
        "      match:\n        any:\n          - resources:\n              kinds: [Pod]\n",
        "      match:\n        any:\n          - resources:\n              kinds: [Pod]\n        all:\n          - resources:\n              kinds: [Pod]\n",
    );
    assert_error_at(
        &text,
        "spec.rules[0].match",
        "any and all cannot be used together",
    );
}

#[test]
fn negative_count() {
    let text = policy("", "", "").replace(
        "            - entries:",
        "            - count: -1\n              entries:",
    );
    assert_error_at(
        &text,
        &format!("{ENTRY}.attestors[0].count"),
        "-1 is negative",
    );
}

#[test]
fn predicate_type_contradicting_type() {
    let entry = "          attestations:
            - type: https://slsa.dev/provenance/v0.2
              predicateType: https://slsa.dev/provenance/v1";
    assert_error_at(
        &policy("", entry, ""),
        &format!("{ENTRY}.attestations[0].predicateType"),
        "\"https://slsa.dev/provenance/v1\" contradicts type \"https://slsa.dev/provenance/v0.2\"",
    );
}

#[test]
fn malformed_k8s_key_references() {
    for reference in [
        "k8s://team",
        "k8s://team/",
        "k8s:///key",
        "k8s://team/key/extra",
    ] {
        assert_error_at(
            &policy("", "", &format!("keys: {{publicKeys: \"{reference}\"}}")),
            &format!("{ATTESTOR}.keys.publicKeys"),
            &format!("{reference:?} is not k8s://namespace/name"),
        );
    }
}

#[test]
fn bad_pem_in_certificates_and_log_keys() {
    let not_pem = "\"-----BEGIN CERTIFICATE-----\\nnot base64\\n-----END CERTIFICATE-----\"";
    assert_error_at(
        &policy("", "", &format!("certificates: {{cert: {not_pem}}}")),
        &format!("{ATTESTOR}.certificates.cert"),
        "not a valid certificate",
    );
    assert_error_at(
        &policy("", "", &format!("certificates: {{certChain: {KEY}}}")),
        &format!("{ATTESTOR}.certificates.certChain"),
        "not a valid certificate: PEM block 1 is \"PUBLIC KEY\", expected \"CERTIFICATE\"",
    );
    assert_error_at(
        &policy(
            "",
            "",
            &format!("keys: {{publicKeys: {KEY}, rekor: {{url: \"https://rekor.sigstore.dev\", pubkey: {CERT}}}}}"),
        ),
        &format!("{ATTESTOR}.keys.rekor.pubkey"),
        "not a valid public key",
    );
    assert_error_at(
        &policy(
            "",
            "",
            &format!("keys: {{publicKeys: {KEY}, ctlog: {{pubkey: \"not a key\"}}}}"),
        ),
        &format!("{ATTESTOR}.keys.ctlog.pubkey"),
        "not a valid public key",
    );
}

#[test]
fn invalid_jmespath_in_a_condition_value() {
    let entry = "          attestations:
            - type: https://slsa.dev/provenance/v0.2
              conditions:
                - any:
                    - key: \"{{ builder.id }}\"
                      operator: In
                      value: [\"{{ materials[0 }}\"]";
    assert_error_at(
        &policy("", entry, ""),
        &format!("{ENTRY}.attestations[0].conditions[0].any[0].value[0]"),
        "invalid JMESPath in {{materials[0}}",
    );
}

/// The `SigstoreBundle` restrictions of `load/bundle_rules.rs`, one each.
mod sigstore_bundle {
    use super::*;

    fn bundle(attestor: &str) -> String {
        policy("", "          type: SigstoreBundle", attestor)
    }

    #[test]
    fn attestations_need_attestors() {
        let entry = "          type: SigstoreBundle
          attestations:
            - type: https://slsa.dev/provenance/v1";
        assert_error_at(
            &policy("", entry, ""),
            &format!("{ENTRY}.attestations[0].attestors"),
            "required with type SigstoreBundle",
        );
    }

    #[test]
    fn no_annotations() {
        assert_error_at(
            &bundle(&format!(
                "{{keys: {{publicKeys: {KEY}}}, annotations: {{a: b}}}}"
            )),
            &format!("{ATTESTOR}.annotations"),
            "not supported with type SigstoreBundle: a bundle carries no signed annotations",
        );
    }

    #[test]
    fn keys_sign_with_sha256_only() {
        assert_error_at(
            &bundle(&format!(
                "keys: {{publicKeys: {KEY}, signatureAlgorithm: sha384}}"
            )),
            &format!("{ATTESTOR}.keys.signatureAlgorithm"),
            "only sha256 is supported with type SigstoreBundle",
        );
    }

    #[test]
    fn keyless_needs_subject_and_issuer() {
        for keyless in [
            "keyless: {subject: s, rekor: {url: \"https://rekor.sigstore.dev\"}}",
            "keyless: {issuerRegExp: \".*\", rekor: {url: \"https://rekor.sigstore.dev\"}}",
        ] {
            assert_error_at(
                &bundle(keyless),
                &format!("{ATTESTOR}.keyless"),
                "type SigstoreBundle needs both a subject (or subjectRegExp) and an issuer",
            );
        }
        load_one(&bundle(
            "keyless: {subjectRegExp: \".*\", issuer: i, rekor: {url: \"https://rekor.sigstore.dev\"}}",
        ));
    }

    #[test]
    fn no_certificates_attestors() {
        assert_error_at(
            &bundle(&format!("certificates: {{cert: {CERT}}}")),
            &format!("{ATTESTOR}.certificates"),
            "not supported with type SigstoreBundle: use keys or keyless",
        );
    }

    #[test]
    fn nested_attestors_are_held_to_the_same_rules() {
        assert_error_at(
            &bundle(&format!(
                "attestor: {{entries: [{{certificates: {{cert: {CERT}}}}}]}}"
            )),
            &format!("{ATTESTOR}.attestor.entries[0].certificates"),
            "not supported with type SigstoreBundle",
        );
    }
}
