//! Real Fulcio certificates from the sigstore-conformance bundles: chains to their trust
//! roots, identities, and SCTs (with and without SCT extensions, and a wrong CT key).

use base64::Engine;

use super::*;
use crate::trust::TrustRoot;

fn case(name: &str) -> std::path::PathBuf {
    std::env::var_os("SIGNET_TESTDATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
        })
        .join("sigstore-conformance/bundle-verify")
        .join(name)
}

/// The case's leaf certificate and trust root (its own, else the public-good root).
fn load(name: &str) -> Option<(Vec<u8>, TrustRoot)> {
    let dir = case(name);
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("bundle.sigstore.json")).ok()?).ok()?;
    let vm = &bundle["verificationMaterial"];
    let raw = vm["certificate"]["rawBytes"]
        .as_str()
        .or_else(|| vm["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str())?;
    let leaf = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
    let root = match std::fs::read(dir.join("trusted_root.json")) {
        Ok(bytes) => TrustRoot::from_trusted_root_json(&bytes).ok()?,
        Err(_) => TrustRoot::public_good().ok()?,
    };
    Some((leaf, root))
}

/// Chains the leaf at its notBefore and checks its SCTs against the root's CT logs.
fn check(leaf: &[u8], root: &TrustRoot) -> Result<(), String> {
    let (anchors, intermediates): (Vec<_>, Vec<_>) = root
        .certificate_authorities
        .iter()
        .cloned()
        .partition(|c| is_self_issued(c));
    let (not_before, _) = validity(leaf)?;
    let chain = build_chain(leaf, &intermediates, &anchors, not_before)?;
    verify_embedded_scts(leaf, &chain[1], &root.ctlogs)
}

#[test]
fn real_fulcio_certificates_chain_and_their_scts_verify() {
    let Some((leaf, root)) = load("happy-path-v0.3") else {
        eprintln!("sigstore-conformance test data not found; skipped");
        return;
    };
    check(&leaf, &root).expect("public-good certificate");
    let id = identity(&leaf).expect("identity");
    assert!(
        id.sans.iter().any(|s| s.starts_with(
            "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
        )),
        "{:?}",
        id.sans
    );
    assert_eq!(
        id.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert!(
        id.extensions.contains_key("githubWorkflowRepository"),
        "{id:?}"
    );
    assert!(id.extensions.contains_key("sourceRepositoryURI"), "{id:?}");

    let (leaf, root) = load("bundle-with-sct-with-extensions").expect("case");
    check(&leaf, &root).expect("an SCT with extensions verifies");

    let (leaf, root) = load("invalid-ct-key_fail").expect("case");
    let err = check(&leaf, &root).expect_err("wrong CT key");
    assert!(err.contains("SCT"), "{err}");
}
