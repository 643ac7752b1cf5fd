//! `{{ jmespath }}` variable substitution, a port of Kyverno's
//! `variables.substituteVariablesIfAny` (`pkg/engine/variables/vars.go`).
//!
//! Variables are found with Kyverno's own pattern, which matches only innermost
//! `{{ … }}` groups (one level of `{…}` inside is allowed, for multi-select hashes) that
//! are not preceded by `\`. Each round replaces the variables found, then the string is
//! scanned again, so nested variables resolve innermost first. A string that is exactly
//! one variable takes the result's JSON type; otherwise a string result is spliced as is
//! and any other result as its Go JSON encoding. `{{- expr }}` splices a string result
//! with its own `{{` escaped and stops the rescan. Finally `\{{` becomes `{{`.
//!
//! Unresolved variables: Kyverno's JMESPath fails on a field path into an object that
//! lacks the key (`Unknown key "id" in path`) and substitution fails with it; a key that
//! is present but `null` resolves to `null` (typed) or the text `null` (spliced). Signet
//! does the same (see [`crate::jmespath::Expression::query`]), so a condition over a
//! missing predicate field is an error, not a silent `false`.

use std::cell::OnceCell;
use std::sync::OnceLock;

use ::jmespath::Rcvar;
use regex::Regex;
use serde_json::Value;

use crate::jmespath::{self, gocompat::go_json};
use crate::{Error, Result};

/// Kyverno's `RegexVariables`, with ASCII-only classes.
fn variables_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(^|[^\\])(\{\{(?:\{[^{}]*\}|[^{}])*\}\})").expect("constant regex")
    })
}

/// Results nested deeper than this while re-traversing substituted values are refused
/// (Kyverno would recurse without bound on self-referencing data).
const MAX_DEPTH: usize = 64;

/// Substitution rounds over one string before giving up: a variable whose value holds
/// itself (`x: "{{x}}"` spliced into text) would make Kyverno loop forever.
const MAX_ROUNDS: usize = 64;

/// One variable occurrence: the text to replace (with its one-character prefix, if
/// any) and the variable text itself (`{{ … }}`).
fn find_variables(s: &str) -> Vec<(String, String)> {
    variables_regex()
        .captures_iter(s)
        .map(|c| {
            let prefix = c.get(1).map_or("", |m| m.as_str()).to_owned();
            let var = c.get(2).map_or("", |m| m.as_str()).to_owned();
            (prefix, var)
        })
        .collect()
}

/// Kyverno's `replaceBracesAndTrimSpaces`: the expression inside, and whether it was
/// written `{{- … }}` (shallow).
fn expression_of(var: &str) -> (String, bool) {
    let inner = var.replace("{{", "").replace("}}", "");
    let inner = inner.trim();
    match inner.strip_prefix('-') {
        Some(rest) => (rest.trim().to_owned(), true),
        None => (inner.to_owned(), false),
    }
}

/// The data variables resolve against, converted for the interpreter on first use and
/// then shared by every substitution of an evaluation (predicates can be large).
pub(super) struct Vars<'a> {
    data: &'a Value,
    converted: OnceCell<Rcvar>,
}

impl<'a> Vars<'a> {
    pub(super) fn new(data: &'a Value) -> Self {
        Vars {
            data,
            converted: OnceCell::new(),
        }
    }

    /// Resolves one variable the way Kyverno's context `Query` does.
    fn resolve(&self, expr: &str) -> Result<Value> {
        let fail = |reason: String| {
            Error::Substitution(format!("failed to resolve {{{{{expr}}}}}: {reason}"))
        };
        if expr.is_empty() {
            return Err(fail("invalid query (nil)".to_owned()));
        }
        if expr == "@" {
            return Err(fail(
                "the {{@}} variable refers to the admission request and is not supported here"
                    .to_owned(),
            ));
        }
        let compiled = jmespath::compile(expr).map_err(|e| fail(reason(e)))?;
        let data = match self.converted.get() {
            Some(d) => d,
            None => {
                let d = jmespath::to_variable(self.data).map_err(|e| fail(reason(e)))?;
                self.converted.get_or_init(|| d)
            }
        };
        // Unresolved variables: `query` fails where Kyverno's go-jmespath fork raises
        // `NotFoundError` (a field path into an object lacking the key), and substitution
        // fails with it, as Kyverno's does; a key present with `null` resolves to `null`.
        compiled.query_variable(data).map_err(|e| fail(reason(e)))
    }
}

