//! The text grammar of Kubernetes quantities (`resource.ParseQuantity`): number, suffix
//! and exponent forms, exactly as `k8s.io/apimachinery` splits and interprets them.

use super::quantity::Format;

/// Decimal SI suffixes and their powers of ten.
pub(super) const DEC_SUFFIXES: [(&str, i32); 10] = [
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];
pub(super) const BIN_SUFFIXES: [(&str, i32); 7] = [
    ("", 0),
    ("Ki", 10),
    ("Mi", 20),
    ("Gi", 30),
    ("Ti", 40),
    ("Pi", 50),
    ("Ei", 60),
];

/// Kubernetes' `parseQuantityString`: sign, number (leading zeros dropped), fraction and
/// suffix text. Quirks kept: a bare suffix (`m`, `Ki`) or `.` is a zero quantity.
pub(super) fn split_quantity(s: &str) -> Option<(bool, &str, &str, &str)> {
    let b = s.as_bytes();
    let mut pos = 0;
    let mut positive = true;
    match b.first() {
        Some(b'-') => (positive, pos) = (false, 1),
        Some(b'+') => pos = 1,
        _ => {}
    }
    while pos < b.len() && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= b.len() {
        return Some((positive, "0", "", ""));
    }
    let start = pos;
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let num = if pos == start { "0" } else { &s[start..pos] };
    let mut denom = "";
    if pos < b.len() && b[pos] == b'.' {
        pos += 1;
        let dstart = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &s[dstart..pos];
    }
    let suffix_start = pos;
    while pos < b.len() && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < b.len() && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    (pos == b.len()).then_some((positive, num, denom, &s[suffix_start..]))
}

/// Kubernetes' `suffixHandler.interpret`: (base, exponent, format).
pub(super) fn interpret_suffix(suffix: &str) -> Option<(u32, i32, Format)> {
    if let Some((_, e)) = DEC_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
        return Some((10, *e, Format::DecimalSI));
    }
    if let Some((_, e)) = BIN_SUFFIXES[1..].iter().find(|(s, _)| *s == suffix) {
        return Some((2, *e, Format::BinarySI));
    }
    let rest = suffix.strip_prefix(['e', 'E']).filter(|r| !r.is_empty())?;
    let exponent: i64 = rest.parse().ok()?;
    Some((10, i32::try_from(exponent).ok()?, Format::DecimalExponent))
}
