//! Keyless and certificate signatures without the internet: a private Fulcio-like CA made
//! with openssl, leaf certificates carrying a cosign key, signatures and attestations
//! attached by cosign, Rekor bundles signed by a local Rekor key and SCTs by a local CT
//! log. cosign confirms what Signet decides wherever it can check the same thing.

mod support;

#[path = "support/der.rs"]
mod der;
#[path = "keyless/fixture.rs"]
mod fixture;
#[path = "support/pki.rs"]
mod pki;
#[path = "support/rekor.rs"]
mod rekor;
#[path = "keyless/yaml.rs"]
mod yaml;

#[path = "keyless/attestations.rs"]
mod attestations;
#[path = "keyless/certificates.rs"]
mod certificates;
#[path = "keyless/logs.rs"]
mod logs;
#[path = "keyless/policies.rs"]
mod policies;
#[path = "keyless/signatures.rs"]
mod signatures;