fn reason(e: Error) -> String {
    match e {
        Error::JmesPath { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// What the substitution rounds leave: a typed result (the string was one variable) or
/// text still holding its `\{{` escapes.
enum Rounds {
    Typed(Value),
    Text(String),
}

/// Kyverno's substitution rounds over one string; `resolve` maps an expression to its value.
fn rounds(s: &str, resolve: &mut dyn FnMut(&str) -> Result<Value>) -> Result<Rounds> {
    let mut value = s.to_owned();
    let mut vars = find_variables(&value);
    for round in 0.. {
        if vars.is_empty() {
            break;
        }
        if round == MAX_ROUNDS {
            return Err(Error::Substitution(format!(
                "{s:?}: variables keep expanding"
            )));
        }
        let original = value.clone();
        let mut shallow = false;
        for (prefix, var) in &vars {
            let (expr, is_shallow) = expression_of(var);
            shallow = is_shallow;
            let result = resolve(&expr)?;
            if original == *var {
                return Ok(Rounds::Typed(result));
            }
            let text = match (&result, shallow) {
                (Value::String(s), true) => s.replace("{{", "\\{{"),
                (Value::String(s), false) => s.clone(),
                (Value::Null, _) | (_, false) => go_json(&result),
                (other, true) => {
                    return Err(Error::Substitution(format!(
                        "{{{{- {expr}}}}} must resolve to a string, not {other}"
                    )));
                }
            };
            value = value.replacen(&format!("{prefix}{var}"), &format!("{prefix}{text}"), 1);
        }
        // Kyverno looks at the shallow flag of the last variable of the round only.
        vars = if shallow {
            Vec::new()
        } else {
            find_variables(&value)
        };
    }
    Ok(Rounds::Text(value))
}

/// Substitutes the variables of one string, then unescapes `\{{`.
fn substitute_str(s: &str, resolve: &mut dyn FnMut(&str) -> Result<Value>) -> Result<Value> {
    Ok(match rounds(s, resolve)? {
        Rounds::Typed(v) => v,
        Rounds::Text(t) => Value::String(t.replace("\\{{", "{{")),
    })
}

/// Replace every `{{ expr }}` in strings of `value` (recursively through arrays/objects) by the JMESPath result over `data`; nested `{{ }}` inside an expression are substituted first (innermost first, as Kyverno does: e.g. `{{ time_since('','{{metadata.scanFinishedOn}}','') }}`); a string that is exactly one `{{ expr }}` takes the result's JSON type, otherwise results are interpolated as strings; `\{{` escapes as in Kyverno.
///
/// Object keys are substituted too and must stay strings. As in Kyverno's traversal, an
/// array or object produced by a variable is itself traversed, so `{{ }}` text inside
/// data pulled in by a variable is substituted as well.
pub fn substitute(value: &Value, data: &Value) -> Result<Value> {
    substitute_with(value, &Vars::new(data))
}

/// [`substitute`] with data shared across calls.
pub(super) fn substitute_with(value: &Value, vars: &Vars<'_>) -> Result<Value> {
    let mut resolver = |expr: &str| vars.resolve(expr);
    traverse(value, &mut resolver, 0)
}

fn traverse(
    value: &Value,
    resolve: &mut dyn FnMut(&str) -> Result<Value>,
    depth: usize,
) -> Result<Value> {
    if depth > MAX_DEPTH {
        return Err(Error::Substitution(
            "substituted values nest too deeply".to_owned(),
        ));
    }
    match value {
        Value::String(s) => match substitute_str(s, resolve)? {
            v @ (Value::Array(_) | Value::Object(_)) => traverse(&v, resolve, depth + 1),
            v => Ok(v),
        },
        Value::Array(items) => items
            .iter()
            .map(|i| traverse(i, resolve, depth + 1))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = match substitute_str(k, resolve)? {
                    Value::String(s) => s,
                    Value::Null => k.clone(),
                    _ => {
                        return Err(Error::Substitution(format!(
                            "expected string after substituting variables in key {k:?}"
                        )));
                    }
                };
                out.insert(key, traverse(v, resolve, depth + 1)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

/// Load-time check: every `{{ }}` in the string is balanced and each innermost expression compiles (expressions that still contain an unsubstituted inner `{{` are checked after replacing inner ones by a placeholder string literal). Err names what's wrong.
///
/// First every `{{` (escaped or not) must be closed by a `}}` and no `}}` may stand
/// alone. Then Kyverno's substitution rounds run with a resolver that only checks each
/// expression (it compiles, calls only functions Signet provides, reads nothing from
/// Kyverno's admission context, is not empty, is not `@`) and stands in the word `placeholder`, valid both as a field name and inside
/// quotes. A `{{` that Kyverno's variable pattern cannot match (braces nested too deeply)
/// is refused too, since Kyverno would keep it as literal text.
pub fn check_template(s: &str) -> Result<(), String> {
    // Balance first: every `{{` (escaped or not) opens a group that `}}` closes.
    let (b, mut depth, mut i) = (s.as_bytes(), 0usize, 0usize);
    while i + 1 < b.len() {
        match &b[i..i + 2] {
            b"{{" => (depth, i) = (depth + 1, i + 2),
            b"}}" if depth == 0 => return Err(format!("unmatched \"}}}}\" in {s:?}")),
            b"}}" => (depth, i) = (depth - 1, i + 2),
            _ => i += 1,
        }
    }
    if depth > 0 {
        return Err(format!("unterminated \"{{{{\" in {s:?}"));
    }
    let mut problem: Option<String> = None;
    let mut checker = |expr: &str| -> Result<Value> {
        if let Err(p) = check_expression(expr) {
            problem.get_or_insert(p);
        }
        Ok(Value::String("placeholder".to_owned()))
    };
    let rest = rounds(s, &mut checker).map_err(|e| e.to_string())?;
    if let Some(p) = problem {
        return Err(p);
    }
    // A `{{` the variable pattern never matched (braces nested too deeply) stays as text
    // in Kyverno: certainly not what the author meant.
    if let Rounds::Text(rest) = rest {
        let unescaped = rest
            .match_indices("{{")
            .any(|(i, _)| i == 0 || rest.as_bytes()[i - 1] != b'\\');
        if unescaped {
            return Err(format!(
                "malformed {{{{ … }}}} in {s:?} (braces nested too deeply?)"
            ));
        }
    }
    Ok(())
}

/// The roots Kyverno adds to the context of attestation conditions besides the predicate
/// (the admission request, the images, the service account, `foreach` elements). Signet
/// evaluates conditions over the predicate alone, so a path from one of them could only
/// fail at verification time.
const ADMISSION_CONTEXT: &[&str] = &[
    "request",
    "images",
    "serviceAccountName",
    "serviceAccountNamespace",
    "element",
    "elementIndex",
];

fn check_expression(expr: &str) -> Result<(), String> {
    if expr.is_empty() {
        return Err("empty variable {{ }}".to_owned());
    }
    if expr == "@" {
        return Err(
            "the {{@}} variable refers to the admission request and is not supported".to_owned(),
        );
    }
    let compiled = jmespath::compile(expr)
        .map_err(|e| format!("invalid JMESPath in {{{{{expr}}}}}: {}", reason(e)))?;
    if let Some(root) = compiled
        .root_fields()
        .into_iter()
        .find(|f| ADMISSION_CONTEXT.contains(&f.as_str()))
    {
        return Err(format!(
            "not supported by Signet: attestation conditions see the attestation's predicate \
             only ({{{{{expr}}}}} reads {root:?} from Kyverno's admission context)"
        ));
    }
    match compiled
        .function_names()
        .into_iter()
        .find(|f| !jmespath::is_known_function(f))
    {
        Some(f) => Err(format!("function {f}() in {{{{{expr}}}}} is not supported")),
        None => Ok(()),
    }
}
