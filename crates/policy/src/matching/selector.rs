//! Label selectors and annotation filters, as Kyverno evaluates them
//! (`pkg/utils/match/labels.go`, `pkg/engine/wildcards/wildcards.go`,
//! `pkg/utils/match/annotations.go`).

use std::collections::BTreeMap;

use crate::wildcard::{contains_wildcard, matches};
use crate::{LabelSelector, SelectorOperator};

/// Whether `labels` satisfy `selector`.
///
/// Kyverno first replaces each `matchLabels` entry holding a wildcard by the first label
/// that matches both its key and value patterns (or, when none does, by the pattern with
/// its wildcards turned into `0`, which no label can then match unless the pattern would
/// have matched it), and then builds a Kubernetes selector. So a wildcard entry holds when
/// some label matches it; other entries compare literally. Building the selector fails on
/// keys or values Kubernetes would not accept, and a selector that fails matches nothing,
/// even through `NotIn` or `DoesNotExist`. An empty selector matches everything.
pub fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = selector.match_labels.iter().all(|(k, v)| {
        if contains_wildcard(k) || contains_wildcard(v) {
            labels
                .iter()
                .any(|(lk, lv)| matches(k, lk) && matches(v, lv))
        } else {
            valid_key(k) && valid_value(v) && labels.get(k) == Some(v)
        }
    });
    labels_ok
        && selector.match_expressions.iter().all(|req| {
            if !valid_key(&req.key) || !req.values.iter().all(|v| valid_value(v)) {
                return false;
            }
            let value = labels.get(&req.key);
            match req.operator {
                SelectorOperator::In => value.is_some_and(|v| req.values.contains(v)),
                SelectorOperator::NotIn => value.is_none_or(|v| !req.values.contains(v)),
                SelectorOperator::Exists => value.is_some(),
                SelectorOperator::DoesNotExist => value.is_none(),
            }
        })
}

/// Kyverno's `CheckAnnotations`: every expected entry matches some annotation, key and
/// value both as wildcard patterns.
pub fn annotations_match(expected: &[(String, String)], actual: &BTreeMap<String, String>) -> bool {
    expected.iter().all(|(k, v)| {
        actual
            .iter()
            .any(|(ak, av)| matches(k, ak) && matches(v, av))
    })
}

fn valid_key(key: &str) -> bool {
    crate::labels::valid_key(key, 0)
}

fn valid_value(value: &str) -> bool {
    crate::labels::valid_value(value, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LabelSelectorRequirement;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sel(labels: &[(&str, &str)], exprs: &[(&str, SelectorOperator, &[&str])]) -> LabelSelector {
        LabelSelector {
            match_labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            match_expressions: exprs
                .iter()
                .map(|(k, op, vs)| LabelSelectorRequirement {
                    key: k.to_string(),
                    operator: *op,
                    values: vs.iter().map(|v| v.to_string()).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn selectors() {
        use SelectorOperator::*;
        let labels = map(&[
            ("app", "web"),
            ("tier", "frontend"),
            ("app.kubernetes.io/name", "shop"),
        ]);
        let cases: &[(LabelSelector, bool)] = &[
            (sel(&[], &[]), true),
            (sel(&[("app", "web")], &[]), true),
            (sel(&[("app", "api")], &[]), false),
            (sel(&[("app", "web"), ("tier", "backend")], &[]), false),
            (sel(&[("app", "w*")], &[]), true),
            (sel(&[("app", "w?b")], &[]), true),
            (sel(&[("app", "x*")], &[]), false),
            (sel(&[("app.kubernetes.io/*", "shop")], &[]), true),
            (sel(&[("*", "frontend")], &[]), true),
            (sel(&[("*", "*")], &[]), true),
            (sel(&[], &[("app", In, &["web", "api"])]), true),
            (sel(&[], &[("app", In, &["api"])]), false),
            (sel(&[], &[("missing", In, &["x"])]), false),
            (sel(&[], &[("app", NotIn, &["api"])]), true),
            (sel(&[], &[("app", NotIn, &["web"])]), false),
            (sel(&[], &[("missing", NotIn, &["x"])]), true),
            (sel(&[], &[("tier", Exists, &[])]), true),
            (sel(&[], &[("missing", Exists, &[])]), false),
            (sel(&[], &[("missing", DoesNotExist, &[])]), true),
            (sel(&[], &[("tier", DoesNotExist, &[])]), false),
            (sel(&[("app", "web")], &[("tier", In, &["frontend"])]), true),
            (sel(&[("app", "web")], &[("tier", In, &["backend"])]), false),
            // Wildcards are not expanded in expressions: an invalid value fails the selector.
            (sel(&[], &[("app", In, &["w*"])]), false),
            (sel(&[], &[("missing", NotIn, &["w*"])]), false),
            (sel(&[], &[("bad key!", DoesNotExist, &[])]), false),
        ];
        for (i, (selector, expected)) in cases.iter().enumerate() {
            assert_eq!(
                selector_matches(selector, &labels),
                *expected,
                "case {i}: {selector:?}"
            );
        }
        assert!(selector_matches(
            &sel(&[], &[("a", NotIn, &["b"])]),
            &BTreeMap::new()
        ));
        assert!(!selector_matches(
            &sel(&[("a", "*")], &[]),
            &BTreeMap::new()
        ));
    }

    #[test]
    fn annotations() {
        let actual = map(&[("team", "payments"), ("example.com/scan", "passed")]);
        let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let cases: &[(&[(&str, &str)], bool)] = &[
            (&[], true),
            (&[("team", "payments")], true),
            (&[("team", "pay*")], true),
            (&[("team", "billing")], false),
            (&[("*/scan", "pass?d")], true),
            (
                &[("team", "payments"), ("example.com/scan", "failed")],
                false,
            ),
            (&[("owner", "*")], false),
        ];
        for (expected, result) in cases {
            assert_eq!(
                annotations_match(&pairs(expected), &actual),
                *result,
                "{expected:?}"
            );
        }
    }
}
