//! Kyverno's string functions (`pkg/engine/jmespath/functions.go`) and the registration
//! helper the other function modules share.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use jmespath::functions::{ArgumentType, CustomFunction, Signature};
use jmespath::{ErrorReason, JmespathError, Rcvar, Runtime, Variable};
use regex::{NoExpand, Regex};

use super::semver;
use crate::wildcard::matches as wildcard_match;

pub(super) use ArgumentType::{Any, Array, Number, Object, String as Str};

/// Result of a function body: a value, or the message after `JMESPath function 'f': `.
pub(super) type FnResult = Result<Variable, String>;

/// Registers `name` with a type-checked signature and a body over the arguments.
pub(super) fn register_fn<F>(
    rt: &mut Runtime,
    name: &'static str,
    inputs: Vec<ArgumentType>,
    body: F,
) where
    F: Fn(&[Rcvar]) -> FnResult + Send + Sync + 'static,
{
    let f = move |args: &[Rcvar], ctx: &mut jmespath::Context<'_>| {
        body(args).map(Rcvar::new).map_err(|m| {
            let reason = ErrorReason::Parse(format!("{}{name}': {m}", super::FUNCTION_ERROR));
            JmespathError::from_ctx(ctx, reason)
        })
    };
    rt.register_function(
        name,
        Box::new(CustomFunction::new(
            Signature::new(inputs, None),
            Box::new(f),
        )),
    );
}

/// Argument `i` as a string (the signature has already checked the type).
pub(super) fn str_arg(args: &[Rcvar], i: usize) -> Result<&str, String> {
    args.get(i)
        .and_then(|a| a.as_string())
        .map(String::as_str)
        .ok_or_else(|| format!("argument #{} is not of type string", i + 1))
}

/// Argument `i` as a number.
pub(super) fn num_arg(args: &[Rcvar], i: usize) -> Result<f64, String> {
    args.get(i)
        .and_then(|a| a.as_number())
        .ok_or_else(|| format!("argument #{} is not of type number", i + 1))
}

/// Go's `ifaceToString`: strings as-is, numbers in float32 shortest form, booleans.
pub(super) fn iface_to_string(v: &Variable) -> Option<String> {
    match v {
        Variable::String(s) => Some(s.clone()),
        Variable::Number(n) => Some(format!("{}", n.as_f64()? as f32)),
        Variable::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(super) fn string(s: impl Into<String>) -> FnResult {
    Ok(Variable::String(s.into()))
}

/// Go's `unicode.ToUpper`/`ToLower` per character: simple one-to-one case mapping only
/// (`ß` stays `ß` where Rust's full mapping would give `SS`).
fn map_case(s: &str, upper: bool) -> String {
    s.chars()
        .map(|c| {
            let mapped: Vec<char> = if upper {
                c.to_uppercase().collect()
            } else {
                c.to_lowercase().collect()
            };
            if mapped.len() == 1 {
                mapped[0]
            } else {
                c
            }
        })
        .collect()
}

/// Go's `strings.EqualFold` (simple case folding).
fn equal_fold(a: &str, b: &str) -> bool {
    a.chars().count() == b.chars().count()
        && a.chars().zip(b.chars()).all(|(x, y)| {
            x == y
                || map_case(&x.to_string(), false) == map_case(&y.to_string(), false)
                || map_case(&x.to_string(), true) == map_case(&y.to_string(), true)
        })
}

/// Go's `path/filepath.Clean` (Unix) as used by `path_canonicalize`.
fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".to_owned();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_owned(),
        (false, false) => body,
    }
}

/// Go's `base64.StdEncoding`: padding required, line breaks ignored, lax trailing bits.
const GO_STD_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);

fn regex_replace(args: &[Rcvar], literal: bool) -> FnResult {
    let re = Regex::new(str_arg(args, 0)?).map_err(|e| e.to_string())?;
    let src = iface_to_string(&args[1]).ok_or("argument #2 is not of type String or Real")?;
    let repl = iface_to_string(&args[2]).ok_or("argument #3 is not of type String or Real")?;
    let out = if literal {
        re.replace_all(&src, NoExpand(&repl))
    } else {
        re.replace_all(&src, repl.as_str())
    };
    string(out)
}

