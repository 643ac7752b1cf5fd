//! A small typed reader over `serde_json::Value` that records every problem with its
//! field path instead of stopping at the first, and notices every field it was not asked
//! for. serde's derive stops at the first error and cannot tell "a Kyverno field Signet
//! does not implement" from "a typo", and both distinctions matter to policy authors.

use serde_json::{Map, Value};

use crate::FieldError;

/// A field path in Kubernetes style: `spec.rules[0].verifyImages[1].attestors`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Path(String);

impl Path {
    pub(crate) fn field(&self, name: &str) -> Path {
        if self.0.is_empty() {
            Path(name.to_owned())
        } else {
            Path(format!("{}.{name}", self.0))
        }
    }

    pub(crate) fn index(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
    }

    /// A map key that is not a plain field name: `metadata.annotations[signet.dev/x]`.
    pub(crate) fn key(&self, name: &str) -> Path {
        Path(format!("{}[{name}]", self.0))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Collects the errors of one document.
#[derive(Debug)]
pub(crate) struct Errors {
    document: usize,
    pub(crate) list: Vec<FieldError>,
}

impl Errors {
    pub(crate) fn new(document: usize) -> Self {
        Errors {
            document,
            list: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, path: &Path, message: impl Into<String>) {
        self.list.push(FieldError {
            document: self.document,
            path: path.0.clone(),
            message: message.into(),
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// What a JSON value is, for messages.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A value together with where it sits in the document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node<'a, 'p> {
    pub(crate) value: &'a Value,
    pub(crate) path: &'p Path,
}

impl<'a> Node<'a, '_> {
    fn expected(&self, errs: &mut Errors, what: &str) {
        errs.push(
            self.path,
            format!("expected {what}, found {}", kind_of(self.value)),
        );
    }

    pub(crate) fn object(&self, errs: &mut Errors) -> Option<Obj<'a>> {
        match self.value {
            Value::Object(map) => Some(Obj {
                map,
                path: self.path.clone(),
                used: Vec::new(),
            }),
            _ => {
                self.expected(errs, "an object");
                None
            }
        }
    }

    pub(crate) fn string(&self, errs: &mut Errors) -> Option<String> {
        match self.value {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.expected(errs, "a string");
                None
            }
        }
    }

    pub(crate) fn bool(&self, errs: &mut Errors) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(*b),
            _ => {
                self.expected(errs, "a boolean");
                None
            }
        }
    }

    pub(crate) fn int(&self, errs: &mut Errors) -> Option<i64> {
        match self.value.as_i64() {
            Some(n) => Some(n),
            None => {
                self.expected(errs, "an integer");
                None
            }
        }
    }

    /// The elements of a list, each with its indexed path, handed to `each`.
    pub(crate) fn list<T>(
        &self,
        errs: &mut Errors,
        mut each: impl FnMut(Node<'a, '_>, &mut Errors) -> Option<T>,
    ) -> Option<Vec<T>> {
        let Value::Array(items) = self.value else {
            self.expected(errs, "a list");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let path = self.path.index(i);
            match each(
                Node {
                    value: item,
                    path: &path,
                },
                errs,
            ) {
                Some(v) => out.push(v),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    pub(crate) fn string_list(&self, errs: &mut Errors) -> Option<Vec<String>> {
        self.list(errs, |n, errs| n.string(errs))
    }

    /// A map of strings to strings, keeping the document's order.
    pub(crate) fn string_map(&self, errs: &mut Errors) -> Option<Vec<(String, String)>> {
        let Value::Object(map) = self.value else {
            self.expected(errs, "an object of strings");
            return None;
        };
        let mut out = Vec::with_capacity(map.len());
        let mut ok = true;
        for (k, v) in map {
            match v {
                Value::String(s) => out.push((k.clone(), s.clone())),
                other => {
                    ok = false;
                    errs.push(
                        &self.path.field(k),
                        format!("expected a string, found {}", kind_of(other)),
                    );
                }
            }
        }
        ok.then_some(out)
    }
}

/// An object being read field by field; `finish` reports the fields nobody asked for.
#[derive(Debug)]
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    pub(crate) path: Path,
    used: Vec<String>,
}

/// Fields of a Kyverno type that Signet knows but does not implement, with the reason
/// shown to the author.
pub(crate) type Unsupported<'s> = &'s [(&'s str, &'s str)];

impl<'a> Obj<'a> {
    /// Reads `key` and hands its node to `read`; absent and `null` fields give `None`,
    /// as Kubernetes treats an explicit null like an omitted field.
    pub(crate) fn with<T>(
        &mut self,
        key: &str,
        errs: &mut Errors,
        read: impl FnOnce(Node<'a, '_>, &mut Errors) -> Option<T>,
    ) -> Option<T> {
        self.used.push(key.to_owned());
        let value = self.map.get(key).filter(|v| !v.is_null())?;
        let path = self.path.field(key);
        read(Node { value, path: &path }, errs)
    }

    /// Whether the document has `key` at all (with a non-null value).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| !v.is_null())
    }

    pub(crate) fn string(&mut self, key: &str, errs: &mut Errors) -> Option<String> {
        self.with(key, errs, |n, e| n.string(e))
    }

    pub(crate) fn bool(&mut self, key: &str, errs: &mut Errors) -> Option<bool> {
        self.with(key, errs, |n, e| n.bool(e))
    }

    pub(crate) fn int(&mut self, key: &str, errs: &mut Errors) -> Option<i64> {
        self.with(key, errs, |n, e| n.int(e))
    }

    pub(crate) fn string_list(&mut self, key: &str, errs: &mut Errors) -> Option<Vec<String>> {
        self.with(key, errs, |n, e| n.string_list(e))
    }

    pub(crate) fn string_map(
        &mut self,
        key: &str,
        errs: &mut Errors,
    ) -> Option<Vec<(String, String)>> {
        self.with(key, errs, |n, e| n.string_map(e))
    }

    /// The raw value of `key`, for fields whose shape is free (condition values).
    pub(crate) fn raw(&mut self, key: &str) -> Option<&'a Value> {
        self.used.push(key.to_owned());
        self.map.get(key)
    }

    /// Reports every field that was not read: Kyverno fields Signet does not implement
    /// as "not supported", anything else as unknown.
    pub(crate) fn finish(self, errs: &mut Errors, unsupported: Unsupported<'_>) {
        for key in self.map.keys() {
            if self.used.iter().any(|u| u == key) {
                continue;
            }
            let path = self.path.field(key);
            match unsupported.iter().find(|(name, _)| name == key) {
                Some((_, "")) => errs.push(&path, "not supported by Signet"),
                Some((_, why)) => errs.push(&path, format!("not supported by Signet: {why}")),
                None => errs.push(&path, "unknown field"),
            }
        }
    }
}
