//! What one `SigstoreBundle` leaf trusts and whom it accepts: the trust root with the
//! leaf's own `roots`, `rekor.pubkey`, `ctlog.pubkey` and `ctlog.tsaCertChain` in place of
//! the root's, and the keyless identity with sigstore-go's matching (Kyverno builds a
//! `ShortCertificateIdentity`): `subject` and `issuer` are exact values, `subjectRegExp`
//! and `issuerRegExp` unanchored regular expressions, and every one given must match.

use std::sync::Arc;

use signet_policy::pem_material::Certificate;
use signet_policy::{wildcard, CtLog, KeylessAttestor, Rekor};

use crate::bundle::IdentityCheck;
use crate::crypto::VerificationKey;
use crate::trust::{CertificateAuthority, TrustRoot, ValidityPeriod};
use crate::x509::CertificateIdentity;

/// The trust of a leaf, from `base`; `Err(why)` when the leaf's own material is unusable
/// or, for a certificate leaf (`keyless`), lacks what the check needs.
pub(crate) fn leaf_trust(
    base: &TrustRoot,
    roots: &[Certificate],
    rekor: Option<&Rekor>,
    ctlog: Option<&CtLog>,
    keyless: bool,
) -> Result<TrustRoot, String> {
    let mut trust = base.clone();
    if !roots.is_empty() {
        trust.certificate_authorities = roots.iter().map(|c| c.der.clone()).collect();
        trust.authorities.clear();
    }
    if let Some((r, pem)) = rekor.and_then(|r| r.pubkey.as_ref().map(|k| (r, k))) {
        let key = VerificationKey::from_public_key(pem)
            .map_err(|e| format!("rekor.pubkey is unusable: {e}"))?;
        trust.tlogs = TrustRoot::with_rekor_key(key, &r.url).tlogs;
    }
    if let Some(c) = ctlog {
        if let Some(pem) = &c.pubkey {
            let key = VerificationKey::from_public_key(pem)
                .map_err(|e| format!("ctlog.pubkey is unusable: {e}"))?;
            trust.ctlogs = TrustRoot::with_rekor_key(key, "ctlog.pubkey").tlogs;
        }
        if !c.tsa_cert_chain.is_empty() {
            trust.timestamp_authorities = vec![CertificateAuthority {
                uri: "ctlog.tsaCertChain".into(),
                chain: c.tsa_cert_chain.iter().map(|c| c.der.clone()).collect(),
                valid_for: ValidityPeriod::ALWAYS,
            }];
        }
    }
    if keyless {
        if ctlog.is_some_and(|c| c.ignore_sct) {
            trust.ctlogs.clear();
        } else if trust.ctlogs.is_empty() {
            return Err(
                "the certificate's SCTs must be checked, but the trust root has no \
                        certificate-transparency log: set ctlog.pubkey or ctlog.ignoreSCT"
                    .into(),
            );
        }
        if trust.certificate_authorities.is_empty() && trust.authorities.is_empty() {
            return Err(
                "no Fulcio root certificates to check the signing certificate \
                        against: set keyless.roots, or use a trust root with certificate \
                        authorities"
                    .into(),
            );
        }
    }
    Ok(trust)
}

/// The identity rule of a keyless leaf, for [`crate::bundle::Signer::Certificate`].
pub(crate) fn keyless_identity(keyless: &KeylessAttestor) -> IdentityCheck {
    let keyless = keyless.clone();
    Arc::new(move |id: &CertificateIdentity| match_identity(&keyless, id))
}

fn match_identity(k: &KeylessAttestor, id: &CertificateIdentity) -> Result<(), String> {
    let sans = if id.sans.is_empty() {
        "(none)".to_owned()
    } else {
        id.sans.join(", ")
    };
    if let Some(subject) = &k.subject {
        if !id.sans.iter().any(|s| s == subject) {
            return Err(format!(
                "certificate identity {sans} is not subject {subject}"
            ));
        }
    }
    if let Some(re) = &k.subject_regexp {
        if !id.sans.iter().any(|s| re.is_match(s)) {
            return Err(format!(
                "certificate identity {sans} does not match subjectRegExp {}",
                re.as_str()
            ));
        }
    }
    let issuer = id.issuer.as_deref().unwrap_or_default();
    let shown = if issuer.is_empty() { "(none)" } else { issuer };
    if let Some(expected) = &k.issuer {
        if issuer != expected {
            return Err(format!(
                "certificate issuer {shown} is not issuer {expected}"
            ));
        }
    }
    if let Some(re) = &k.issuer_regexp {
        if !re.is_match(issuer) {
            return Err(format!(
                "certificate issuer {shown} does not match issuerRegExp {}",
                re.as_str()
            ));
        }
    }
    for (name, pattern) in &k.additional_extensions {
        let value = id.extensions.get(name).map(String::as_str).unwrap_or("");
        if !wildcard::matches(pattern, value) {
            let shown = if value.is_empty() { "absent" } else { value };
            return Err(format!(
                "certificate extension {name} is {shown}, expected {pattern}"
            ));
        }
    }
    Ok(())
}
