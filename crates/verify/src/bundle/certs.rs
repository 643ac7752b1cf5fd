//! The signing certificate of a keyless bundle, through [`crate::x509`]: issued by a Fulcio
//! CA of the trust root valid at issuance and at every verified signing time, valid itself
//! at those times, logged in certificate transparency, and issued to the expected identity.

use std::borrow::Cow;

use super::error::{BundleError, Classify, FailureClass};
use crate::trust::{CertificateAuthority, TrustRoot, ValidityPeriod};
use crate::x509::{self, CertificateIdentity};

fn err(class: FailureClass, msg: impl Into<String>) -> BundleError {
    BundleError::new(class, msg)
}

fn time_text(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| unix.to_string())
}

/// The trust root's CA chains; a root built with only the flat certificate list (a policy's
/// `roots`) gives one chain per self-issued certificate, with the others as intermediates.
fn authorities(trust: &TrustRoot) -> Cow<'_, [CertificateAuthority]> {
    if !trust.authorities.is_empty() {
        return Cow::Borrowed(&trust.authorities);
    }
    let (roots, intermediates): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) = trust
        .certificate_authorities
        .iter()
        .partition(|c| super::der::is_self_issued(c));
    Cow::Owned(
        roots
            .into_iter()
            .map(|root| CertificateAuthority {
                uri: "configured root".into(),
                chain: intermediates
                    .iter()
                    .chain([&root])
                    .map(|c| c.to_vec())
                    .collect(),
                valid_for: ValidityPeriod::ALWAYS,
            })
            .collect(),
    )
}

/// The path (leaf first, root last) from `leaf` to a CA of the trust root valid at `at`.
fn chain_at(leaf: &[u8], trust: &TrustRoot, at: i64) -> Result<Vec<Vec<u8>>, BundleError> {
    let mut reasons = Vec::new();
    for ca in authorities(trust).iter() {
        let Some(root) = ca.root() else { continue };
        match x509::build_chain(leaf, ca.intermediates(), &[root.to_vec()], at) {
            Ok(path) if ca.valid_for.contains(at) => return Ok(path),
            Ok(_) => reasons.push(format!(
                "the CA {} was not valid at {} in the trust root",
                ca.uri,
                time_text(at)
            )),
            Err(e) => reasons.push(e),
        }
    }
    if reasons.is_empty() {
        return Err(err(
            FailureClass::Certificate,
            "the trust root has no certificate authority",
        ));
    }
    reasons.dedup();
    Err(err(
        FailureClass::Certificate,
        format!(
            "the signing certificate does not chain to a trusted CA at {}: {}",
            time_text(at),
            reasons.join("; ")
        ),
    ))
}

/// The conformance rule: exactly this SAN, exactly this OIDC issuer.
pub(crate) fn exact_identity(
    id: &CertificateIdentity,
    identity: &str,
    issuer: &str,
) -> Result<(), String> {
    if !id.sans.iter().any(|s| s == identity) {
        let sans = if id.sans.is_empty() {
            "no identity".to_owned()
        } else {
            format!("{:?}", id.sans)
        };
        return Err(format!(
            "the certificate is issued to {sans}, not {identity:?}"
        ));
    }
    if id.issuer.as_deref() != Some(issuer) {
        return Err(format!(
            "the certificate's OIDC issuer is {:?}, not {issuer:?}",
            id.issuer.as_deref().unwrap_or("absent")
        ));
    }
    Ok(())
}

/// Verifies the certificate at its issuance and at `times` (all verified signing times, at
/// least one) and returns the identity it vouches for, which `accept` must accept.
pub(crate) fn verify(
    leaf: &[u8],
    times: &[i64],
    trust: &TrustRoot,
    accept: &dyn Fn(&CertificateIdentity) -> Result<(), String>,
) -> Result<CertificateIdentity, BundleError> {
    let id = x509::identity(leaf).class(FailureClass::Certificate)?;
    // Issued by a CA valid at issuance (as sigstore-python checks) ...
    let path = chain_at(leaf, trust, id.not_before)?;
    for &t in times {
        if t < id.not_before || t > id.not_after {
            return Err(err(
                FailureClass::SigningTime,
                format!(
                    "signed at {}, outside the signing certificate's validity ({} to {})",
                    time_text(t),
                    time_text(id.not_before),
                    time_text(id.not_after)
                ),
            ));
        }
        // ... and at every trusted signing time (as sigstore-go checks).
        chain_at(leaf, trust, t)?;
    }
    if !trust.ctlogs.is_empty() {
        let issuer_der = path.get(1).ok_or_else(|| {
            err(
                FailureClass::CertificateTransparency,
                "the signing certificate is itself a trusted root: it has no issuer for its SCTs",
            )
        })?;
        x509::verify_embedded_scts(leaf, issuer_der, &trust.ctlogs)
            .class(FailureClass::CertificateTransparency)?;
    }
    accept(&id).class(FailureClass::Identity)?;
    Ok(id)
}
