//! Kyverno's arithmetic (`arithmetic.go`): `add`, `sum`, `subtract`, `multiply`,
//! `divide`, `modulo` over numbers, resource quantities (`'12Ki'`) and Go durations
//! (`'1h30m'`), plus `round`, and an `avg` that returns null for an empty array.
//!
//! A string operand is a quantity if Kubernetes can parse it as one, else a duration
//! (so `'1m'` is a milli-quantity, `'1h'` a duration). Quantity and duration results
//! are strings in their canonical form (`1536Mi`, `1h30m0s`); number results are numbers.

use jmespath::functions::ArgumentType;
use jmespath::{Rcvar, Runtime, Variable};
use serde_json::Number as JsonNumber;

use super::duration::{format_go_duration, go_seconds, parse_go_duration};
use super::functions::{num_arg, register_fn, string, Any, Array, FnResult, Number};
use super::gocompat::go_format_g;
use super::quantity::Quantity;

#[derive(Debug, Clone, Copy)]
enum Operand {
    Scalar(f64),
    Quantity(Quantity),
    Duration(i64),
}

use Operand::{Duration as D, Quantity as Q, Scalar as S};

const MISMATCH: &str = "Types mismatch";
const ZERO: &str = "Zero divisor passed";

fn operand(v: &Variable) -> Result<Operand, String> {
    match v {
        Variable::Number(n) => n
            .as_f64()
            .map(S)
            .ok_or_else(|| "invalid operand".to_owned()),
        Variable::String(s) => Quantity::parse(s)
            .map(Q)
            .or_else(|| parse_go_duration(s).map(D))
            .ok_or_else(|| "invalid operand".to_owned()),
        _ => Err("invalid operand".to_owned()),
    }
}

fn operands(args: &[Rcvar]) -> Result<(Operand, Operand), String> {
    Ok((operand(&args[0])?, operand(&args[1])?))
}

fn number(f: f64) -> FnResult {
    JsonNumber::from_f64(f)
        .map(Variable::Number)
        .ok_or_else(|| format!("result {f} is not a JSON number"))
}

fn quantity(q: Option<Quantity>) -> FnResult {
    string(q.ok_or("quantity out of range")?.canonical())
}

/// A float scalar as the quantity `resource.ParseQuantity(fmt.Sprintf("%v", f))`.
fn scalar_quantity(f: f64) -> Result<Quantity, String> {
    Quantity::parse(&go_format_g(f)).ok_or_else(|| format!("quantities: {f} is not a quantity"))
}

/// `time.Duration(seconds * float64(time.Second))`.
fn duration_from_seconds(seconds: f64) -> FnResult {
    string(format_go_duration((seconds * 1e9) as i64))
}

fn add(a: Operand, b: Operand, subtract: bool) -> FnResult {
    match (a, b) {
        (Q(x), Q(y)) => quantity(if subtract { x.sub(y) } else { x.add(y) }),
        (D(x), D(y)) => string(format_go_duration(if subtract {
            x.wrapping_sub(y)
        } else {
            x.wrapping_add(y)
        })),
        (S(x), S(y)) => number(if subtract { x - y } else { x + y }),
        _ => Err(MISMATCH.to_owned()),
    }
}

fn multiply(a: Operand, b: Operand) -> FnResult {
    match (a, b) {
        (Q(q), S(s)) | (S(s), Q(q)) => quantity(q.mul(scalar_quantity(s)?)),
        (D(d), S(s)) | (S(s), D(d)) => duration_from_seconds(go_seconds(d) * s),
        (S(x), S(y)) => number(x * y),
        _ => Err(MISMATCH.to_owned()),
    }
}

