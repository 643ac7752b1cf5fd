//! `match` / `exclude` blocks and label selectors.

use crate::decode::{Errors, Node, Obj, Path, Unsupported};
use crate::labels;
use crate::{
    LabelSelector, LabelSelectorRequirement, MatchResources, Operation, ResourceDescription,
    SelectorOperator,
};

const USER_INFO: Unsupported<'static> = &[
    ("roles", "admission user info is not matched by Signet"),
    (
        "clusterRoles",
        "admission user info is not matched by Signet",
    ),
    ("subjects", "admission user info is not matched by Signet"),
];

pub(super) fn read_match(node: Node<'_, '_>, errs: &mut Errors) -> Option<MatchResources> {
    let mut obj = node.object(errs)?;
    let any = obj.with("any", errs, read_filters);
    let all = obj.with("all", errs, read_filters);
    let legacy = obj.with("resources", errs, read_description);
    let path = obj.path.clone();
    obj.finish(errs, USER_INFO);
    let forms = [any.is_some(), all.is_some(), legacy.is_some()];
    match forms {
        [true, true, _] => {
            errs.push(&path, "any and all cannot be used together");
            None
        }
        [true, _, true] | [_, true, true] => {
            errs.push(
                &path.field("resources"),
                "cannot be combined with any/all: move it into an any or all entry",
            );
            None
        }
        [false, false, false] => {
            errs.push(&path, "one of any, all or resources is required");
            None
        }
        _ => Some(MatchResources {
            any: any.unwrap_or_default(),
            all: all.or_else(|| legacy.map(|d| vec![d])).unwrap_or_default(),
        }),
    }
}

fn read_filters(node: Node<'_, '_>, errs: &mut Errors) -> Option<Vec<ResourceDescription>> {
    let filters = node.list(errs, |n, errs| {
        let mut obj = n.object(errs)?;
        let resources = obj.with("resources", errs, read_description);
        if !obj.has("resources") {
            errs.push(&obj.path.field("resources"), "required");
        }
        obj.finish(errs, USER_INFO);
        resources
    })?;
    if filters.is_empty() {
        errs.push(node.path, "at least one entry is required");
        return None;
    }
    Some(filters)
}

fn read_description(node: Node<'_, '_>, errs: &mut Errors) -> Option<ResourceDescription> {
    let mut obj = node.object(errs)?;
    let kinds = obj.string_list("kinds", errs).unwrap_or_default();
    if kinds.is_empty() {
        errs.push(
            &obj.path.field("kinds"),
            "at least one kind is required, as Kyverno requires",
        );
    }
    for (i, k) in kinds.iter().enumerate() {
        let path = obj.path.field("kinds").index(i);
        if super::no_variables(k, &path, errs) {
            check_kind(k, &path, errs);
        }
    }
    let mut names = obj.string_list("names", errs).unwrap_or_default();
    if let Some(name) = obj.string("name", errs) {
        names.push(name);
    }
    let namespaces = obj.string_list("namespaces", errs).unwrap_or_default();
    let annotations = obj.string_map("annotations", errs).unwrap_or_default();
    super::no_variables_in_map(&annotations, &obj.path.field("annotations"), errs);
    let selector = obj.with("selector", errs, read_selector);
    let namespace_selector = obj.with("namespaceSelector", errs, read_selector);
    let operations = read_operations(&mut obj, errs);
    for (field, values) in [("names", &names), ("namespaces", &namespaces)] {
        for (i, v) in values.iter().enumerate() {
            let p = obj.path.field(field).index(i);
            if v.is_empty() {
                errs.push(&p, "must not be empty");
            } else {
                super::no_variables(v, &p, errs);
            }
        }
    }
    obj.finish(errs, &[]);
    Some(ResourceDescription {
        kinds,
        names,
        namespaces,
        annotations,
        selector,
        namespace_selector,
        operations,
    })
}

/// Kinds are `Kind`, `Version/Kind` or `Group/Version/Kind`, optionally `/subresource` or
/// `.subresource` as Kyverno writes them; `*` and `?` wildcards are allowed. Kyverno splits
/// the last part at its dots too, and a kind that gives more than four parts then parses
/// to empty patterns, which match nothing.
fn check_kind(kind: &str, path: &Path, errs: &mut Errors) {
    let slashes = kind.split('/');
    let parts =
        slashes.clone().count() + kind.rsplit('/').next().unwrap_or("").matches('.').count();
    if kind.is_empty() {
        errs.push(path, "must not be empty");
    } else if parts > 4 || slashes.clone().any(str::is_empty) {
        errs.push(
            path,
            format!("{kind:?} is not a kind: expected Kind, Version/Kind or Group/Version/Kind"),
        );
    } else if kind.chars().any(char::is_whitespace) {
        errs.push(path, format!("{kind:?} contains white space"));
    }
}

