//! Go's `encoding/json` round trip through a struct, as cosign does with the predicates it
//! parses: decoding keeps only the struct's fields (keys matched exactly, then
//! case-insensitively), leaves missing ones at their zero value, and encoding writes the
//! fields in declaration order, honouring `omitempty`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{Map, Value};

use super::gojson::sort_keys;
use super::gotime::{normalize_rfc3339, ZERO_TIME};
use crate::{Error, Result};

/// `raw` parsed as JSON; the error names `what`.
pub(crate) fn parse_json(raw: &[u8], what: &str) -> Result<Value> {
    serde_json::from_slice(raw)
        .map_err(|e| Error::Malformed(format!("{what} predicate: invalid JSON: {e}")))
}

/// What a Go field holds, for decoding and re-encoding as `encoding/json` does.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Str,
    Bool,
    /// `interface{}`: any JSON, maps written with sorted keys.
    Any,
    /// `map[string]interface{}`.
    AnyMap,
    /// `map[string]string` (in-toto `DigestSet`).
    StrMap,
    StrList,
    /// `[]byte`: standard base64 in JSON.
    Bytes,
    Time,
    TimePtr,
    Struct(&'static [Field]),
    StructPtr(&'static [Field]),
    StructList(&'static [Field]),
}

/// A field of a Go struct: its JSON name, what it holds, and whether it is `omitempty`.
#[derive(Clone, Copy)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    kind: Kind,
    omitempty: bool,
}

pub(crate) const fn f(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        omitempty: false,
    }
}

pub(crate) const fn o(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        omitempty: true,
    }
}

use Kind::*;

/// `raw` decoded into the Go struct `fields` and encoded again, after cosign's check that
/// the `required` keys are present.
pub(crate) fn go_struct(
    raw: &[u8],
    fields: &'static [Field],
    required: &[&str],
    what: &str,
) -> Result<Value> {
    let value = parse_json(raw, what)?;
    if !required.is_empty() {
        let Value::Object(members) = &value else {
            return Err(Error::Malformed(format!("{what}: not a JSON object")));
        };
        if let Some(missing) = required.iter().find(|name| !members.contains_key(**name)) {
            return Err(Error::Malformed(format!(
                "{what}: required field {missing} missing"
            )));
        }
    }
    convert(Struct(fields), &value, what)
}

fn mismatch(path: &str, expected: &str) -> Error {
    Error::Malformed(format!("{path}: expected {expected}"))
}

/// What Go writes for a field that was absent from the input.
fn zero(kind: Kind) -> Value {
    match kind {
        Str => Value::String(String::new()),
        Bool => Value::Bool(false),
        Time => Value::String(ZERO_TIME.into()),
        Struct(fields) => Value::Object(build(fields, &Map::new(), "").unwrap_or_default()),
        _ => Value::Null,
    }
}

/// Whether Go's `omitempty` drops a field holding `value`: never for structs.
fn is_empty(kind: Kind, value: &Value) -> bool {
    match (kind, value) {
        (Struct(_) | Time, _) => false,
        (_, Value::Null) => true,
        (Str | Bytes, Value::String(s)) => s.is_empty(),
        (Bool, Value::Bool(b)) => !b,
        (AnyMap | StrMap, Value::Object(m)) => m.is_empty(),
        (StrList | StructList(_), Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

fn convert(kind: Kind, value: &Value, path: &str) -> Result<Value> {
    if value.is_null() {
        // Decoding null leaves a Go value at its zero.
        return Ok(zero(kind));
    }
    Ok(match (kind, value) {
        (Str, Value::String(_)) | (Bool, Value::Bool(_)) => value.clone(),
        (Any, _) | (AnyMap, Value::Object(_)) => sort_keys(value.clone()),
        (StrMap, Value::Object(members)) => {
            let mut entries = members
                .iter()
                .map(|(k, v)| Ok((k.clone(), convert(Str, v, path)?)))
                .collect::<Result<Vec<_>>>()?;
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        (StrList, Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|v| convert(Str, v, path))
                .collect::<Result<_>>()?,
        ),
        (Bytes, Value::String(text)) => {
            let bytes = STANDARD
                .decode(text)
                .map_err(|_| mismatch(path, "base64 bytes"))?;
            Value::String(STANDARD.encode(bytes))
        }
        (Time | TimePtr, Value::String(text)) => Value::String(
            normalize_rfc3339(text).ok_or_else(|| mismatch(path, "an RFC 3339 time"))?,
        ),
        (Struct(fields) | StructPtr(fields), Value::Object(members)) => {
            Value::Object(build(fields, members, path)?)
        }
        (StructList(fields), Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|item| convert(Struct(fields), item, path))
                .collect::<Result<_>>()?,
        ),
        _ => return Err(mismatch(path, kind_name(kind))),
    })
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Str => "a string",
        Bool => "a boolean",
        Bytes => "base64 bytes",
        Time | TimePtr => "an RFC 3339 time",
        StrList | StructList(_) => "an array",
        _ => "an object",
    }
}

/// The members of a Go struct decoded from `members`, in field order.
fn build(
    fields: &'static [Field],
    members: &Map<String, Value>,
    path: &str,
) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for field in fields {
        // Go matches keys exactly first, then case-insensitively.
        let found = members.get(field.name).or_else(|| {
            members
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(field.name))
                .map(|(_, v)| v)
        });
        let field_path = if path.is_empty() {
            field.name.to_string()
        } else {
            format!("{path}.{}", field.name)
        };
        let value = match found {
            Some(v) => convert(field.kind, v, &field_path)?,
            None => zero(field.kind),
        };
        if !(field.omitempty && is_empty(field.kind, &value)) {
            out.insert(field.name.to_string(), value);
        }
    }
    Ok(out)
}
