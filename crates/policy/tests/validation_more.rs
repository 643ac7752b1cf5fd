//! More bad inputs, each refused with its exact field path and the start of its message,
//! and the values a valid policy is read with.

mod common;

use common::build::*;
use signet_policy::RegistryCredentials;

#[test]
fn registry_credential_secrets_are_refused_and_insecure_registries_are_read() {
    assert_error_at(
        &policy(
            "",
            "          imageRegistryCredentials: {secrets: [regcred]}",
            "",
        ),
        &format!("{ENTRY}.imageRegistryCredentials.secrets"),
        "not supported by Signet: pull secrets have no meaning here: registry credentials \
         are stored per registry in the verifier",
    );
    let p = load_one(&policy(
        "",
        "          imageRegistryCredentials: {allowInsecureRegistry: true}",
        "",
    ));
    assert_eq!(
        p.spec.rules[0].verify_images[0].image_registry_credentials,
        Some(RegistryCredentials {
            allow_insecure_registry: true
        })
    );
    let p = load_one(&policy("", "", ""));
    assert_eq!(
        p.spec.rules[0].verify_images[0].image_registry_credentials,
        None
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
