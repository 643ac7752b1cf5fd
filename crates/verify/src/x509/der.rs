//! The little DER this module reads and writes itself: splitting elements, re-encoding a
//! `TBSCertificate` without one extension (RFC 6962 precertificates), and the string
//! values of Fulcio's extensions. Everything else is parsed by `x509-parser`.

pub(super) use crate::der::{children, encode, read};

const SEQUENCE: u8 = 0x30;
const EXTENSIONS: u8 = 0xa3;

/// `tbs` (a DER `TBSCertificate`) without the extension whose OID is `oid_der` (the whole
/// DER of the OBJECT IDENTIFIER). Returns `None` when `tbs` is malformed or has no such
/// extension. An extension list left empty is dropped, as Go's encoder drops it.
pub(super) fn tbs_without_extension(tbs: &[u8], oid_der: &[u8]) -> Option<Vec<u8>> {
    let (outer, rest) = read(tbs)?;
    if outer.tag != SEQUENCE || !rest.is_empty() {
        return None;
    }
    let mut found = false;
    let mut fields = Vec::with_capacity(tbs.len());
    for field in children(outer.content)? {
        if field.tag != EXTENSIONS {
            fields.extend_from_slice(field.whole);
            continue;
        }
        let (list, _) = read(field.content)?;
        let mut kept = Vec::with_capacity(list.content.len());
        for extension in children(list.content)? {
            let (oid, _) = read(extension.content)?;
            if oid.whole == oid_der {
                found = true;
            } else {
                kept.extend_from_slice(extension.whole);
            }
        }
        if !kept.is_empty() {
            fields.extend(encode(EXTENSIONS, &encode(SEQUENCE, &kept)));
        }
    }
    found.then(|| encode(SEQUENCE, &fields))
}

/// The text of a DER string (UTF8String, PrintableString or IA5String), as Fulcio's v2
/// extensions and its username SAN carry them.
pub(super) fn string(der: &[u8]) -> Option<String> {
    let (element, rest) = read(der)?;
    if !rest.is_empty() || !matches!(element.tag, 0x0c | 0x13 | 0x16) {
        return None;
    }
    String::from_utf8(element.content.to_vec()).ok()
}
