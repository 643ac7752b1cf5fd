//! JMESPath as Kyverno evaluates it: the standard language (the `jmespath` crate, which
//! passes the JMESPath compliance suite) plus Kyverno's custom functions, with their Go
//! semantics (durations, RFC 3339 times, resource quantities, wildcards).
//!
//! One process-wide runtime holds the functions; [`compile`] binds an expression to it.
//! [`Expression::search`] is plain JMESPath (a missing key yields `null`);
//! [`Expression::query`] is how Kyverno resolves a `{{ variable }}`, where a path through
//! an object that lacks the key is an error (`Unknown key "x" in path`).

mod arith;
mod collections;
pub(crate) mod duration;
mod functions;
pub(crate) mod gocompat;
mod golayout;
mod gotime;
mod notfound;
pub(crate) mod quantity;
mod quantity_grammar;
pub(crate) mod semver;
mod time;

use std::fmt;
use std::sync::OnceLock;

use jmespath::{ErrorReason, JmespathError, Rcvar, Runtime, Variable};
use serde_json::Value;

use crate::{Error, Result};

pub use duration::{format_go_duration, parse_go_duration};

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The shared runtime: JMESPath's built-in functions, then Kyverno's (which replace the
/// built-in `sum`), then an `avg` that returns null for an empty array.
fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        let mut rt = Runtime::new();
        rt.register_builtin_functions();
        functions::register(&mut rt);
        collections::register(&mut rt);
        arith::register(&mut rt);
        time::register(&mut rt);
        rt
    })
}

/// Whether `name` is a function Signet's runtime provides (built-in or Kyverno's).
pub fn is_known_function(name: &str) -> bool {
    runtime().get_function(name).is_some()
}

/// Compiled expression bound to Signet's runtime (Kyverno functions included).
#[derive(Clone)]
pub struct Expression {
    inner: jmespath::Expression<'static>,
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Expression")
            .field(&self.inner.as_str())
            .finish()
    }
}

/// Compiles `expression`; the error carries the parser's message.
pub fn compile(expression: &str) -> Result<Expression> {
    runtime()
        .compile(expression)
        .map(|inner| Expression { inner })
        .map_err(|e| error(expression, &e))
}

/// Compiles and evaluates `expression` over `data` (plain JMESPath semantics).
pub fn search(expression: &str, data: &Value) -> Result<Value> {
    compile(expression)?.search(data)
}

impl Expression {
    /// The expression text as written.
    pub fn as_str(&self) -> &str {
        self.inner.as_str()
    }

    /// Evaluates over `data` with standard JMESPath semantics.
    pub fn search(&self, data: &Value) -> Result<Value> {
        self.search_variable(&to_variable(data)?)
    }

    /// Evaluates as Kyverno resolves a variable against its JSON context: like
    /// [`search`](Self::search), except that a field path into an object that lacks the
    /// key fails with `Unknown key "<key>" in path` (Kyverno's `NotFoundError`) instead
    /// of yielding `null`. Where Kyverno swallows that error (function arguments,
    /// projections, pipes, `||`, comparisons) the result is the same as `search`'s.
    pub fn query(&self, data: &Value) -> Result<Value> {
        self.query_variable(&to_variable(data)?)
    }

    /// [`search`](Self::search) over data already converted with [`to_variable`].
    pub(crate) fn search_variable(&self, data: &Rcvar) -> Result<Value> {
        let mut ctx = jmespath::Context::new(self.as_str(), runtime());
        let result = jmespath::interpret(data, self.inner.as_ast(), &mut ctx)
            .map_err(|e| error(self.as_str(), &e))?;
        from_var(self.as_str(), &result)
    }

    /// [`query`](Self::query) over data already converted with [`to_variable`].
    pub(crate) fn query_variable(&self, data: &Rcvar) -> Result<Value> {
        let mut ctx = jmespath::Context::new(self.as_str(), runtime());
        match notfound::missing_key(self.inner.as_ast(), data, &mut ctx) {
            Ok(Some(key)) => Err(Error::JmesPath {
                expression: self.as_str().to_owned(),
                reason: format!("Unknown key {key:?} in path"),
            }),
            Ok(None) => self.search_variable(data),
            Err(e) => Err(error(self.as_str(), &e)),
        }
    }

    /// Names of the functions the expression calls, in order of appearance.
    pub fn function_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        notfound::collect_functions(self.inner.as_ast(), &mut names);
        names
    }

    /// The first field of every path that starts at the data's root (`request` in
    /// `request.object.kind` or `length(request.x)`), in order, with repeats.
    pub fn root_fields(&self) -> Vec<String> {
        let mut names = Vec::new();
        notfound::collect_root_fields(self.inner.as_ast(), &mut names);
        names
    }
}

/// Converts JSON into the interpreter's representation, once for many evaluations.
pub(crate) fn to_variable(data: &Value) -> Result<Rcvar> {
    Variable::try_from(data)
        .map(Rcvar::new)
        .map_err(|e| error("", &e))
}

fn from_var(expression: &str, v: &Variable) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::JmesPath {
        expression: expression.to_owned(),
        reason: format!("result is not JSON: {e}"),
    })
}

/// Prefix of messages raised by Kyverno functions, so they are not shown as parse errors.
const FUNCTION_ERROR: &str = "JMESPath function '";

fn error(expression: &str, e: &JmespathError) -> Error {
    let reason = match &e.reason {
        ErrorReason::Parse(m) if m.starts_with(FUNCTION_ERROR) => m.clone(),
        other => format!("{other} (at offset {})", e.offset),
    };
    Error::JmesPath {
        expression: expression.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests;
