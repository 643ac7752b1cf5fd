//! Just enough DER to find the SubjectPublicKeyInfo inside an X.509 certificate. The
//! certificate itself is validated elsewhere (the policy crate parses it with x509-parser);
//! here we only walk the fixed prefix of `TBSCertificate`.

/// `(tag, whole element, content, rest of the input)`.
type Element<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// Splits one DER element off the front of `input`.
fn element(input: &[u8]) -> Option<Element<'_>> {
    let (&tag, after_tag) = input.split_first()?;
    // High-tag-number form never occurs in the certificate prefix we walk.
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, after_len) = after_tag.split_first()?;
    let (len, body) = if first < 0x80 {
        (usize::from(first), after_len)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || after_len.len() < count {
            return None;
        }
        let len = after_len[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &after_len[count..])
    };
    if body.len() < len {
        return None;
    }
    let header = input.len() - body.len();
    Some((tag, &input[..header + len], &body[..len], &body[len..]))
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
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
