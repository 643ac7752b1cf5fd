//! A small DER reader for the CMS and RFC 3161 structures of timestamps, and for the names
//! of a certificate. Definite lengths only, as DER requires.

pub(crate) use crate::der::{
    children, children_of, exactly, Element, GENERALIZED_TIME, OCTET_STRING, OID, SEQUENCE, SET,
};

/// The dotted form of an OBJECT IDENTIFIER's content.
pub(crate) fn oid_text(content: &[u8]) -> Option<String> {
    let (&first, rest) = content.split_first()?;
    let mut arcs = vec![u64::from(first / 40), u64::from(first % 40)];
    let mut value: u64 = 0;
    for &b in rest {
        value = value.checked_mul(128)? | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            arcs.push(value);
            value = 0;
        }
    }
    let text: Vec<String> = arcs.iter().map(u64::to_string).collect();
    Some(text.join("."))
}

/// Unix seconds of a GeneralizedTime (`YYYYMMDDHHMMSS[.f]Z`), fraction dropped.
pub(crate) fn generalized_time(content: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(content).ok()?;
    let text = text.strip_suffix('Z')?;
    let whole = text.split('.').next()?;
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| whole[r].parse::<u32>().ok();
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(n(0..4)?).ok()?, n(4..6)?, n(6..8)?)?;
    let time = date.and_hms_opt(n(8..10)?, n(10..12)?, n(12..14)?)?;
    Some(time.and_utc().timestamp())
}

/// The `(issuer, subject)` names (whole DER) of a certificate.
pub(crate) fn certificate_names(cert: &[u8]) -> Option<(&[u8], &[u8])> {
    let certificate = exactly(cert)?;
    let parts = children_of(&certificate, SEQUENCE)?;
    let tbs = children_of(parts.first()?, SEQUENCE)?;
    // [0] version is optional; then serial, signature algorithm, issuer, validity, subject.
    let skip = usize::from(tbs.first()?.tag == 0xa0);
    let issuer = tbs.get(skip + 2)?;
    let subject = tbs.get(skip + 4)?;
    Some((issuer.whole, subject.whole))
}

/// Whether a certificate names itself as its issuer (a root).
pub(crate) fn is_self_issued(cert: &[u8]) -> bool {
    certificate_names(cert).is_some_and(|(issuer, subject)| issuer == subject)
}
