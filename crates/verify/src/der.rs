//! The one minimal DER reader and writer of this crate, for the few structures parsed
//! by hand (a certificate's key prefix, RFC 6962 precertificate TBS rewriting, CMS and
//! RFC 3161 timestamps). Definite lengths and low tag numbers only, as DER requires.

/// One DER element.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Element<'a> {
    /// The identifier octet (class, constructed bit, tag number < 31).
    pub tag: u8,
    /// The whole encoding: identifier, length and content.
    pub whole: &'a [u8],
    /// The content octets.
    pub content: &'a [u8],
}

/// Universal tag.
pub(crate) const OCTET_STRING: u8 = 0x04;
/// Universal tag.
pub(crate) const OID: u8 = 0x06;
/// Universal tag.
pub(crate) const SEQUENCE: u8 = 0x30;
/// Universal tag.
pub(crate) const SET: u8 = 0x31;
/// Universal tag.
pub(crate) const GENERALIZED_TIME: u8 = 0x18;
/// Universal tag.
pub(crate) const INTEGER: u8 = 0x02;

/// Splits one element off the front of `input`.
pub(crate) fn read(input: &[u8]) -> Option<(Element<'_>, &[u8])> {
    let (&tag, after_tag) = input.split_first()?;
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
    Some((
        Element {
            tag,
            whole: &input[..header + len],
            content: &body[..len],
        },
        &body[len..],
    ))
}

/// Every element of a constructed element's content, in order.
pub(crate) fn children(mut content: &[u8]) -> Option<Vec<Element<'_>>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (e, rest) = read(content)?;
        out.push(e);
        content = rest;
    }
    Some(out)
}

/// The single element that `input` must be exactly.
pub(crate) fn exactly(input: &[u8]) -> Option<Element<'_>> {
    match read(input)? {
        (e, []) => Some(e),
        _ => None,
    }
}

/// The children of `e`, which must have tag `tag`.
pub(crate) fn children_of<'a>(e: &Element<'a>, tag: u8) -> Option<Vec<Element<'a>>> {
    (e.tag == tag).then_some(())?;
    children(e.content)
}

/// `tag`, a DER length and `content`.
pub(crate) fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = Vec::with_capacity(len + 6);
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}