fn divide(a: Operand, b: Operand) -> FnResult {
    match (a, b) {
        (Q(_), Q(y)) if y.to_f64() == 0.0 => Err(ZERO.to_owned()),
        (Q(x), Q(y)) => number(x.to_f64() / y.to_f64()),
        (Q(_), S(s)) | (D(_), S(s)) if s == 0.0 => Err(ZERO.to_owned()),
        (Q(q), S(s)) => quantity(q.div(scalar_quantity(s)?)),
        (D(_), D(y)) if go_seconds(y) == 0.0 => Err(ZERO.to_owned()),
        (D(x), D(y)) => number(go_seconds(x) / go_seconds(y)),
        (D(d), S(s)) => duration_from_seconds(go_seconds(d) / s),
        (S(_), S(0.0)) => Err(ZERO.to_owned()),
        (S(x), S(y)) => number(x / y),
        _ => Err(MISMATCH.to_owned()),
    }
}

/// Go's `int64(f)` with Kyverno's check that nothing was lost.
fn exact_int(f: f64) -> Result<i64, String> {
    let i = f as i64;
    if i as f64 == f {
        Ok(i)
    } else {
        Err("Non-integer argument(s) passed for modulo".to_owned())
    }
}

fn modulo(a: Operand, b: Operand) -> FnResult {
    match (a, b) {
        (Q(x), Q(y)) => {
            let (i, j) = (exact_int(x.to_f64())?, exact_int(y.to_f64())?);
            if j == 0 {
                return Err(ZERO.to_owned());
            }
            string(Quantity::from_units(i.wrapping_rem(j), x.format).canonical())
        }
        (D(_), D(0)) => Err(ZERO.to_owned()),
        (D(x), D(y)) => string(format_go_duration(x.wrapping_rem(y))),
        (S(x), S(y)) => {
            let (i, j) = (exact_int(x)?, exact_int(y)?);
            if j == 0 {
                return Err(ZERO.to_owned());
            }
            number(i.wrapping_rem(j) as f64)
        }
        _ => Err(MISMATCH.to_owned()),
    }
}

fn round(args: &[Rcvar]) -> FnResult {
    let (x, places) = (num_arg(args, 0)?, num_arg(args, 1)?);
    if !places.is_finite() || places.trunc() != places {
        return Err("Non-integer argument(s) passed for round off".to_owned());
    }
    if places < 0.0 {
        return Err("argument is out of bounds".to_owned());
    }
    let shift = 10f64.powf(places);
    number((x * shift).round() / shift)
}

fn sum(args: &[Rcvar]) -> FnResult {
    let items = args[0].as_array().ok_or(MISMATCH)?;
    // Kyverno errs on an empty array; Signet keeps JMESPath's `sum([]) == 0` so that the
    // standard compliance suite holds.
    let Some((first, rest)) = items.split_first() else {
        return number(0.0);
    };
    let mut acc = (**first).clone();
    for item in rest {
        acc = add(operand(&acc)?, operand(item)?, false)?;
    }
    Ok(acc)
}

fn avg(args: &[Rcvar]) -> FnResult {
    let items = args[0].as_array().ok_or(MISMATCH)?;
    if items.is_empty() {
        return Ok(Variable::Null);
    }
    let total: f64 = items.iter().filter_map(|v| v.as_number()).sum();
    number(total / items.len() as f64)
}

/// Registers the arithmetic functions (replacing JMESPath's `sum` and `avg`).
pub(super) fn register(rt: &mut Runtime) {
    register_fn(rt, "add", vec![Any, Any], |a| {
        operands(a).and_then(|(x, y)| add(x, y, false))
    });
    register_fn(rt, "subtract", vec![Any, Any], |a| {
        operands(a).and_then(|(x, y)| add(x, y, true))
    });
    register_fn(rt, "multiply", vec![Any, Any], |a| {
        operands(a).and_then(|(x, y)| multiply(x, y))
    });
    register_fn(rt, "divide", vec![Any, Any], |a| {
        operands(a).and_then(|(x, y)| divide(x, y))
    });
    register_fn(rt, "modulo", vec![Any, Any], |a| {
        operands(a).and_then(|(x, y)| modulo(x, y))
    });
    register_fn(rt, "round", vec![Number, Number], round);
    register_fn(rt, "sum", vec![Array], sum);
    register_fn(
        rt,
        "avg",
        vec![ArgumentType::TypedArray(Box::new(Number))],
        avg,
    );
}
