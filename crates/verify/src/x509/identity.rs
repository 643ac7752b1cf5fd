//! Who a Fulcio certificate names: its subject alternative names, the OIDC issuer and the
//! other Fulcio extensions (<https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md>).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use x509_parser::extensions::GeneralName;

use super::{der, parse};

/// The Fulcio OID arc, `1.3.6.1.4.1.57264.1`.
const FULCIO_ARC: &str = "1.3.6.1.4.1.57264.1.";

/// Fulcio's v1 extensions, whose value is the raw string (no DER wrapping).
const V1: &[(&str, &str)] = &[
    ("2", "githubWorkflowTrigger"),
    ("3", "githubWorkflowSha"),
    ("4", "githubWorkflowName"),
    ("5", "githubWorkflowRepository"),
    ("6", "githubWorkflowRef"),
];

/// Fulcio's v2 extensions, whose value is a DER UTF8String.
const V2: &[(&str, &str)] = &[
    ("9", "buildSignerURI"),
    ("10", "buildSignerDigest"),
    ("11", "runnerEnvironment"),
    ("12", "sourceRepositoryURI"),
    ("13", "sourceRepositoryDigest"),
    ("14", "sourceRepositoryRef"),
    ("15", "sourceRepositoryIdentifier"),
    ("16", "sourceRepositoryOwnerURI"),
    ("17", "sourceRepositoryOwnerIdentifier"),
    ("18", "buildConfigURI"),
    ("19", "buildConfigDigest"),
    ("20", "buildTrigger"),
    ("21", "runInvocationURI"),
    ("22", "sourceRepositoryVisibilityAtSigning"),
];

/// Fulcio's username SAN (an otherName).
const USERNAME_OID: &str = "1.3.6.1.4.1.57264.1.7";

/// The identity a signing certificate vouches for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateIdentity {
    /// Subject alternative names in cosign's order (`cryptoutils.GetSubjectAlternateNames`):
    /// Fulcio's username otherName, DNS names, email addresses, IP addresses, URIs.
    pub sans: Vec<String>,
    /// The OIDC issuer: extension `1.3.6.1.4.1.57264.1.1` (raw bytes, what cosign's
    /// `CertExtensions.GetIssuer` reads), else `1.3.6.1.4.1.57264.1.8` (UTF8String).
    pub issuer: Option<String>,
    /// Every Fulcio extension present, by the names `additionalExtensions` uses
    /// (`githubWorkflowTrigger`, …, `sourceRepositoryVisibilityAtSigning`, and `issuer`
    /// for the issuer above). Extensions that cannot be read as text are left out.
    pub extensions: BTreeMap<String, String>,
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// End of validity, Unix seconds.
    pub not_after: i64,
}

/// Reads the identity of a DER certificate. The certificate is not validated: call
/// [`super::verify_chain`] first.
pub fn identity(leaf_der: &[u8]) -> Result<CertificateIdentity, String> {
    let cert = parse(leaf_der, "signing certificate")?;
    let mut id = CertificateIdentity {
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        ..CertificateIdentity::default()
    };
    let san = cert
        .subject_alternative_name()
        .map_err(|e| format!("signing certificate: unreadable subject alternative names: {e}"))?;
    let names = san.map(|s| s.value.general_names.as_slice()).unwrap_or(&[]);
    let (mut other, mut dns, mut email, mut ip, mut uri) = (vec![], vec![], vec![], vec![], vec![]);
    for name in names {
        match name {
            GeneralName::OtherName(oid, value) if oid.to_id_string() == USERNAME_OID => {
                if let Some(s) = der::read(value).and_then(|(e, _)| der::string(e.content)) {
                    other.push(s);
                }
            }
            GeneralName::DNSName(s) => dns.push((*s).to_owned()),
            GeneralName::RFC822Name(s) => email.push((*s).to_owned()),
            GeneralName::IPAddress(bytes) => ip.extend(ip_text(bytes)),
            GeneralName::URI(s) => uri.push((*s).to_owned()),
            _ => {}
        }
    }
    id.sans = [other, dns, email, ip, uri].concat();

    let (mut v1_issuer, mut v2_issuer) = (None, None);
    for ext in cert.extensions() {
        let oid = ext.oid.to_id_string();
        let Some(arc) = oid.strip_prefix(FULCIO_ARC) else {
            continue;
        };
        if arc == "1" {
            v1_issuer = Some(String::from_utf8_lossy(ext.value).into_owned());
        } else if arc == "8" {
            v2_issuer = der::string(ext.value);
        } else if let Some((_, name)) = V1.iter().find(|(a, _)| *a == arc) {
            let value = String::from_utf8_lossy(ext.value).into_owned();
            id.extensions.insert((*name).to_owned(), value);
        } else if let Some((_, name)) = V2.iter().find(|(a, _)| *a == arc) {
            if let Some(value) = der::string(ext.value) {
                id.extensions.insert((*name).to_owned(), value);
            }
        }
    }
    id.issuer = v1_issuer.or(v2_issuer);
    if let Some(issuer) = &id.issuer {
        id.extensions.insert("issuer".to_owned(), issuer.clone());
    }
    Ok(id)
}

/// An IP address SAN as Go's `net.IP.String` writes it.
fn ip_text(bytes: &[u8]) -> Option<String> {
    let addr = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => {
            let v6 = Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?);
            // Go prints IPv4-mapped addresses in dotted form.
            match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            }
        }
        _ => return None,
    };
    Some(addr.to_string())
}