fn read_operations(obj: &mut Obj<'_>, errs: &mut Errors) -> Vec<Operation> {
    let path = obj.path.field("operations");
    let names = obj.string_list("operations", errs).unwrap_or_default();
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        match Operation::parse(name) {
            Some(op) => out.push(op),
            None => errs.push(
                &path.index(i),
                format!("{name:?} is not an operation: expected CREATE, UPDATE, DELETE or CONNECT"),
            ),
        }
    }
    out
}

pub(super) fn read_selector(node: Node<'_, '_>, errs: &mut Errors) -> Option<LabelSelector> {
    let mut obj = node.object(errs)?;
    let match_labels = obj.string_map("matchLabels", errs).unwrap_or_default();
    let labels_path = obj.path.field("matchLabels");
    for (key, value) in &match_labels {
        // Kyverno replaces a wildcard entry by a label it matches, so a pattern needs only
        // to be able to match a valid label: its wildcards stand for letters (`*` also for
        // nothing, hence the length slack).
        let slack = |s: &str| s.matches('*').count();
        let stand_in = |s: &str| s.replace(['*', '?'], "0");
        let path = labels_path.key(key);
        check_label_key(&stand_in(key), key, slack(key), &path, errs);
        check_label_value(&stand_in(value), value, slack(value), &path, errs);
    }
    let match_expressions = obj
        .with("matchExpressions", errs, |n, errs| {
            n.list(errs, read_requirement)
        })
        .unwrap_or_default();
    obj.finish(errs, &[]);
    Some(LabelSelector {
        match_labels,
        match_expressions,
    })
}

fn read_requirement(node: Node<'_, '_>, errs: &mut Errors) -> Option<LabelSelectorRequirement> {
    let mut obj = node.object(errs)?;
    let obj_path = obj.path.clone();
    let key = obj.string("key", errs);
    if !obj.has("key") {
        errs.push(&obj.path.field("key"), "required");
    }
    let op_path = obj.path.field("operator");
    let operator = match obj.string("operator", errs).as_deref() {
        Some("In") => Some(SelectorOperator::In),
        Some("NotIn") => Some(SelectorOperator::NotIn),
        Some("Exists") => Some(SelectorOperator::Exists),
        Some("DoesNotExist") => Some(SelectorOperator::DoesNotExist),
        Some(other) => {
            errs.push(
                &op_path,
                format!("{other:?} is not valid: expected In, NotIn, Exists or DoesNotExist"),
            );
            None
        }
        None => {
            errs.push(&op_path, "required");
            None
        }
    };
    let values_path = obj.path.field("values");
    let values = obj.string_list("values", errs).unwrap_or_default();
    obj.finish(errs, &[]);
    if let Some(k) = &key {
        check_label_key(k, k, 0, &obj_path.field("key"), errs);
    }
    for (i, v) in values.iter().enumerate() {
        check_label_value(v, v, 0, &values_path.index(i), errs);
    }
    let operator = operator?;
    match operator {
        SelectorOperator::In | SelectorOperator::NotIn if values.is_empty() => {
            errs.push(&values_path, "must be non-empty for In and NotIn");
        }
        SelectorOperator::Exists | SelectorOperator::DoesNotExist if !values.is_empty() => {
            errs.push(&values_path, "must be empty for Exists and DoesNotExist");
        }
        _ => {}
    }
    Some(LabelSelectorRequirement {
        key: key?,
        operator,
        values,
    })
}

/// Refuses a label key (checked as `probe`, reported as `written`) that Kubernetes would
/// not accept in a selector: Kyverno's selector would not build and never match. A key
/// holding variables is refused as such.
fn check_label_key(probe: &str, written: &str, slack: usize, path: &Path, errs: &mut Errors) {
    if super::no_variables(written, path, errs) && !labels::valid_key(probe, slack) {
        errs.push(
            path,
            format!(
                "{written:?} is not a valid label key: {}",
                labels::KEY_SYNTAX
            ),
        );
    }
}

/// [`check_label_key`] for a label value.
fn check_label_value(probe: &str, written: &str, slack: usize, path: &Path, errs: &mut Errors) {
    if super::no_variables(written, path, errs) && !labels::valid_value(probe, slack) {
        errs.push(
            path,
            format!(
                "{written:?} is not a valid label value: {}",
                labels::VALUE_SYNTAX
            ),
        );
    }
}
