//! RFC 3161 timestamps (`TimeStampResp` or bare `TimeStampToken`, CMS `SignedData` over a
//! `TSTInfo`): the token must cover the bundle's signature, be signed by a timestamp
//! authority of the trust root (its signing certificate, pinned as the first of the
//! authority's chain), inside the authority's `validFor` and the validity of every
//! certificate of its chain. Certificates embedded in the token are never trusted for
//! themselves: when present, they must include the authority's own certificate.

use aws_lc_rs::digest;
use signet_policy::SignatureAlgorithm;

use super::der::{self, Element, GENERALIZED_TIME, OCTET_STRING, OID, SEQUENCE, SET};
use crate::crypto::VerificationKey;
use crate::trust::{CertificateAuthority, TrustRoot};

const SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
const ATTR_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
const ATTR_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";

/// What the token says and what its signature covers.
struct Token<'a> {
    /// `(hash, hashedMessage)` of the message imprint.
    imprint: (SignatureAlgorithm, &'a [u8]),
    gen_time: i64,
    /// Certificates embedded in the token (DER).
    certificates: Vec<&'a [u8]>,
    /// The bytes the signature covers (DER of the signed attributes as a SET).
    signed_bytes: Vec<u8>,
    signature_hash: SignatureAlgorithm,
    signature: &'a [u8],
}

fn hash_of_oid(oid: &str) -> Option<SignatureAlgorithm> {
    match oid {
        "2.16.840.1.101.3.4.2.1" | "1.2.840.10045.4.3.2" | "1.2.840.113549.1.1.11" => {
            Some(SignatureAlgorithm::Sha256)
        }
        "2.16.840.1.101.3.4.2.2" | "1.2.840.10045.4.3.3" | "1.2.840.113549.1.1.12" => {
            Some(SignatureAlgorithm::Sha384)
        }
        "2.16.840.1.101.3.4.2.3" | "1.2.840.10045.4.3.4" | "1.2.840.113549.1.1.13" => {
            Some(SignatureAlgorithm::Sha512)
        }
        _ => None,
    }
}

fn hash(alg: SignatureAlgorithm, data: &[u8]) -> Vec<u8> {
    let alg = match alg {
        SignatureAlgorithm::Sha224 => &digest::SHA224,
        SignatureAlgorithm::Sha256 => &digest::SHA256,
        SignatureAlgorithm::Sha384 => &digest::SHA384,
        SignatureAlgorithm::Sha512 => &digest::SHA512,
    };
    digest::digest(alg, data).as_ref().to_vec()
}

/// The OID of an AlgorithmIdentifier.
fn algorithm(e: &Element<'_>) -> Option<String> {
    let parts = der::children_of(e, SEQUENCE)?;
    let oid = parts.first().filter(|o| o.tag == OID)?;
    der::oid_text(oid.content)
}

/// The values of attribute `oid` in a list of attributes.
fn attribute<'a>(attrs: &[Element<'a>], oid: &str) -> Option<Element<'a>> {
    attrs.iter().find_map(|a| {
        let parts = der::children_of(a, SEQUENCE)?;
        let id = der::oid_text(parts.first()?.content)?;
        let values = der::children_of(parts.get(1)?, SET)?;
        (id == oid).then(|| values.first().copied())?
    })
}

fn parse_tst_info(content: &[u8]) -> Option<((SignatureAlgorithm, &[u8]), i64)> {
    let info = der::exactly(content)?;
    let fields = der::children_of(&info, SEQUENCE)?;
    // version, policy, messageImprint, serialNumber, genTime, ...
    let imprint = der::children_of(fields.get(2)?, SEQUENCE)?;
    let alg = hash_of_oid(&algorithm(imprint.first()?)?)?;
    let hashed = imprint.get(1).filter(|h| h.tag == OCTET_STRING)?.content;
    let gen_time = fields.get(4).filter(|t| t.tag == GENERALIZED_TIME)?;
    Some(((alg, hashed), der::generalized_time(gen_time.content)?))
}

