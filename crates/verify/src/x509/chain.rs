//! Certificate paths from a signing certificate to a trusted root, with the rules of Go's
//! `crypto/x509` `Certificate.Verify` as cosign calls it (`TrustedCert`: roots,
//! intermediates, extended key usage code signing): issuers are matched by name and must
//! have signed; every certificate is valid at the given time; intermediates are CAs; path
//! length constraints hold; every certificate's extended key usage, when present, allows
//! code signing; unknown critical extensions are refused. Beyond Go, a CA whose key usage
//! is present must allow certificate signing, a leaf whose key usage is present must allow
//! digital signatures, and name constraints are refused rather than ignored.

use x509_parser::certificate::X509Certificate;

use super::signature::check_signature;
use super::{parse, time_text};

/// At most this many intermediates, as Kyverno caps user-supplied chains.
pub const MAX_INTERMEDIATES: usize = 10;

/// At most this many signature checks per path search, as Go's `maxChainSignatureChecks`.
const MAX_SIGNATURE_CHECKS: usize = 100;

/// Critical extensions Go's `crypto/x509` understands (name constraints are refused apart).
const KNOWN_CRITICAL: &[&str] = &[
    "2.5.29.14",         // subject key identifier
    "2.5.29.15",         // key usage
    "2.5.29.17",         // subject alternative name
    "2.5.29.19",         // basic constraints
    "2.5.29.30",         // name constraints
    "2.5.29.31",         // CRL distribution points
    "2.5.29.32",         // certificate policies
    "2.5.29.33",         // policy mappings
    "2.5.29.35",         // authority key identifier
    "2.5.29.36",         // policy constraints
    "2.5.29.37",         // extended key usage
    "2.5.29.54",         // inhibit any policy
    "1.3.6.1.5.5.7.1.1", // authority information access
];

/// Checks that `leaf_der` chains to one of `roots` through `intermediates` (all DER), with
/// every certificate valid at `at_unix`. See the module documentation for the rules.
pub fn verify_chain(
    leaf_der: &[u8],
    intermediates: &[Vec<u8>],
    roots: &[Vec<u8>],
    at_unix: i64,
) -> Result<(), String> {
    build_chain(leaf_der, intermediates, roots, at_unix).map(|_| ())
}

/// Like [`verify_chain`], returning the path found: the leaf first, the trusted root last.
/// `chain[1]`, when present, is the leaf's issuer (for [`super::verify_embedded_scts`]).
pub fn build_chain(
    leaf_der: &[u8],
    intermediates: &[Vec<u8>],
    roots: &[Vec<u8>],
    at_unix: i64,
) -> Result<Vec<Vec<u8>>, String> {
    let leaf = parse(leaf_der, "signing certificate")?;
    check_time(&leaf, at_unix, "signing certificate")?;
    check_critical(&leaf, "signing certificate")?;
    check_leaf_usage(&leaf)?;
    if roots.is_empty() {
        return Err("no trusted root certificates are configured".into());
    }
    if intermediates.len() > MAX_INTERMEDIATES {
        return Err(format!(
            "{} intermediate certificates given; at most {MAX_INTERMEDIATES} are accepted",
            intermediates.len()
        ));
    }
    if roots.iter().any(|r| r.as_slice() == leaf_der) {
        return Ok(vec![leaf_der.to_vec()]);
    }
    let roots = roots
        .iter()
        .map(|d| parse(d, "trusted root certificate"))
        .collect::<Result<Vec<_>, _>>()?;
    let intermediates = intermediates
        .iter()
        .map(|d| parse(d, "intermediate certificate"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut search = Search {
        roots: &roots,
        intermediates: &intermediates,
        at: at_unix,
        checks: 0,
        reasons: Vec::new(),
    };
    let mut path = vec![&leaf];
    if search.extend(&mut path) {
        return Ok(path.iter().map(|c| c.as_raw().to_vec()).collect());
    }
    let mut reasons = search.reasons;
    reasons.dedup();
    Err(format!(
        "the signing certificate does not chain to a trusted root: {}",
        reasons.join("; ")
    ))
}

struct Search<'p, 'a> {
    roots: &'p [X509Certificate<'a>],
    intermediates: &'p [X509Certificate<'a>],
    at: i64,
    checks: usize,
    reasons: Vec<String>,
}

