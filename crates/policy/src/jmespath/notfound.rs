//! Kyverno's "Unknown key" rule, and walks over the syntax tree.
//!
//! Kyverno evaluates variables with its fork of go-jmespath, where a field lookup on an
//! object that lacks the key returns a `NotFoundError` instead of `null`. Only field
//! access, sub-expressions (`a.b`, `a[0]`) and the right side of `&&` pass that error
//! on; every other construct (function arguments, projections, filters, pipes, `||`,
//! `!`, comparisons, multi-selects) swallows it and goes on with `null`. This module
//! decides, for an expression and its data, whether Kyverno would have failed and on
//! which key, by evaluating sub-expressions with the standard interpreter.

use jmespath::ast::Ast;
use jmespath::{interpret, Context, JmespathError, Rcvar, Variable};

/// The key Kyverno would report as unknown for `ast` over `data`, if any.
pub(super) fn missing_key(
    ast: &Ast,
    data: &Rcvar,
    ctx: &mut Context<'_>,
) -> Result<Option<String>, JmespathError> {
    match ast {
        Ast::Field { name, .. } => Ok(match &**data {
            Variable::Object(map) if !map.contains_key(name) => Some(name.clone()),
            _ => None,
        }),
        // The crate parses `a | b` as a sub-expression too (at the `|` token); Kyverno's
        // pipe swallows the error.
        Ast::Subexpr { offset, .. } if ctx.expression.as_bytes().get(*offset) == Some(&b'|') => {
            Ok(None)
        }
        Ast::Subexpr { lhs, rhs, .. } => {
            if let Some(key) = missing_key(lhs, data, ctx)? {
                return Ok(Some(key));
            }
            let left = interpret(data, lhs, ctx)?;
            missing_key(rhs, &left, ctx)
        }
        Ast::And { lhs, rhs, .. } => {
            if interpret(data, lhs, ctx)?.is_truthy() {
                missing_key(rhs, data, ctx)
            } else {
                Ok(None)
            }
        }
        _ => Ok(None),
    }
}

/// Appends the name of every function called anywhere in `ast`.
pub(super) fn collect_functions(ast: &Ast, out: &mut Vec<String>) {
    match ast {
        Ast::Function { name, args, .. } => {
            out.push(name.clone());
            args.iter().for_each(|a| collect_functions(a, out));
        }
        Ast::Comparison { lhs, rhs, .. }
        | Ast::Projection { lhs, rhs, .. }
        | Ast::And { lhs, rhs, .. }
        | Ast::Or { lhs, rhs, .. }
        | Ast::Subexpr { lhs, rhs, .. } => {
            collect_functions(lhs, out);
            collect_functions(rhs, out);
        }
        Ast::Condition {
            predicate, then, ..
        } => {
            collect_functions(predicate, out);
            collect_functions(then, out);
        }
        Ast::Expref { ast, .. } => collect_functions(ast, out),
        Ast::Flatten { node, .. } | Ast::Not { node, .. } | Ast::ObjectValues { node, .. } => {
            collect_functions(node, out);
        }
        Ast::MultiList { elements, .. } => elements.iter().for_each(|e| collect_functions(e, out)),
        Ast::MultiHash { elements, .. } => {
            elements
                .iter()
                .for_each(|kv| collect_functions(&kv.value, out));
        }
        Ast::Identity { .. }
        | Ast::Field { .. }
        | Ast::Index { .. }
        | Ast::Literal { .. }
        | Ast::Slice { .. } => {}
    }
}

/// Appends the first field of every path that starts at the data's root: `request` in
/// `request.object.kind`, in `length(request.x)` or in `a || request`. Paths inside
/// projections, filters and expression references start at an element, not at the root,
/// and are left out (`items[?request]` reads an element's `request`).
pub(super) fn collect_root_fields(ast: &Ast, out: &mut Vec<String>) {
    match ast {
        Ast::Field { name, .. } => out.push(name.clone()),
        Ast::Subexpr { lhs, rhs, .. } => {
            collect_root_fields(lhs, out);
            // `@.request`: the right side is applied to the root itself.
            if matches!(**lhs, Ast::Identity { .. }) {
                collect_root_fields(rhs, out);
            }
        }
        Ast::Projection { lhs, .. } => collect_root_fields(lhs, out),
        Ast::Function { args, .. } => args.iter().for_each(|a| collect_root_fields(a, out)),
        Ast::Comparison { lhs, rhs, .. } | Ast::And { lhs, rhs, .. } | Ast::Or { lhs, rhs, .. } => {
            collect_root_fields(lhs, out);
            collect_root_fields(rhs, out);
        }
        Ast::Condition {
            predicate, then, ..
        } => {
            collect_root_fields(predicate, out);
            collect_root_fields(then, out);
        }
        Ast::Flatten { node, .. } | Ast::Not { node, .. } | Ast::ObjectValues { node, .. } => {
            collect_root_fields(node, out);
        }
        Ast::MultiList { elements, .. } => {
            elements.iter().for_each(|e| collect_root_fields(e, out));
        }
        Ast::MultiHash { elements, .. } => {
            elements
                .iter()
                .for_each(|kv| collect_root_fields(&kv.value, out));
        }
        Ast::Expref { .. }
        | Ast::Identity { .. }
        | Ast::Index { .. }
        | Ast::Literal { .. }
        | Ast::Slice { .. } => {}
    }
}
