//! Kyverno conditions: `{{ jmespath }}` substitution and the condition operators,
//! evaluated as Kyverno's engine does for `verifyImages[].attestations[].conditions`.
//!
//! Kyverno's value model is kept: after substitution a top-level number is a float64,
//! numbers inside arrays and objects compare by value, strings are matched with
//! wildcards, and each operator coerces exactly as its Go handler (see `operators` and
//! `membership`). Operator type mismatches are `false`, never errors, as in Kyverno.

mod membership;
mod operators;
mod pattern;
mod substitute;

use serde_json::Value;

use crate::{Error, Result};

pub use substitute::{check_template, substitute};

use substitute::{substitute_with, Vars};

/// A Kyverno condition operator (the CRD's enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Operator {
    /// Same value (strings: the value is a wildcard pattern; durations and quantities by amount).
    Equals,
    /// Negation of `Equals`, with Kyverno's own type rules.
    NotEquals,
    /// The key (or every key of an array key) is among the values.
    In,
    /// Negation of `In`.
    NotIn,
    /// At least one key is among the values (wildcards both ways, `1-10` ranges).
    AnyIn,
    /// Every key is among the values.
    AllIn,
    /// At least one key is not among the values.
    AnyNotIn,
    /// No key is among the values.
    AllNotIn,
    /// Numbers, durations, quantities or semantic versions: key > value.
    GreaterThan,
    /// key >= value.
    GreaterThanOrEquals,
    /// key < value.
    LessThan,
    /// key <= value.
    LessThanOrEquals,
    /// Durations (Go syntax, or numbers of seconds): key > value.
    DurationGreaterThan,
    /// key >= value as durations.
    DurationGreaterThanOrEquals,
    /// key < value as durations.
    DurationLessThan,
    /// key <= value as durations.
    DurationLessThanOrEquals,
}

impl Operator {
    /// Every operator, in the CRD's order.
    pub const ALL: [Operator; 16] = [
        Operator::Equals,
        Operator::NotEquals,
        Operator::In,
        Operator::AnyIn,
        Operator::AllIn,
        Operator::NotIn,
        Operator::AnyNotIn,
        Operator::AllNotIn,
        Operator::GreaterThanOrEquals,
        Operator::GreaterThan,
        Operator::LessThanOrEquals,
        Operator::LessThan,
        Operator::DurationGreaterThanOrEquals,
        Operator::DurationGreaterThan,
        Operator::DurationLessThanOrEquals,
        Operator::DurationLessThan,
    ];

    /// Parses an operator name exactly as the Kyverno CRD's enum admits it: case-sensitive,
    /// without the deprecated `Equal`/`NotEqual` (the API server rejects those).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == s)
    }

    /// The operator's name as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "Equals",
            Operator::NotEquals => "NotEquals",
            Operator::In => "In",
            Operator::NotIn => "NotIn",
            Operator::AnyIn => "AnyIn",
            Operator::AllIn => "AllIn",
            Operator::AnyNotIn => "AnyNotIn",
            Operator::AllNotIn => "AllNotIn",
            Operator::GreaterThan => "GreaterThan",
            Operator::GreaterThanOrEquals => "GreaterThanOrEquals",
            Operator::LessThan => "LessThan",
            Operator::LessThanOrEquals => "LessThanOrEquals",
            Operator::DurationGreaterThan => "DurationGreaterThan",
            Operator::DurationGreaterThanOrEquals => "DurationGreaterThanOrEquals",
            Operator::DurationLessThan => "DurationLessThan",
            Operator::DurationLessThanOrEquals => "DurationLessThanOrEquals",
        }
    }

    /// Applies the operator to already-substituted operands.
    pub fn apply(self, key: &Value, value: &Value) -> Result<bool> {
        match self {
            Operator::Equals => Ok(operators::equals(key, value)),
            Operator::NotEquals => Ok(operators::not_equals(key, value)),
            Operator::In
            | Operator::NotIn
            | Operator::AnyIn
            | Operator::AllIn
            | Operator::AnyNotIn
            | Operator::AllNotIn => membership::evaluate(self, key, value),
            _ => Ok(operators::compare(self, key, value)),
        }
    }
}

/// One Kyverno condition: key, operator, value, optional message. key/value are raw JSON (may hold `{{ }}`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Condition {
    /// The left operand as written (`"{{ builder.id }}"`).
    pub key: Value,
    /// How key and value are compared.
    pub operator: Operator,
    /// The right operand as written.
    pub value: Value,
    /// Shown when the condition is false (may hold `{{ }}` too).
    pub message: Option<String>,
}

/// Kyverno's AnyAllConditions.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct AnyAllConditions {
    /// Passes when one of these is true (or when there are none).
    pub any: Vec<Condition>,
    /// Passes when all of these are true.
    pub all: Vec<Condition>,
}

