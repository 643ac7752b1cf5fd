//! Just enough DER to find the SubjectPublicKeyInfo inside an X.509 certificate. The
//! certificate itself is validated elsewhere (the policy crate parses it with x509-parser);
//! here we only walk the fixed prefix of `TBSCertificate`.

use crate::der::{read, INTEGER, SEQUENCE};

/// `(tag, whole element, content, rest of the input)`.
type Parts<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

fn element(input: &[u8]) -> Option<Parts<'_>> {
    let (e, rest) = read(input)?;
    Some((e.tag, e.whole, e.content, rest))
}

const VERSION: u8 = 0xa0;

/// The DER of the certificate's SubjectPublicKeyInfo, or `None` when `cert` does not have
/// the shape of an X.509 certificate.
pub(crate) fn certificate_spki(cert: &[u8]) -> Option<&[u8]> {
    let (tag, _, certificate, _) = element(cert)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, _, tbs, _) = element(certificate)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, _, _, after_version) = element(tbs)?;
    let rest = if tag == VERSION { after_version } else { tbs };
    let (tag, _, _, mut rest) = element(rest)?;
    if tag != INTEGER {
        return None;
    }
    // signature algorithm, issuer, validity, subject: four SEQUENCEs before the key.
    for _ in 0..4 {
        let (tag, _, _, next) = element(rest)?;
        if tag != SEQUENCE {
            return None;
        }
        rest = next;
    }
    let (tag, spki, _, _) = element(rest)?;
    (tag == SEQUENCE).then_some(spki)
}
