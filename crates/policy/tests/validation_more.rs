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
