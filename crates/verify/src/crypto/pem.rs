//! PEM as Go's `encoding/pem` writes it (64-character lines, LF endings), which is what
//! cosign writes for keys; reading accepts CRLF and text around the block too.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::{Error, Result};

/// One PEM block of `label` around `der`.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = String::with_capacity(body.len() + body.len() / 64 + 2 * label.len() + 32);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for (i, c) in body.chars().enumerate() {
        if i > 0 && i % 64 == 0 {
            out.push('\n');
        }
        out.push(c);
    }
    if !body.is_empty() {
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// The label and contents of the first PEM block in `text`.
pub(crate) fn decode(text: &[u8]) -> Result<(String, Vec<u8>)> {
    let text = std::str::from_utf8(text).map_err(|_| Error::Key("PEM is not UTF-8 text".into()))?;
    let start = text
        .find("-----BEGIN ")
        .ok_or_else(|| Error::Key("no PEM block found".into()))?;
    let after_begin = &text[start + "-----BEGIN ".len()..];
    let label_end = after_begin
        .find("-----")
        .ok_or_else(|| Error::Key("malformed PEM BEGIN line".into()))?;
    let label = &after_begin[..label_end];
    let body_and_rest = &after_begin[label_end + "-----".len()..];
    let end_marker = format!("-----END {label}-----");
    let body_end = body_and_rest
        .find(&end_marker)
        .ok_or_else(|| Error::Key(format!("PEM block {label:?} has no END line")))?;
    let body: String = body_and_rest[..body_end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = STANDARD
        .decode(body)
        .map_err(|e| Error::Key(format!("PEM block {label:?} is not valid base64: {e}")))?;
    Ok((label.to_string(), der))
}
