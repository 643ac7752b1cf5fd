//! Kyverno's identity match for keyless attestors (`matchCertificateData`,
//! `matchExtensions`): `subject` is a wildcard pattern and `subjectRegExp` an unanchored
//! regular expression over the certificate's subject alternative names, either one
//! matching; `issuer` (wildcard) and `issuerRegExp` (unanchored) must both match the OIDC
//! issuer; every `additionalExtensions` value is a wildcard pattern over the extension,
//! an absent extension reading as empty text.
//!
//! Two choices differ from Kyverno on purpose: a certificate without subject alternative
//! names fails a subject constraint (Kyverno skips the check), and the Fulcio v2
//! extensions may be named in `additionalExtensions` (Kyverno knows only the GitHub v1
//! ones and `oidcIssuer`).

use signet_policy::wildcard;
use signet_policy::KeylessAttestor;

use crate::x509;

/// `Ok` when the certificate (DER) satisfies the leaf's identity constraints, else why not.
pub(crate) fn match_identity(keyless: &KeylessAttestor, cert: Option<&[u8]>) -> Result<(), String> {
    let constrained = keyless.subject.is_some()
        || keyless.subject_regexp.is_some()
        || keyless.issuer.is_some()
        || keyless.issuer_regexp.is_some()
        || !keyless.additional_extensions.is_empty();
    if !constrained {
        return Ok(());
    }
    let cert = cert.ok_or("the signature carries no certificate to match the keyless identity")?;
    let id = x509::identity(cert)?;

    if keyless.subject.is_some() || keyless.subject_regexp.is_some() {
        let expected = match (&keyless.subject, &keyless.subject_regexp) {
            (Some(s), Some(r)) => format!("subject {s} or subjectRegExp {}", r.as_str()),
            (Some(s), None) => format!("subject {s}"),
            (None, Some(r)) => format!("subjectRegExp {}", r.as_str()),
            (None, None) => String::new(),
        };
        if id.sans.is_empty() {
            return Err(format!(
                "the certificate has no subject alternative name to match {expected}"
            ));
        }
        let by_wildcard = keyless
            .subject
            .as_ref()
            .is_some_and(|p| id.sans.iter().any(|san| wildcard::matches(p, san)));
        let by_regexp = keyless
            .subject_regexp
            .as_ref()
            .is_some_and(|re| id.sans.iter().any(|san| re.is_match(san)));
        if !by_wildcard && !by_regexp {
            return Err(format!(
                "certificate identity {} does not match {expected}",
                id.sans.join(", ")
            ));
        }
    }

    let issuer = id.issuer.as_deref().unwrap_or_default();
    let shown = if issuer.is_empty() { "(none)" } else { issuer };
    if let Some(pattern) = &keyless.issuer {
        if !wildcard::matches(pattern, issuer) {
            return Err(format!(
                "certificate issuer {shown} does not match issuer {pattern}"
            ));
        }
    }
    if let Some(re) = &keyless.issuer_regexp {
        if !re.is_match(issuer) {
            return Err(format!(
                "certificate issuer {shown} does not match issuerRegExp {}",
                re.as_str()
            ));
        }
    }

    for (name, pattern) in &keyless.additional_extensions {
        let value = id
            .extensions
            .get(name)
            .map(String::as_str)
            .unwrap_or_default();
        if !wildcard::matches(pattern, value) {
            let shown = if value.is_empty() { "absent" } else { value };
            return Err(format!(
                "certificate extension {name} is {shown}, expected {pattern}"
            ));
        }
    }
    Ok(())
}