fn parse(bytes: &[u8]) -> Result<Token<'_>, String> {
    let malformed = || "the RFC 3161 timestamp is malformed".to_owned();
    let top = der::exactly(bytes).ok_or_else(malformed)?;
    let mut parts = der::children_of(&top, SEQUENCE).ok_or_else(malformed)?;
    if parts.first().is_some_and(|p| p.tag == SEQUENCE) {
        // TimeStampResp: PKIStatusInfo, then the token.
        let status = der::children_of(&parts[0], SEQUENCE).ok_or_else(malformed)?;
        let granted = status
            .first()
            .is_some_and(|s| s.content == [0] || s.content == [1]);
        if !granted {
            return Err("the timestamp response does not grant a timestamp".into());
        }
        let token = parts.get(1).ok_or("the timestamp response has no token")?;
        parts = der::children_of(token, SEQUENCE).ok_or_else(malformed)?;
    }
    let content_type = parts.first().and_then(|o| der::oid_text(o.content));
    if content_type.as_deref() != Some(SIGNED_DATA) {
        return Err("the timestamp token is not CMS SignedData".into());
    }
    let wrapped = parts
        .get(1)
        .filter(|e| e.tag == 0xa0)
        .ok_or_else(malformed)?;
    let signed_data = der::exactly(wrapped.content).ok_or_else(malformed)?;
    let sd = der::children_of(&signed_data, SEQUENCE).ok_or_else(malformed)?;
    let encap =
        der::children_of(sd.get(2).ok_or_else(malformed)?, SEQUENCE).ok_or_else(malformed)?;
    if encap
        .first()
        .and_then(|o| der::oid_text(o.content))
        .as_deref()
        != Some(TST_INFO)
    {
        return Err("the timestamp token does not hold a TSTInfo".into());
    }
    let econtent = encap
        .get(1)
        .filter(|e| e.tag == 0xa0)
        .and_then(|e| der::exactly(e.content))
        .filter(|e| e.tag == OCTET_STRING)
        .ok_or_else(malformed)?
        .content;
    let (imprint, gen_time) = parse_tst_info(econtent).ok_or("the TSTInfo is malformed")?;
    let certificates = sd
        .iter()
        .find(|e| e.tag == 0xa0)
        .and_then(|e| der::children(e.content))
        .unwrap_or_default()
        .iter()
        .map(|c| c.whole)
        .collect();
    let signer_infos =
        der::children_of(sd.last().ok_or_else(malformed)?, SET).ok_or_else(malformed)?;
    let [signer] = signer_infos.as_slice() else {
        return Err(format!(
            "the timestamp has {} signers, one is required",
            signer_infos.len()
        ));
    };
    let si = der::children_of(signer, SEQUENCE).ok_or_else(malformed)?;
    // version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature
    let digest_alg = si.get(2).and_then(algorithm).and_then(|o| hash_of_oid(&o));
    let digest_alg = digest_alg.ok_or("the timestamp's digest algorithm is not supported")?;
    let attrs = si
        .get(3)
        .filter(|e| e.tag == 0xa0)
        .ok_or("the timestamp has no signed attributes")?;
    let attr_list = der::children(attrs.content).ok_or_else(malformed)?;
    let content_type =
        attribute(&attr_list, ATTR_CONTENT_TYPE).and_then(|o| der::oid_text(o.content));
    if content_type.as_deref() != Some(TST_INFO) {
        return Err("the timestamp's signed content type is not TSTInfo".into());
    }
    let message_digest = attribute(&attr_list, ATTR_MESSAGE_DIGEST).ok_or_else(malformed)?;
    if message_digest.content != hash(digest_alg, econtent).as_slice() {
        return Err("the timestamp's signed digest is not that of its TSTInfo".into());
    }
    let sig_alg = si.get(4).and_then(algorithm).ok_or_else(malformed)?;
    let signature = si
        .get(5)
        .filter(|e| e.tag == OCTET_STRING)
        .ok_or_else(malformed)?;
    // The signature covers the signed attributes with their SET tag, not the [0] tag.
    let mut signed_bytes = attrs.whole.to_vec();
    signed_bytes[0] = SET;
    Ok(Token {
        imprint,
        gen_time,
        certificates,
        signed_bytes,
        signature_hash: hash_of_oid(&sig_alg).unwrap_or(digest_alg),
        signature: signature.content,
    })
}

/// Whether `authority` made `token`; `Err` says why not.
fn made_by(token: &Token<'_>, authority: &CertificateAuthority) -> Result<(), String> {
    let signer = authority
        .chain
        .first()
        .ok_or("the authority has no certificate")?;
    if !token.certificates.is_empty() && !token.certificates.contains(&signer.as_slice()) {
        return Err(format!(
            "{}: the certificates embedded in the token do not include this authority's",
            authority.uri
        ));
    }
    let key = VerificationKey::from_certificate_der(signer).map_err(|e| e.to_string())?;
    key.verify(&token.signed_bytes, token.signature, token.signature_hash)
        .map_err(|_| format!("{}: not signed by this authority", authority.uri))?;
    if !authority.valid_for.contains(token.gen_time) {
        return Err(format!(
            "{}: the timestamp ({}) is outside the authority's validity in the trust root",
            authority.uri, token.gen_time
        ));
    }
    for cert in &authority.chain {
        let (from, to) = crate::x509::validity(cert)?;
        if token.gen_time < from || token.gen_time > to {
            return Err(format!(
                "{}: a certificate of the authority's chain was not valid at the timestamp ({})",
                authority.uri, token.gen_time
            ));
        }
    }
    Ok(())
}

/// Verifies one timestamp over `signature` and returns its time (Unix seconds).
pub(crate) fn verify(bytes: &[u8], signature: &[u8], trust: &TrustRoot) -> Result<i64, String> {
    let token = parse(bytes)?;
    let (alg, hashed) = token.imprint;
    if hash(alg, signature) != hashed {
        return Err("the timestamp is over other data than the bundle's signature".into());
    }
    if trust.timestamp_authorities.is_empty() {
        return Err(
            "the bundle has an RFC 3161 timestamp, the trust root no timestamp authority".into(),
        );
    }
    let mut reasons = Vec::new();
    for authority in &trust.timestamp_authorities {
        match made_by(&token, authority) {
            Ok(()) => return Ok(token.gen_time),
            Err(why) => reasons.push(why),
        }
    }
    Err(format!(
        "the timestamp is not from a trusted timestamp authority ({})",
        reasons.join("; ")
    ))
}
