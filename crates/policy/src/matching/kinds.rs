//! `kinds` of a resource filter, as Kyverno parses and matches them
//! (`pkg/utils/kube/kind.go`, `pkg/utils/match/kind.go`).

use super::request::GroupVersionKind;
use crate::wildcard;

/// A parsed `kinds` entry: group, version, kind and subresource patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindSelector {
    /// Group pattern (`*` when not written).
    pub group: String,
    /// Version pattern (`*` when not written).
    pub version: String,
    /// Kind pattern.
    pub kind: String,
    /// Subresource pattern; empty matches only the resource itself.
    pub subresource: String,
}

impl KindSelector {
    /// Kyverno's `ParseKindSelector`: `Kind`, `Version/Kind`, `Group/Version/Kind`, each
    /// optionally followed by `/subresource` or `.subresource` (the last part is split at
    /// dots, so `tekton.dev/v1beta1/TaskRun.status` has subresource `status`); `*/*` means
    /// every resource and subresource, `*/sub` (lowercase) one subresource of any kind.
    pub fn parse(input: &str) -> Self {
        let mut parts: Vec<&str> = input.split('/').collect();
        if let Some(last) = parts.pop() {
            parts.extend(last.split('.'));
        }
        let s = |v: &str| v.to_owned();
        let (group, version, kind, subresource) = match parts.as_slice() {
            [kind] => (s("*"), s("*"), s(kind), s("")),
            ["*", "*"] => (s("*"), s("*"), s("*"), s("*")),
            ["*", sub] if sub.to_lowercase() == *sub => (s("*"), s("*"), s("*"), s(sub)),
            [version, kind] if is_version(version) => (s("*"), s(version), s(kind), s("")),
            [kind, sub] => (s("*"), s("*"), s(kind), s(sub)),
            [version, kind, sub] if is_version(version) => (s("*"), s(version), s(kind), s(sub)),
            [group, version, kind] => (s(group), s(version), s(kind), s("")),
            [group, version, kind, sub] => (s(group), s(version), s(kind), s(sub)),
            // Kyverno returns empty patterns, which match only empty strings.
            _ => (s(""), s(""), s(""), s("")),
        };
        KindSelector {
            group,
            version,
            kind,
            subresource,
        }
    }

    /// Whether a request for `gvk` (and `subresource`, empty for the resource itself)
    /// matches this selector.
    pub fn matches(&self, gvk: &GroupVersionKind, subresource: &str) -> bool {
        wildcard::matches(&self.group, &gvk.group)
            && wildcard::matches(&self.version, &gvk.version)
            && wildcard::matches(&self.kind, &gvk.kind)
            && (wildcard::matches(&self.subresource, subresource)
                // The engine passes allowEphemeralContainers=true for backward compatibility:
                // a Pod selector also matches `pods/ephemeralcontainers`.
                || (gvk.group.is_empty()
                    && gvk.version == "v1"
                    && gvk.kind == "Pod"
                    && subresource == "ephemeralcontainers"))
    }
}

/// Kyverno's `CheckKind`: whether any entry of `kinds` matches the request.
pub fn check_kind(kinds: &[String], gvk: &GroupVersionKind, subresource: &str) -> bool {
    kinds
        .iter()
        .any(|k| KindSelector::parse(k).matches(gvk, subresource))
}

/// Kyverno's `ContainsKind` (used by autogen): whether an entry names `kind` exactly, after
/// dropping its group/version and subresource (`GetKindFromGVK` + `SplitSubresource`).
pub(crate) fn contains_kind(kinds: &[String], kind: &str) -> bool {
    kinds.iter().any(|k| kind_of_gvk(k) == kind)
}

/// `GetKindFromGVK` then `SplitSubresource`, keeping only the kind.
fn kind_of_gvk(s: &str) -> &str {
    let parts: Vec<&str> = s.split('/').collect();
    // GetKindFromGVK turns the first '.' of a lone kind into '/' (`Pod.status`);
    // SplitSubresource then keeps what precedes a single '/'.
    let dotted = |k: &'_ str| -> usize { k.find('.').unwrap_or(k.len()) };
    match parts.as_slice() {
        [k] => &k[..dotted(k)],
        ["*", "*"] => "*",
        [v, k] if is_version(v) => &k[..dotted(k)],
        [k, _sub] => k,
        [v, k, _sub] if is_version(v) => k,
        [_g, _v, k] => &k[..dotted(k)],
        // `g/v/k/sub` becomes `g/v` + `k/sub`, whose kind is `k`.
        [_g, _v, k, _sub] => k,
        _ => "",
    }
}

