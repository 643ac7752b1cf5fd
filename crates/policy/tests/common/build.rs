//! A valid policy to vary, and assertions on the errors of a variant.

use signet_policy::{load_policies, Error, Policy};

/// A P-256 public key as one double-quoted YAML scalar.
pub const KEY: &str = r#""-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM\n5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==\n-----END PUBLIC KEY-----""#;

/// A valid policy with `$SPEC` (spec-level extra lines), `$ENTRY` (verifyImages entry
/// extra lines) and `$ATTESTOR` (attestor entry) placeholders.
pub fn policy(spec: &str, entry: &str, attestor: &str) -> String {
    let attestor = if attestor.is_empty() {
        format!("keys: {{publicKeys: {KEY}}}")
    } else {
        attestor.to_owned()
    };
    format!(
        "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: p
spec:
  validationFailureAction: Enforce
{spec}
  rules:
    - name: r
      match:
        any:
          - resources:
              kinds: [Pod]
      verifyImages:
        - imageReferences: [\"registry.example.com/*\"]
{entry}
          attestors:
            - entries:
                - {attestor}
"
    )
}

/// Loads and returns `(path, message)` of every error.
pub fn errors(text: &str) -> Vec<(String, String)> {
    match load_policies(text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(Error::InvalidPolicy(d)) => d
            .errors()
            .iter()
            .map(|e| (e.path.clone(), e.message.clone()))
            .collect(),
        Err(e) => panic!("unexpected error kind: {e}"),
    }
}

pub fn assert_error(text: &str, path: &str, message_part: &str) {
    let errs = errors(text);
    assert!(
        errs.iter()
            .any(|(p, m)| p == path && m.contains(message_part)),
        "expected {path}: …{message_part}… in {errs:?}"
    );
}

/// A self-signed P-256 certificate (CN signet-test, valid to 2126) as one double-quoted
/// YAML scalar.
pub const CERT: &str = concat!(
    r#"""#,
    r#"-----BEGIN CERTIFICATE-----\n"#,
    r#"MIIBhDCCASmgAwIBAgIUGkygR9nbgLZjTIgFoSJi9Rtc+fswCgYIKoZIzj0EAwIw\n"#,
    r#"FjEUMBIGA1UEAwwLc2lnbmV0LXRlc3QwIBcNMjYxMTI3MDQ0MDQyWhgPMjEyNjEx\n"#,
    r#"MDMwNDQwNDJaMBYxFDASBgNVBAMMC3NpZ25ldC10ZXN0MFkwEwYHKoZIzj0CAQYI\n"#,
    r#"KoZIzj0DAQcDQgAEhNnHX4u3qw36dNAyI6RzaYAQvnVQHkA3Q+vT72/tD0NV+D8z\n"#,
    r#"7iKaXfy9E+O3YGqmMoDFL2zldHUauTJq5gLW3aNTMFEwHQYDVR0OBBYEFPlFEYLw\n"#,
    r#"D0QgbbuAiOj2H4c+Of+kMB8GA1UdIwQYMBaAFPlFEYLwD0QgbbuAiOj2H4c+Of+k\n"#,
    r#"MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAIvzKD4jVxvcI7Dl\n"#,
    r#"c4DdJq+1z6hKoXYb0Sfxogt8jExfAiEAhYcjPNkIgz0VlofRR1mbnLauyPHAP0M5\n"#,
    r#"pT/Qbp8cDdQ=\n"#,
    r#"-----END CERTIFICATE-----"#,
    r#"""#,
);

pub const ENTRY: &str = "spec.rules[0].verifyImages[0]";
pub const ATTESTOR: &str = "spec.rules[0].verifyImages[0].attestors[0].entries[0]";

/// Asserts an error at exactly `path` whose message starts with `message_start`.
pub fn assert_error_at(text: &str, path: &str, message_start: &str) {
    let errs = errors(text);
    assert!(
        errs.iter()
            .any(|(p, m)| p == path && m.starts_with(message_start)),
        "expected {path}: {message_start}… in {errs:?}"
    );
}

/// Loads a policy that must be valid.
pub fn load_one(text: &str) -> Policy {
    let mut p = load_policies(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(p.len(), 1);
    p.remove(0)
}

/// The valid policy with `extra` lines (indented 14) in its `match.any[0].resources`.
pub fn policy_matching(extra: &str) -> String {
    policy("", "", "").replace(
        "              kinds: [Pod]\n",
        &format!("              kinds: [Pod]\n{extra}\n"),
    )
}

/// The path of the valid policy's `match.any[0].resources`.
pub const RESOURCES: &str = "spec.rules[0].match.any[0].resources";
