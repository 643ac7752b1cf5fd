//! Kubernetes label syntax (`k8s.io/apimachinery/pkg/util/validation`): what a label
//! selector may name. Kyverno builds selectors with it, and a selector that does not
//! build matches nothing; so the loader refuses what would not build, and matching
//! treats it the same way.

/// Longest label name or value.
const NAME_MAX: usize = 63;
/// Longest key prefix (a DNS subdomain).
const PREFIX_MAX: usize = 253;

/// How a label key is written, for messages.
pub const KEY_SYNTAX: &str = "an optional DNS subdomain prefix and '/', then a name \
of 1 to 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit";

/// How a label value is written, for messages.
pub const VALUE_SYNTAX: &str = "empty, or at most 63 letters, digits, '-', '_' or '.', \
beginning and ending with a letter or digit";

/// Whether `key` is a Kubernetes label key (`app`, `app.kubernetes.io/name`).
pub fn is_key(key: &str) -> bool {
    valid_key(key, 0)
}

/// Whether `value` is a Kubernetes label value (empty, or a name).
pub fn is_value(value: &str) -> bool {
    valid_value(value, 0)
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name. `slack` extends
/// the length limits (a wildcard pattern's `*` may stand for nothing).
pub(crate) fn valid_key(key: &str, slack: usize) -> bool {
    match key.split_once('/') {
        Some((prefix, name)) => dns_subdomain(prefix, PREFIX_MAX + slack) && name_ok(name, slack),
        None => name_ok(key, slack),
    }
}

/// A label value: empty, or a name.
pub(crate) fn valid_value(value: &str, slack: usize) -> bool {
    value.is_empty() || name_ok(value, slack)
}

/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, at most 63 characters (plus `slack`).
fn name_ok(s: &str, slack: usize) -> bool {
    let inner = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    !s.is_empty()
        && s.len() <= NAME_MAX + slack
        && s.bytes().all(inner)
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// An RFC 1123 subdomain of at most `max` characters.
fn dns_subdomain(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values() {
        for good in ["app", "a", "app.kubernetes.io/name", "x/Y_1.z", "A-b"] {
            assert!(valid_key(good, 0), "{good}");
        }
        let long = "a".repeat(64);
        for bad in [
            "",
            "/app",
            "app/",
            "-app",
            "app-",
            "a b",
            "a/b/c",
            "Example.com/app",
            "ex..com/app",
            long.as_str(),
        ] {
            assert!(!valid_key(bad, 0), "{bad}");
        }
        assert!(valid_key(&long, 1));
        for good in ["", "web", "v1.2_3-x"] {
            assert!(valid_value(good, 0), "{good}");
        }
        for bad in ["-web", "web.", "w b", "w*", long.as_str()] {
            assert!(!valid_value(bad, 0), "{bad}");
        }
    }
}