impl<'p, 'a> Search<'p, 'a> {
    /// Extends `path` (leaf first) to a trusted root, depth first.
    fn extend(&mut self, path: &mut Vec<&'p X509Certificate<'a>>) -> bool {
        let Some(&child) = path.last() else {
            return false;
        };
        let below = path.len() - 1;
        let named = |c: &&X509Certificate<'_>| c.subject().as_raw() == child.issuer().as_raw();
        if !self.roots.iter().any(|c| named(&c)) && !self.intermediates.iter().any(|c| named(&c)) {
            let who = if below == 0 {
                "the signing certificate".to_owned()
            } else {
                format!("intermediate {}", child.subject())
            };
            self.reasons.push(format!(
                "{who} was issued by {}, which is neither a trusted root nor a given intermediate",
                child.issuer()
            ));
            return false;
        }
        for root in self.roots {
            if root.subject().as_raw() != child.issuer().as_raw() {
                continue;
            }
            match self.issued(child, root, below, "trusted root") {
                Ok(()) => {
                    path.push(root);
                    return true;
                }
                Err(why) => self.reasons.push(why),
            }
        }
        if below >= MAX_INTERMEDIATES {
            return false;
        }
        for ca in self.intermediates {
            if ca.subject().as_raw() != child.issuer().as_raw()
                || path.iter().any(|c| c.as_raw() == ca.as_raw())
            {
                continue;
            }
            if let Err(why) = check_is_ca(ca) {
                self.reasons.push(why);
                continue;
            }
            match self.issued(child, ca, below, "intermediate") {
                Ok(()) => {
                    path.push(ca);
                    if self.extend(path) {
                        return true;
                    }
                    path.pop();
                }
                Err(why) => self.reasons.push(why),
            }
        }
        false
    }

    /// Whether `issuer` (with `below` intermediates under it) may have issued `child`.
    fn issued(
        &mut self,
        child: &X509Certificate<'_>,
        issuer: &X509Certificate<'_>,
        below: usize,
        kind: &str,
    ) -> Result<(), String> {
        let what = format!("{kind} {}", issuer.subject());
        self.checks += 1;
        if self.checks > MAX_SIGNATURE_CHECKS {
            return Err("the certificate chain needs too many signature checks".into());
        }
        check_signature(child, issuer).map_err(|e| format!("{what}: {e}"))?;
        check_time(issuer, self.at, &what)?;
        check_critical(issuer, &what)?;
        if issuer.name_constraints().ok().flatten().is_some() {
            return Err(format!(
                "{what} has name constraints, which Signet does not support"
            ));
        }
        if let Ok(Some(bc)) = issuer.basic_constraints() {
            if let Some(max) = bc.value.path_len_constraint {
                if below > max as usize {
                    return Err(format!(
                        "{what} allows {max} intermediates below it, the chain has {below}"
                    ));
                }
            }
        }
        if let Ok(Some(ku)) = issuer.key_usage() {
            if !ku.value.key_cert_sign() {
                return Err(format!(
                    "{what}: key usage does not allow certificate signing"
                ));
            }
        }
        check_code_signing(issuer, &what)
    }
}

fn check_is_ca(cert: &X509Certificate<'_>) -> Result<(), String> {
    match cert.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => Ok(()),
        _ => Err(format!(
            "intermediate {} is not a CA (basic constraints)",
            cert.subject()
        )),
    }
}

fn check_time(cert: &X509Certificate<'_>, at: i64, what: &str) -> Result<(), String> {
    let (from, to) = (
        cert.validity().not_before.timestamp(),
        cert.validity().not_after.timestamp(),
    );
    if at < from {
        return Err(format!(
            "{what} is not valid before {} (checked at {})",
            time_text(from),
            time_text(at)
        ));
    }
    if at > to {
        return Err(format!(
            "{what} expired at {} (checked at {})",
            time_text(to),
            time_text(at)
        ));
    }
    Ok(())
}

fn check_critical(cert: &X509Certificate<'_>, what: &str) -> Result<(), String> {
    match cert
        .extensions()
        .iter()
        .find(|e| e.critical && !KNOWN_CRITICAL.contains(&e.oid.to_id_string().as_str()))
    {
        Some(e) => Err(format!(
            "{what} has an unknown critical extension {}",
            e.oid
        )),
        None => Ok(()),
    }
}

/// Go's rule: an extended key usage extension, when present, must name code signing or
/// any usage; a certificate without one allows every usage.
fn check_code_signing(cert: &X509Certificate<'_>, what: &str) -> Result<(), String> {
    match cert.extended_key_usage() {
        Ok(None) => Ok(()),
        Ok(Some(eku)) if eku.value.code_signing || eku.value.any => Ok(()),
        Ok(Some(_)) => Err(format!(
            "{what}: extended key usage does not allow code signing"
        )),
        Err(e) => Err(format!("{what}: unreadable extended key usage: {e}")),
    }
}

fn check_leaf_usage(leaf: &X509Certificate<'_>) -> Result<(), String> {
    check_code_signing(leaf, "signing certificate")?;
    match leaf.key_usage() {
        Ok(Some(ku)) if !ku.value.digital_signature() => {
            Err("signing certificate: key usage does not allow digital signatures".into())
        }
        Ok(_) => Ok(()),
        Err(e) => Err(format!("signing certificate: unreadable key usage: {e}")),
    }
}