/// `^(v\d+((alpha|beta)\d+)?|\*)$`.
fn is_version(s: &str) -> bool {
    if s == "*" {
        return true;
    }
    let Some(rest) = s.strip_prefix('v') else {
        return false;
    };
    let major_len = rest.chars().take_while(char::is_ascii_digit).count();
    if major_len == 0 {
        return false;
    }
    let rest = &rest[major_len..];
    if rest.is_empty() {
        return true;
    }
    let Some(minor) = rest
        .strip_prefix("alpha")
        .or_else(|| rest.strip_prefix("beta"))
    else {
        return false;
    };
    !minor.is_empty() && minor.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gvk(group: &str, version: &str, kind: &str) -> GroupVersionKind {
        GroupVersionKind {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    #[test]
    fn parses_kind_selectors_like_kyverno() {
        let cases = [
            ("Pod", ["*", "*", "Pod", ""]),
            ("v1/Pod", ["*", "v1", "Pod", ""]),
            ("apps/v1/Deployment", ["apps", "v1", "Deployment", ""]),
            ("Pod/status", ["*", "*", "Pod", "status"]),
            ("Pod.status", ["*", "*", "Pod", "status"]),
            (
                "v1/Pod/ephemeralcontainers",
                ["*", "v1", "Pod", "ephemeralcontainers"],
            ),
            (
                "tekton.dev/v1beta1/TaskRun.status",
                ["tekton.dev", "v1beta1", "TaskRun", "status"],
            ),
            (
                "apps/v1/Deployment/scale",
                ["apps", "v1", "Deployment", "scale"],
            ),
            ("*/*", ["*", "*", "*", "*"]),
            ("*/scale", ["*", "*", "*", "scale"]),
            ("*", ["*", "*", "*", ""]),
            (
                "v2beta1/HorizontalPodAutoscaler",
                ["*", "v2beta1", "HorizontalPodAutoscaler", ""],
            ),
            ("a/b/c/d/e", ["", "", "", ""]),
        ];
        for (input, [g, v, k, s]) in cases {
            let sel = KindSelector::parse(input);
            assert_eq!(
                [
                    sel.group.as_str(),
                    &sel.version,
                    &sel.kind,
                    &sel.subresource
                ],
                [g, v, k, s],
                "{input:?}"
            );
        }
    }

    #[test]
    fn checks_kinds() {
        let pod = gvk("", "v1", "Pod");
        let deploy = gvk("apps", "v1", "Deployment");
        let taskrun = gvk("tekton.dev", "v1beta1", "TaskRun");
        // (kinds entry, gvk, subresource, matches)
        let cases: &[(&str, &GroupVersionKind, &str, bool)] = &[
            ("Pod", &pod, "", true),
            ("Pod", &pod, "status", false),
            ("Pod", &pod, "ephemeralcontainers", true),
            ("Pod", &deploy, "", false),
            ("v1/Pod", &pod, "", true),
            ("v2/Pod", &pod, "", false),
            ("apps/v1/Deployment", &deploy, "", true),
            ("extensions/v1/Deployment", &deploy, "", false),
            ("apps/*/Deployment", &deploy, "", true),
            ("Deploy*", &deploy, "", true),
            ("*", &taskrun, "", true),
            ("*", &deploy, "scale", false),
            ("*/*", &deploy, "scale", true),
            ("*/scale", &deploy, "scale", true),
            ("Deployment/scale", &deploy, "scale", true),
            ("Deployment/scale", &deploy, "", false),
            ("Pod/status", &pod, "status", true),
            (
                "tekton.dev/v1beta1/TaskRun.status",
                &taskrun,
                "status",
                true,
            ),
            ("tekton.dev/v1beta1/TaskRun", &taskrun, "status", false),
            ("Task?un", &taskrun, "", true),
        ];
        for (kind, gvk, sub, expected) in cases {
            assert_eq!(
                check_kind(&[kind.to_string()], gvk, sub),
                *expected,
                "{kind:?} vs {gvk:?}/{sub:?}"
            );
        }
    }

    #[test]
    fn contains_kind_strips_group_version_and_subresource() {
        for (entry, expected) in [
            ("Pod", true),
            ("v1/Pod", true),
            ("Pod/status", true),
            ("Pod.status", true),
            ("core/v1/Pod", true),
            ("v1/Pod/ephemeralcontainers", true),
            ("Po*", false),
            ("Deployment", false),
            ("*/*", false),
        ] {
            assert_eq!(
                contains_kind(&[entry.to_string()], "Pod"),
                expected,
                "{entry:?}"
            );
        }
    }

    #[test]
    fn versions() {
        for (s, expected) in [
            ("v1", true),
            ("v1beta1", true),
            ("v2alpha3", true),
            ("*", true),
            ("v1beta", false),
            ("apps", false),
            ("v", false),
            ("V1", false),
        ] {
            assert_eq!(is_version(s), expected, "{s:?}");
        }
    }
}