/// Result of evaluating a list of AnyAllConditions blocks, Kyverno semantics (every block must pass; in a block, `any` needs one true condition (when non-empty) and `all` needs all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every block passed.
    Pass,
    /// A block failed.
    Fail {
        /// The messages of the false conditions of the first failing block, joined with
        /// `; ` (each the condition's own `message`, or a generated description).
        message: String,
    },
}

/// Evaluates one condition as Kyverno's `variables.Evaluate`: substitutes key and value
/// over `data` (an unresolvable variable is an error), then applies the operator.
pub fn evaluate(condition: &Condition, data: &Value) -> Result<bool> {
    evaluate_with(condition, &Vars::new(data))
}

fn evaluate_with(condition: &Condition, vars: &Vars<'_>) -> Result<bool> {
    let key = substitute_with(&condition.key, vars).map_err(|e| {
        Error::Condition(format!(
            "failed to substitute variables in condition key: {e}"
        ))
    })?;
    let value = substitute_with(&condition.value, vars).map_err(|e| {
        Error::Condition(format!(
            "failed to substitute variables in condition value: {e}"
        ))
    })?;
    condition.operator.apply(&key, &value)
}

/// Evaluates attestation conditions as Kyverno does (`internal.EvaluateConditions`):
/// first every key, value and message of every block is substituted over `data`, then
/// each condition is evaluated with [`evaluate`], which substitutes once more. (Kyverno
/// really substitutes twice, so a `\{{` escape, or `{{ }}` text inside the data, is
/// resolved by the second pass; Signet mirrors that so verdicts agree.)
///
/// Blocks are evaluated in order and the first failing one decides the outcome; within
/// a block the `any` list is evaluated up to its first true condition and the `all` list
/// up to its first false one, and an error anywhere aborts the whole evaluation.
pub fn evaluate_blocks(blocks: &[AnyAllConditions], data: &Value) -> Result<Outcome> {
    let vars = Vars::new(data);
    let substituted = blocks
        .iter()
        .map(|b| substitute_block(b, &vars))
        .collect::<Result<Vec<_>>>()
        .map_err(|e| {
            Error::Condition(format!(
                "failed to substitute variables in attestation conditions: {e}"
            ))
        })?;
    for (block, original) in substituted.iter().zip(blocks) {
        let mut false_messages = Vec::new();
        let mut any_passed = block.any.is_empty();
        for (c, orig) in block.any.iter().zip(&original.any) {
            if evaluate_with(c, &vars)? {
                any_passed = true;
                break;
            }
            false_messages.push(describe_failure(c, orig, &vars));
        }
        let mut all_passed = true;
        for (c, orig) in block.all.iter().zip(&original.all) {
            if !evaluate_with(c, &vars)? {
                all_passed = false;
                false_messages.push(describe_failure(c, orig, &vars));
                break;
            }
        }
        if !(any_passed && all_passed) {
            return Ok(Outcome::Fail {
                message: false_messages.join("; "),
            });
        }
    }
    Ok(Outcome::Pass)
}

/// The first substitution pass over a block; the message must stay a string (or null).
fn substitute_block(block: &AnyAllConditions, vars: &Vars<'_>) -> Result<AnyAllConditions> {
    let one = |c: &Condition| -> Result<Condition> {
        let message = match &c.message {
            None => None,
            Some(m) => match substitute_with(&Value::String(m.clone()), vars)? {
                Value::String(s) => Some(s),
                Value::Null => None,
                other => {
                    return Err(Error::Substitution(format!(
                        "message {m:?} resolved to non-string {other}"
                    )))
                }
            },
        };
        Ok(Condition {
            key: substitute_with(&c.key, vars)?,
            operator: c.operator,
            value: substitute_with(&c.value, vars)?,
            message,
        })
    };
    Ok(AnyAllConditions {
        any: block.any.iter().map(one).collect::<Result<_>>()?,
        all: block.all.iter().map(one).collect::<Result<_>>()?,
    })
}

/// The false condition's own message, or one naming the key as written, the operator,
/// the value and what the key evaluated to.
fn describe_failure(c: &Condition, original: &Condition, vars: &Vars<'_>) -> String {
    if let Some(m) = c.message.as_deref().filter(|m| !m.is_empty()) {
        return m.to_owned();
    }
    let key_now = substitute_with(&c.key, vars).unwrap_or_else(|_| c.key.clone());
    let mut text = format!(
        "condition failed: {} {} {}: the key evaluated to {}",
        render(&original.key),
        c.operator.as_str(),
        render(&original.value),
        render(&key_now)
    );
    if original.value != c.value {
        text.push_str(&format!(" and the value to {}", render(&c.value)));
    }
    text
}

/// Compact JSON for messages (`"text"`, `[1,2]`).
fn render(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| v.to_string())
}

#[cfg(test)]
mod tests_blocks;
#[cfg(test)]
mod tests_library;
#[cfg(test)]
mod tests_membership;
#[cfg(test)]
mod tests_operators;
#[cfg(test)]
mod tests_substitute;
