//! X.509 for keyless and certificate signatures: certificate paths to trusted Fulcio roots
//! ([`verify_chain`], [`build_chain`]), the identity a Fulcio certificate vouches for
//! ([`identity`]), and the certificate-transparency timestamps embedded in it
//! ([`verify_embedded_scts`]).
//!
//! Parsing is `x509-parser`'s; signatures are checked with
//! [`crate::crypto::VerificationKey`] (aws-lc-rs). Every function takes DER and answers
//! `Err` with a sentence a person can act on. Nothing here knows about policies: matching
//! an identity against `subject`/`issuer` is the engine's.
//!
//! The order cosign follows, and the engine with it:
//!
//! 1. [`build_chain`] at the certificate's own `notBefore` (cosign's `TrustedCert` treats
//!    a chain as trusted forever and checks the signing time separately);
//! 2. [`identity`] against the policy;
//! 3. [`verify_embedded_scts`] with `chain[1]` as issuer, unless SCTs are ignored;
//! 4. the signing time (a Rekor entry's integrated time) within `not_before..=not_after`
//!    of the certificate and of its issuers.

mod chain;
mod der;
mod identity;
mod sct;
mod signature;

#[cfg(test)]
mod conformance_tests;
#[cfg(test)]
mod tests;

pub use chain::{build_chain, verify_chain, MAX_INTERMEDIATES};
pub use identity::{identity, CertificateIdentity};
pub use sct::{has_embedded_scts, verify_embedded_scts};

use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

/// The DER of every certificate in a PEM text (a signature's certificate or chain
/// annotation, a policy's `roots`).
pub fn certificates_from_pem(text: &str) -> Result<Vec<Vec<u8>>, String> {
    signet_policy::pem_material::parse_certificates(text)
        .map(|certs| certs.into_iter().map(|c| c.der).collect())
}

/// Validity bounds `(not_before, not_after)` of a DER certificate, Unix seconds.
pub fn validity(der: &[u8]) -> Result<(i64, i64), String> {
    let cert = parse(der, "certificate")?;
    Ok((
        cert.validity().not_before.timestamp(),
        cert.validity().not_after.timestamp(),
    ))
}

/// Whether a DER certificate names itself as issuer (a root, as cosign and Kyverno tell
/// roots from intermediates). Unreadable DER is not self-issued.
pub fn is_self_issued(der: &[u8]) -> bool {
    parse(der, "certificate").is_ok_and(|c| c.subject().as_raw() == c.issuer().as_raw())
}

/// Parses one DER certificate; `what` names it in the error.
pub(crate) fn parse<'a>(der: &'a [u8], what: &str) -> Result<X509Certificate<'a>, String> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(format!("{what}: trailing bytes after the certificate")),
        Err(e) => Err(format!("{what}: not a DER X.509 certificate: {e}")),
    }
}

/// RFC 3339 text of a Unix time, for messages.
pub(crate) fn time_text(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| unix.to_string())
}
