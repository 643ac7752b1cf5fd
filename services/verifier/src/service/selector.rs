//! Fleet scoping: the `signet.dev/cluster-selector` annotation holds a Kubernetes label
//! selector (`env=prod,region in (eu,us),!legacy`) matched against a cluster's labels.

use std::collections::BTreeMap;

use signet_policy::labels;

/// The annotation that scopes a policy to some clusters.
pub const CLUSTER_SELECTOR_ANNOTATION: &str = "signet.dev/cluster-selector";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; the empty selector matches every cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterSelector(Vec<Requirement>);

impl ClusterSelector {
    /// Parses the Kubernetes selector syntax; the error names the offending part.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for part in split_top_level(s) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            out.push(parse_requirement(part)?);
        }
        Ok(ClusterSelector(out))
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        })
    }
}

/// Splits on commas outside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    let bad = |why: &str| format!("{part:?}: {why}");
    let key_ok = |k: &str| {
        if labels::is_key(k) {
            Ok(k.to_owned())
        } else {
            Err(bad(&format!(
                "invalid label key {k:?}: {}",
                labels::KEY_SYNTAX
            )))
        }
    };
    let value_ok = |v: &str| {
        if labels::is_value(v) {
            Ok(v.to_owned())
        } else {
            Err(bad(&format!(
                "invalid label value {v:?}: {}",
                labels::VALUE_SYNTAX
            )))
        }
    };
    if let Some(k) = part.strip_prefix('!') {
        return Ok(Requirement::NotExists(key_ok(k.trim())?));
    }
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(Requirement::NotEquals(
            key_ok(k.trim())?,
            value_ok(v.trim())?,
        ));
    }
    if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Ok(Requirement::Equals(key_ok(k.trim())?, value_ok(v.trim())?));
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if words.len() == 2 {
        let rest = words[1].trim();
        let (op, list) = rest
            .split_once('(')
            .ok_or_else(|| bad("expected `in (…)` or `notin (…)`"))?;
        let list = list.strip_suffix(')').ok_or_else(|| bad("missing `)`"))?;
        let values = list
            .split(',')
            .map(|v| value_ok(v.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        if values.is_empty() || values.iter().all(String::is_empty) {
            return Err(bad("empty value list"));
        }
        return match op.trim() {
            "in" => Ok(Requirement::In(key_ok(words[0])?, values)),
            "notin" => Ok(Requirement::NotIn(key_ok(words[0])?, values)),
            other => Err(bad(&format!("unknown operator {other:?}"))),
        };
    }
    Ok(Requirement::Exists(key_ok(part)?))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Labels from pairs (also the cluster tests').
    pub(in crate::service) fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selector_syntax() {
        let s = ClusterSelector::parse("env=prod,region in (eu, us),!legacy,tier").expect("valid");
        assert!(s.matches(&labels(&[("env", "prod"), ("region", "eu"), ("tier", "1")])));
        assert!(!s.matches(&labels(&[("env", "prod"), ("region", "ap"), ("tier", "1")])));
        assert!(!s.matches(&labels(&[
            ("env", "prod"),
            ("region", "eu"),
            ("tier", "1"),
            ("legacy", "y")
        ])));
        assert!(!s.matches(&labels(&[("env", "dev"), ("region", "eu"), ("tier", "1")])));
        let s = ClusterSelector::parse("env!=prod,zone notin (a)").expect("valid");
        assert!(s.matches(&labels(&[])));
        assert!(!s.matches(&labels(&[("env", "prod")])));
        assert!(ClusterSelector::parse("")
            .expect("empty")
            .matches(&labels(&[])));
    }

    #[test]
    fn bad_selectors_name_the_part() {
        for bad in [
            "env in eu",
            "env in (eu",
            "k@y=v",
            "env=pr od",
            "env foo (a)",
            // Kubernetes label syntax, as cluster labels and Kyverno selectors use it.
            "-app=x",
            "Example.com/app=x",
            "app=x-",
            "region in (eu, -us)",
        ] {
            let e = ClusterSelector::parse(bad).expect_err(bad);
            assert!(e.contains('"'), "{e}");
        }
    }
}
