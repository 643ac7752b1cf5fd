//! `spec` and `spec.rules[]`.

use std::collections::HashSet;

use super::resources::read_match;
use super::verify_images::read_image_verification;
use crate::decode::{Errors, Node, Unsupported};
use crate::{FailureAction, FailurePolicy, Rule, Spec};

const SPEC_UNSUPPORTED: Unsupported<'static> = &[
    (
        "validationFailureActionOverrides",
        "use per-entry verifyImages[].failureAction",
    ),
    ("applyRules", "every matching rule is applied"),
    ("admission", ""),
    ("emitWarning", ""),
    ("generateExisting", "Signet has no generate rules"),
    (
        "generateExistingOnPolicyUpdate",
        "Signet has no generate rules",
    ),
    ("mutateExistingOnPolicyUpdate", "Signet has no mutate rules"),
    ("schemaValidation", ""),
    ("useServerSideApply", ""),
    (
        "webhookConfiguration",
        "match conditions are not evaluated by Signet",
    ),
    ("evaluation", ""),
];

const RULE_UNSUPPORTED: Unsupported<'static> = &[
    (
        "context",
        "context entries (ConfigMaps, API calls, variables) need a cluster",
    ),
    ("preconditions", ""),
    ("celPreconditions", ""),
    ("validate", "Signet enforces verifyImages rules only"),
    ("mutate", "Signet enforces verifyImages rules only"),
    ("generate", "Signet enforces verifyImages rules only"),
    (
        "imageExtractors",
        "images are read from containers, initContainers and ephemeralContainers",
    ),
    ("reportProperties", ""),
    ("skipBackgroundRequests", ""),
];

/// Parses Kyverno's `validationFailureAction`, which it accepts in any case.
pub(super) fn parse_failure_action(s: &str) -> Option<FailureAction> {
    match s.to_ascii_lowercase().as_str() {
        "enforce" => Some(FailureAction::Enforce),
        "audit" => Some(FailureAction::Audit),
        _ => None,
    }
}

pub(super) fn read_spec(node: Node<'_, '_>, errs: &mut Errors) -> Option<Spec> {
    let mut obj = node.object(errs)?;
    let action_path = obj.path.field("validationFailureAction");
    let validation_failure_action = match obj.string("validationFailureAction", errs) {
        None => FailureAction::Audit,
        Some(s) => parse_failure_action(&s).unwrap_or_else(|| {
            errs.push(
                &action_path,
                format!("{s:?} is not valid: expected Enforce or Audit"),
            );
            FailureAction::Audit
        }),
    };
    let policy_path = obj.path.field("failurePolicy");
    let failure_policy = match obj.string("failurePolicy", errs).as_deref() {
        None | Some("Fail") => FailurePolicy::Fail,
        Some("Ignore") => FailurePolicy::Ignore,
        Some(other) => {
            errs.push(
                &policy_path,
                format!("{other:?} is not valid: expected Fail or Ignore"),
            );
            FailurePolicy::Fail
        }
    };
    let timeout_path = obj.path.field("webhookTimeoutSeconds");
    let webhook_timeout_seconds = match obj.int("webhookTimeoutSeconds", errs) {
        None => 10,
        Some(n @ 1..=30) => n as u32,
        Some(n) => {
            errs.push(
                &timeout_path,
                format!("{n} is out of range: must be 1 to 30 seconds"),
            );
            10
        }
    };
    let background = obj.bool("background", errs).unwrap_or(true);
    let rules_path = obj.path.field("rules");
    let rules = obj
        .with("rules", errs, |n, errs| {
            n.list(errs, |n, errs| {
                read_rule(n, errs, validation_failure_action)
            })
        })
        .unwrap_or_default();
    if rules.is_empty() && !errs_mention(errs, rules_path.as_str()) {
        errs.push(&rules_path, "at least one rule is required");
    }
    let mut names = HashSet::new();
    for (i, rule) in rules.iter().enumerate() {
        if !names.insert(rule.name.as_str()) {
            errs.push(
                &rules_path.index(i).field("name"),
                format!("duplicate rule name {:?}", rule.name),
            );
        }
    }
    obj.finish(errs, SPEC_UNSUPPORTED);
    Some(Spec {
        validation_failure_action,
        failure_policy,
        webhook_timeout_seconds,
        background,
        rules,
    })
}

fn errs_mention(errs: &Errors, prefix: &str) -> bool {
    errs.list.iter().any(|e| e.path.starts_with(prefix))
}

fn read_rule(node: Node<'_, '_>, errs: &mut Errors, policy_action: FailureAction) -> Option<Rule> {
    let mut obj = node.object(errs)?;
    let name = obj.string("name", errs);
    if !obj.has("name") {
        errs.push(&obj.path.field("name"), "required");
    }
    if let Some(n) = &name {
        if n.is_empty() || n.len() > 63 {
            errs.push(&obj.path.field("name"), "must be 1 to 63 characters");
        }
    }
    let match_resources = obj.with("match", errs, read_match);
    if !obj.has("match") {
        errs.push(&obj.path.field("match"), "required");
    }
    let exclude = obj.with("exclude", errs, read_match);
    let verify_path = obj.path.field("verifyImages");
    let verify_images = obj.with("verifyImages", errs, |n, errs| {
        n.list(errs, |n, errs| {
            read_image_verification(n, errs, policy_action)
        })
    });
    match &verify_images {
        None if !obj.has("verifyImages") => errs.push(
            &verify_path,
            "required: Signet enforces verifyImages rules only",
        ),
        Some(v) if v.is_empty() => errs.push(&verify_path, "at least one entry is required"),
        _ => {}
    }
    obj.finish(errs, RULE_UNSUPPORTED);
    Some(Rule {
        name: name?,
        match_resources: match_resources?,
        exclude,
        verify_images: verify_images?,
    })
}
