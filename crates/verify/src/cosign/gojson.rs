//! JSON written byte for byte as Go's `encoding/json.Marshal` writes it, since cosign's
//! payloads, statements and manifests come out of it and signatures cover those bytes.
//!
//! Object members are written in the order the `Value` holds them (serde_json keeps
//! insertion order in this workspace): a Go struct's fields come out in declaration order,
//! so callers build struct-shaped objects in that order and pass map-shaped ones (Go maps,
//! whose keys `Marshal` sorts) through [`sort_keys`].

use serde_json::{Map, Number, Value};

/// `value` as Go's `json.Marshal` writes it.
pub(crate) fn to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write(&mut out, value);
    out
}

/// Appends `value` to `out`, as Go's `json.Marshal` writes it.
pub(crate) fn write(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(out, item);
            }
            out.push(b']');
        }
        Value::Object(members) => {
            out.push(b'{');
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write(out, item);
            }
            out.push(b'}');
        }
    }
}

/// `value` with the members of every object sorted by key (byte order), as Go writes a
/// `map[string]interface{}` and everything decoded into one.
pub(crate) fn sort_keys(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        Value::Object(members) => {
            let mut entries: Vec<(String, Value)> = members.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect::<Map<String, Value>>(),
            )
        }
        other => other,
    }
}

/// A JSON string with Go's escaping: `"` and `\`, the short escapes `\b \f \n \r \t`, other
/// control characters as `\u00xx`, and (HTML safety) `<`, `>`, `&`, U+2028, U+2029 as
/// `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let mut buf = [0u8; 4];
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '<' | '>' | '&' | '\u{0}'..='\u{1f}' => {
                let b = c as u32;
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize & 0xf]);
                out.push(HEX[b as usize & 0xf]);
            }
            '\u{2028}' => out.extend_from_slice(b"\\u2028"),
            '\u{2029}' => out.extend_from_slice(b"\\u2029"),
            c => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        }
    }
    out.push(b'"');
}

/// Go decodes every JSON number into a float64 before writing it again, so a number comes
/// out as the shortest float64 text: plain digits for 1e-6 <= |x| < 1e21, exponent form
/// (`1e+21`, `1.5e-7`) outside.
fn write_number(out: &mut Vec<u8>, n: &Number) {
    let f = n.as_f64().unwrap_or(f64::NAN);
    if !f.is_finite() {
        // Not reachable from parsed JSON; Go would refuse to marshal it.
        out.extend_from_slice(b"null");
        return;
    }
    let abs = f.abs();
    let text = if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
            _ => s,
        }
    } else {
        format!("{f}")
    };
    out.extend_from_slice(text.as_bytes());
}

/// An integer as Go writes an `int`/`int64` struct field.
pub(crate) fn write_int(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(n.to_string().as_bytes());
}
