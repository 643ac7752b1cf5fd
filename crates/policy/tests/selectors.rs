//! Label selectors are checked with Kubernetes' syntax at load: a malformed key, value
//! or expression would make Kyverno's selector fail to build and the rule never match.

mod common;

use common::build::*;
use signet_policy::{LabelSelectorRequirement, SelectorOperator};

fn selector(field: &str, body: &str) -> String {
    policy_matching(&format!("              {field}:\n{body}"))
}

fn labels(field: &str, pairs: &str) -> String {
    selector(field, &format!("                matchLabels: {{{pairs}}}"))
}

fn expression(field: &str, expr: &str) -> String {
    selector(
        field,
        &format!("                matchExpressions:\n                  - {expr}"),
    )
}

#[test]
fn match_labels_keys_are_label_keys() {
    let long = "a".repeat(64);
    for (key, path_key) in [
        ("\"app name\"", "app name"),
        ("Example.com/app", "Example.com/app"),
        ("\"/app\"", "/app"),
        ("a/b/c", "a/b/c"),
        ("-app", "-app"),
        (long.as_str(), long.as_str()),
    ] {
        for field in ["selector", "namespaceSelector"] {
            assert_error_at(
                &labels(field, &format!("{key}: x")),
                &format!("{RESOURCES}.{field}.matchLabels[{path_key}]"),
                &format!("{path_key:?} is not a valid label key: an optional DNS subdomain prefix"),
            );
        }
    }
}

#[test]
fn match_labels_values_are_label_values() {
    let long = "v".repeat(64);
    for value in ["-web", "web.", "a b", "w/b", long.as_str()] {
        for field in ["selector", "namespaceSelector"] {
            assert_error_at(
                &labels(field, &format!("app: \"{value}\"")),
                &format!("{RESOURCES}.{field}.matchLabels[app]"),
                &format!("{value:?} is not a valid label value: empty, or at most 63"),
            );
        }
    }
}

#[test]
fn wildcard_label_patterns_need_only_be_able_to_match() {
    let p = load_one(&labels(
        "selector",
        "\"app.kubernetes.io/*\": \"w*\", \"*\": \"*\", tier: \"\", \"?ier\": \"front?nd\"",
    ));
    let s = p.spec.rules[0].match_resources.any[0]
        .selector
        .as_ref()
        .expect("selector");
    assert_eq!(s.match_labels.len(), 4);
    // `*` may stand for nothing: 64 characters with one star can still match 63.
    let long = format!("{}*", "a".repeat(63));
    load_one(&labels("selector", &format!("app: \"{long}\"")));
    // No label can match a pattern with a character labels never have.
    assert_error_at(
        &labels("selector", "\"app!*\": x"),
        &format!("{RESOURCES}.selector.matchLabels[app!*]"),
        "\"app!*\" is not a valid label key",
    );
    assert_error_at(
        &labels("selector", "app: \"w* b\""),
        &format!("{RESOURCES}.selector.matchLabels[app]"),
        "\"w* b\" is not a valid label value",
    );
}

#[test]
fn match_expressions_are_checked() {
    let at = |field: &str, rest: &str| format!("{RESOURCES}.{field}.matchExpressions[0]{rest}");
    for field in ["selector", "namespaceSelector"] {
        assert_error_at(
            &expression(field, "{key: \"bad key\", operator: Exists}"),
            &at(field, ".key"),
            "\"bad key\" is not a valid label key",
        );
        assert_error_at(
            &expression(field, "{key: app, operator: In, values: [web, \"w*\"]}"),
            &at(field, ".values[1]"),
            "\"w*\" is not a valid label value",
        );
        assert_error_at(
            &expression(field, "{key: app, operator: Equals, values: [web]}"),
            &at(field, ".operator"),
            "\"Equals\" is not valid: expected In, NotIn, Exists or DoesNotExist",
        );
        assert_error_at(
            &expression(field, "{key: app, values: [web]}"),
            &at(field, ".operator"),
            "required",
        );
        assert_error_at(
            &expression(field, "{operator: Exists}"),
            &at(field, ".key"),
            "required",
        );
        for op in ["In", "NotIn"] {
            assert_error_at(
                &expression(field, &format!("{{key: app, operator: {op}}}")),
                &at(field, ".values"),
                "must be non-empty for In and NotIn",
            );
            assert_error_at(
                &expression(field, &format!("{{key: app, operator: {op}, values: []}}")),
                &at(field, ".values"),
                "must be non-empty for In and NotIn",
            );
        }
        for op in ["Exists", "DoesNotExist"] {
            assert_error_at(
                &expression(
                    field,
                    &format!("{{key: app, operator: {op}, values: [web]}}"),
                ),
                &at(field, ".values"),
                "must be empty for Exists and DoesNotExist",
            );
        }
    }
}

#[test]
fn exclude_selectors_are_checked_too() {
    let text = policy("", "", "").replace(
        "      verifyImages:\n",
        "      exclude:\n        any:\n          - resources:\n              namespaceSelector:\n                matchLabels: {\"team name\": x}\n      verifyImages:\n",
    );
    assert_error_at(
        &text,
        "spec.rules[0].exclude.any[0].resources.namespaceSelector.matchLabels[team name]",
        "\"team name\" is not a valid label key",
    );
}

#[test]
fn valid_selectors_load_as_written() {
    let p = load_one(&selector(
        "namespaceSelector",
        "                matchLabels: {\"example.com/team\": payments, env: \"\"}
                matchExpressions:
                  - {key: tier, operator: NotIn, values: [dev, test]}
                  - {key: example.com/exempt, operator: DoesNotExist}",
    ));
    let s = p.spec.rules[0].match_resources.any[0]
        .namespace_selector
        .as_ref()
        .expect("namespaceSelector");
    assert_eq!(
        s.match_labels,
        [
            ("example.com/team".to_owned(), "payments".to_owned()),
            ("env".to_owned(), String::new())
        ]
    );
    assert_eq!(
        s.match_expressions,
        [
            LabelSelectorRequirement {
                key: "tier".into(),
                operator: SelectorOperator::NotIn,
                values: vec!["dev".into(), "test".into()],
            },
            LabelSelectorRequirement {
                key: "example.com/exempt".into(),
                operator: SelectorOperator::DoesNotExist,
                values: Vec::new(),
            },
        ]
    );
}