/// Registers the string functions.
pub(super) fn register(rt: &mut Runtime) {
    let str_num = || ArgumentType::Union(vec![Str, Number]);
    register_fn(rt, "compare", vec![Str, Str], |a| {
        let ord = str_arg(a, 0)?.cmp(str_arg(a, 1)?) as i8;
        Ok(Variable::Number(ord.into()))
    });
    register_fn(rt, "equal_fold", vec![Str, Str], |a| {
        Ok(Variable::Bool(equal_fold(str_arg(a, 0)?, str_arg(a, 1)?)))
    });
    register_fn(rt, "replace", vec![Str, Str, Str, Number], |a| {
        let (s, old, new, n) = (
            str_arg(a, 0)?,
            str_arg(a, 1)?,
            str_arg(a, 2)?,
            num_arg(a, 3)? as i64,
        );
        string(if n < 0 {
            s.replace(old, new)
        } else {
            s.replacen(old, new, n as usize)
        })
    });
    register_fn(rt, "replace_all", vec![Str, Str, Str], |a| {
        string(str_arg(a, 0)?.replace(str_arg(a, 1)?, str_arg(a, 2)?))
    });
    register_fn(rt, "to_upper", vec![Str], |a| {
        string(map_case(str_arg(a, 0)?, true))
    });
    register_fn(rt, "to_lower", vec![Str], |a| {
        string(map_case(str_arg(a, 0)?, false))
    });
    register_fn(rt, "trim", vec![Str, Str], |a| {
        let cutset = str_arg(a, 1)?;
        string(str_arg(a, 0)?.trim_matches(|c| cutset.contains(c)))
    });
    register_fn(rt, "trim_prefix", vec![Str, Str], |a| {
        let s = str_arg(a, 0)?;
        string(s.strip_prefix(str_arg(a, 1)?).unwrap_or(s))
    });
    register_fn(rt, "split", vec![Str, Str], |a| {
        let (s, sep) = (str_arg(a, 0)?, str_arg(a, 1)?);
        let parts: Vec<String> = if sep.is_empty() {
            s.chars().map(String::from).collect()
        } else {
            s.split(sep).map(str::to_owned).collect()
        };
        Ok(Variable::Array(
            parts
                .into_iter()
                .map(|p| Rcvar::new(Variable::String(p)))
                .collect(),
        ))
    });
    register_fn(
        rt,
        "regex_replace_all",
        vec![Str, str_num(), str_num()],
        |a| regex_replace(a, false),
    );
    register_fn(
        rt,
        "regex_replace_all_literal",
        vec![Str, str_num(), str_num()],
        |a| regex_replace(a, true),
    );
    register_fn(rt, "regex_match", vec![Str, str_num()], |a| {
        let re = Regex::new(str_arg(a, 0)?).map_err(|e| e.to_string())?;
        let src = iface_to_string(&a[1]).ok_or("argument #2 is not of type String or Real")?;
        Ok(Variable::Bool(re.is_match(&src)))
    });
    register_fn(rt, "pattern_match", vec![Str, str_num()], |a| {
        let src = iface_to_string(&a[1]).ok_or("argument #2 is not of type String or Real")?;
        Ok(Variable::Bool(wildcard_match(str_arg(a, 0)?, &src)))
    });
    register_fn(rt, "to_boolean", vec![Str], |a| {
        match str_arg(a, 0)?.to_lowercase().as_str() {
            "true" => Ok(Variable::Bool(true)),
            "false" => Ok(Variable::Bool(false)),
            _ => Err(format!(
                "lowercase argument must be 'true' or 'false' (provided: '{}')",
                str_arg(a, 0)?
            )),
        }
    });
    register_fn(rt, "base64_decode", vec![Str], |a| {
        let text: String = str_arg(a, 0)?
            .chars()
            .filter(|c| *c != '\r' && *c != '\n')
            .collect();
        let bytes = GO_STD_BASE64
            .decode(text)
            .map_err(|e| format!("illegal base64 data: {e}"))?;
        string(String::from_utf8_lossy(&bytes))
    });
    register_fn(rt, "base64_encode", vec![Str], |a| {
        string(GO_STD_BASE64.encode(str_arg(a, 0)?))
    });
    register_fn(rt, "path_canonicalize", vec![Str], |a| {
        string(clean_path(str_arg(a, 0)?))
    });
    register_fn(rt, "truncate", vec![Str, Number], |a| {
        let len = num_arg(a, 1)?.max(0.0) as usize;
        string(str_arg(a, 0)?.chars().take(len).collect::<String>())
    });
    register_fn(rt, "semver_compare", vec![Str, Str], |a| {
        let matched = semver::range_matches(str_arg(a, 0)?, str_arg(a, 1)?);
        matched
            .map(Variable::Bool)
            .ok_or_else(|| format!("could not parse range {:?}", str_arg(a, 1).unwrap_or("")))
    });
}
