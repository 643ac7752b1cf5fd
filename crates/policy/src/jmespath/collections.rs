//! Kyverno's functions over objects and arrays, and its decoders: `label_match`,
//! `lookup`, `items`, `object_from_lists`, `parse_json`, `parse_yaml`.

use std::collections::BTreeMap;

use jmespath::functions::ArgumentType;
use jmespath::{Rcvar, Runtime, Variable};
use serde_json::Value;

use super::functions::{iface_to_string, register_fn, str_arg, Array, FnResult, Object, Str};

fn object(v: &Rcvar) -> Option<&BTreeMap<String, Rcvar>> {
    v.as_object()
}

/// Kyverno's `intNumber`: a float that is exactly an integer.
fn int_number(f: f64) -> Result<i64, String> {
    if !f.is_finite() || f.trunc() != f || f.abs() >= 9.2e18 {
        return Err(format!("expected an integer number but got: {f}"));
    }
    Ok(f as i64)
}

fn lookup(args: &[Rcvar]) -> FnResult {
    if let Some(map) = object(&args[0]) {
        let key = args[1]
            .as_string()
            .ok_or("argument #2 is not of type String")?;
        return Ok(map.get(key).map_or(Variable::Null, |v| (**v).clone()));
    }
    let items = args[0]
        .as_array()
        .ok_or("argument #1 is not of type Object or Array")?;
    let index = args[1]
        .as_number()
        .ok_or("argument #2 is not of type Number")?;
    let index = int_number(index).map_err(|e| format!("argument #2: {e}"))?;
    let item = usize::try_from(index).ok().and_then(|i| items.get(i));
    Ok(item.map_or(Variable::Null, |v| (**v).clone()))
}

fn items(args: &[Rcvar]) -> FnResult {
    let (key_name, value_name) = (str_arg(args, 1)?.to_owned(), str_arg(args, 2)?.to_owned());
    let pair = |k: Variable, v: &Rcvar| {
        let mut m = BTreeMap::new();
        m.insert(key_name.clone(), Rcvar::new(k));
        m.insert(value_name.clone(), v.clone());
        Rcvar::new(Variable::Object(m))
    };
    let out: Vec<Rcvar> = if let Some(map) = object(&args[0]) {
        // A BTreeMap iterates in byte order, as Kyverno's sort.Strings.
        map.iter()
            .map(|(k, v)| pair(Variable::String(k.clone()), v))
            .collect()
    } else {
        let arr = args[0]
            .as_array()
            .ok_or("argument #1 is not of type Object or Array")?;
        arr.iter()
            .enumerate()
            .map(|(i, v)| pair(Variable::Number((i as u64).into()), v))
            .collect()
    };
    Ok(Variable::Array(out))
}

fn object_from_lists(args: &[Rcvar]) -> FnResult {
    let keys = args[0]
        .as_array()
        .ok_or("argument #1 is not of type Array")?;
    let values = args[1]
        .as_array()
        .ok_or("argument #2 is not of type Array")?;
    let mut out = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        let key = iface_to_string(k).ok_or("argument #1 is not of type StringArray")?;
        let value = values
            .get(i)
            .cloned()
            .unwrap_or_else(|| Rcvar::new(Variable::Null));
        out.insert(key, value);
    }
    Ok(Variable::Object(out))
}

fn to_variable(v: Value) -> FnResult {
    Variable::try_from(v).map_err(|e| e.to_string())
}

/// YAML as `sigs.k8s.io/yaml.YAMLToJSON` turns it into JSON: scalar keys become strings.
fn yaml_to_json(v: serde_yaml_ng::Value) -> Result<Value, String> {
    use serde_yaml_ng::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or("non-finite number is not JSON")?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    Y::Null => "null".to_owned(),
                    _ => return Err("unsupported map key type".to_owned()),
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value)?,
    })
}

/// Registers the object/array functions and the decoders.
pub(super) fn register(rt: &mut Runtime) {
    let obj_or_arr = || ArgumentType::Union(vec![Object, Array]);
    register_fn(rt, "label_match", vec![Object, Object], |a| {
        let (labels, against) = (
            object(&a[0]).ok_or("argument #1 is not of type Object")?,
            object(&a[1]).ok_or("argument #2 is not of type Object")?,
        );
        Ok(Variable::Bool(
            labels
                .iter()
                .all(|(k, v)| against.get(k).is_some_and(|w| w == v)),
        ))
    });
    register_fn(
        rt,
        "lookup",
        vec![
            obj_or_arr(),
            ArgumentType::Union(vec![Str, ArgumentType::Number]),
        ],
        lookup,
    );
    register_fn(rt, "items", vec![obj_or_arr(), Str, Str], items);
    register_fn(
        rt,
        "object_from_lists",
        vec![Array, Array],
        object_from_lists,
    );
    register_fn(rt, "parse_json", vec![Str], |a| {
        to_variable(serde_json::from_str(str_arg(a, 0)?).map_err(|e| e.to_string())?)
    });
    register_fn(rt, "parse_yaml", vec![Str], |a| {
        let y: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(str_arg(a, 0)?).map_err(|e| e.to_string())?;
        to_variable(yaml_to_json(y)?)
    });
}
