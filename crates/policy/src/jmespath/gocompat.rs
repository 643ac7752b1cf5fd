//! Go's text conversions that Kyverno's behaviour depends on: `fmt.Sprint` of decoded
//! JSON, `encoding/json` marshalling, `strconv.ParseFloat` and Go's float formats.
//!
//! Kyverno compares stringified values (`In` and friends use `fmt.Sprint`) and splices
//! non-string variable results into strings with `json.Marshal`, so the exact text
//! matters: `1.0` prints as `1`, `1e6` as `1e+06` under `%v` but `1000000` in JSON,
//! objects print with sorted keys.

use serde_json::Value;

/// Shortest round-trip digits and decimal exponent of `f` (`1.5e7` → ("15", 7)).
fn shortest_digits(f: f64) -> (String, i32) {
    let text = format!("{:e}", f.abs());
    let (mantissa, exp) = text.split_once('e').unwrap_or((text.as_str(), "0"));
    (mantissa.replace('.', ""), exp.parse().unwrap_or(0))
}

/// Go's `%e`-style tail with at least two exponent digits: `1.5e+07`, `1e-05`.
fn exponent_form(f: f64) -> String {
    let (digits, exp) = shortest_digits(f);
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let (head, tail) = digits.split_at(1);
    let dot = if tail.is_empty() { "" } else { "." };
    let esign = if exp < 0 { '-' } else { '+' };
    format!("{sign}{head}{dot}{tail}e{esign}{:02}", exp.unsigned_abs())
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`, which is also `fmt.Sprint(f)`: plain digits
/// for exponents in [-4, 6), else the exponent form (`1e+06`, `1.5e-05`).
pub(crate) fn go_format_g(f: f64) -> String {
    if !f.is_finite() {
        return go_non_finite(f);
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let (_, exp) = shortest_digits(f);
    if !(-4..6).contains(&exp) {
        exponent_form(f)
    } else {
        format!("{f}")
    }
}

/// How encoding/json writes a float64: plain digits within [1e-6, 1e21), else the
/// exponent form with Go's clean-up of a single-digit negative exponent (`1e-7`).
pub(crate) fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = exponent_form(f);
        match text.split_once("e-0") {
            Some((head, d)) if d.len() == 1 => format!("{head}e-{d}"),
            _ => text,
        }
    } else {
        format!("{f}")
    }
}

fn go_non_finite(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_owned()
    } else if f > 0.0 {
        "+Inf".to_owned()
    } else {
        "-Inf".to_owned()
    }
}

/// A JSON number as the float64 Go decodes it into.
pub(crate) fn num(n: &serde_json::Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

/// `fmt.Sprint(v)` of a condition operand as Kyverno holds it. A top-level number is a
/// float64 (`1e+06`); numbers inside arrays and objects went through Kubernetes' JSON
/// decoding, which makes integral ones int64 (`1000000`).
pub(crate) fn go_sprint(v: &Value, nested: bool) -> String {
    match v {
        Value::Null => "<nil>".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            let f = num(n);
            if nested && f.trunc() == f && f.abs() < 9.2e18 {
                format!("{}", f as i64)
            } else {
                go_format_g(f)
            }
        }
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(|i| go_sprint(i, true)).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", go_sprint(&map[k.as_str()], true)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// `json.Marshal(v)` as Kyverno's json-iterator (standard-library compatible) writes
/// it: sorted object keys, no spaces, HTML-sensitive characters escaped.
pub(crate) fn go_json(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&go_json_float(num(n))),
        Value::String(s) => write_json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                write_json(&map[k.as_str()], out);
            }
            out.push('}');
        }
    }
}

fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `strconv.ParseFloat(s, 64)` for decimal input: `None` where Go errs, including values
/// out of the float64 range (Go returns ±Inf together with an error there).
pub(crate) fn go_parse_float(s: &str) -> Option<f64> {
    let f: f64 = s.parse().ok()?;
    if f.is_infinite() && !s.to_ascii_lowercase().contains("inf") {
        return None;
    }
    Some(f)
}

/// `strconv.ParseInt(s, 10, 64)`.
pub(crate) fn go_parse_int(s: &str) -> Option<i64> {
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sprint_matches_go() {
        let top = |v: Value| go_sprint(&v, false);
        assert_eq!(top(json!(1.0)), "1");
        assert_eq!(top(json!(3.25)), "3.25");
        assert_eq!(top(json!(1000000)), "1e+06");
        assert_eq!(top(json!(123456)), "123456");
        assert_eq!(top(json!(0.0001)), "0.0001");
        assert_eq!(top(json!(0.00001)), "1e-05");
        assert_eq!(top(json!(-2.5e10)), "-2.5e+10");
        assert_eq!(top(json!(null)), "<nil>");
        assert_eq!(go_sprint(&json!(1000000), true), "1000000");
        assert_eq!(go_sprint(&json!(1e20), true), "1e+20");
        assert_eq!(
            top(json!([1, "a", true, 1000000, 2.5])),
            "[1 a true 1000000 2.5]"
        );
        assert_eq!(top(json!({"b": 1, "a": [2]})), "map[a:[2] b:1]");
    }

    #[test]
    fn json_matches_go() {
        assert_eq!(
            go_json(&json!({"b": 1.0, "a": "<x>"})),
            r#"{"a":"\u003cx\u003e","b":1}"#
        );
        assert_eq!(
            go_json(&json!([1e21, 1e-7, 0.5, 1e20])),
            "[1e+21,1e-7,0.5,100000000000000000000]"
        );
        assert_eq!(go_json(&json!("a\"\\\n\u{1}")), r#""a\"\\\n\u0001""#);
    }

    #[test]
    fn parse_float_matches_go() {
        assert_eq!(go_parse_float("1.5"), Some(1.5));
        assert_eq!(go_parse_float(".5"), Some(0.5));
        assert_eq!(go_parse_float("1e3"), Some(1000.0));
        assert_eq!(go_parse_float("+Inf"), Some(f64::INFINITY));
        assert_eq!(go_parse_float("1e400"), None);
        assert_eq!(go_parse_float("1_000"), None);
        assert_eq!(go_parse_float("abc"), None);
        assert_eq!(go_parse_int("+12"), Some(12));
        assert_eq!(go_parse_int("1.0"), None);
    }

    #[test]
    fn crate_wildcard_matches_go_wildcard() {
        use crate::wildcard::matches as wildcard_match;
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("", ""));
        assert!(!wildcard_match("", "a"));
        assert!(wildcard_match("hello-*", "hello-world"));
        assert!(!wildcard_match("hello-*", "goodbye-world"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(wildcard_match("*.io/*/x?", "ghcr.io/a/b/xy"));
        assert!(wildcard_match("1.5.*", "1.5.2"));
        assert!(!wildcard_match("a*b*c", "acb"));
        assert!(wildcard_match("\u{e9}?", "\u{e9}\u{e8}"));
        assert!(!wildcard_match(&"*a".repeat(30), &"a".repeat(29)));
    }
}
