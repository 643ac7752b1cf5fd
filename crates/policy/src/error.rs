//! The crate's error type and the field-path diagnostics of policy loading.

use std::fmt;

/// One problem in one policy document, located by its field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// 1-based position of the document in its file (YAML `---` documents).
    pub document: usize,
    /// Dotted field path in Kubernetes style, e.g. `spec.rules[0].verifyImages[0].type`.
    /// Empty when the problem is the document as a whole (a YAML syntax error).
    pub path: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "document {}: {}", self.document, self.message)
        } else {
            write!(
                f,
                "document {}: {}: {}",
                self.document, self.path, self.message
            )
        }
    }
}

/// Every problem found in a policy file; loading reports all of them, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostics(pub Vec<FieldError>);

impl Diagnostics {
    /// The individual errors, in document and field order.
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Errors of the policy crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A policy file did not load; every problem with its document and field path.
    #[error("{0}")]
    InvalidPolicy(Diagnostics),
    /// Input that is neither JSON nor YAML.
    #[error("not JSON or YAML: {0}")]
    Syntax(String),
    /// An image reference that cannot be parsed.
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidImageReference {
        /// The reference as given.
        reference: String,
        /// Why it is not a valid reference.
        reason: String,
    },
    /// An admission request that is not shaped as the API server sends them.
    #[error("invalid admission request: {0}")]
    InvalidRequest(String),
    /// A JMESPath expression that does not compile or fails to evaluate.
    #[error("JMESPath {expression:?}: {reason}")]
    JmesPath {
        /// The expression.
        expression: String,
        /// The parser's or evaluator's message.
        reason: String,
    },
    /// A `{{ … }}` substitution that cannot be resolved.
    #[error("variable substitution: {0}")]
    Substitution(String),
    /// A condition that cannot be evaluated (operands of the wrong type, bad durations).
    #[error("condition: {0}")]
    Condition(String),
}

/// Result alias for the policy crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
