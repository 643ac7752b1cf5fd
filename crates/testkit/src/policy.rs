//! The Kyverno policy most tests and benches start from: one enforced rule on Pods with
//! one `verifyImages` entry whose attestor is one public key, its transparency log not
//! required. Tests add what they are about (entry fields, attestations) and keep the rest.

use crate::indent;

/// A `ClusterPolicy` of one rule verifying `images` against one public key.
#[derive(Debug, Clone)]
pub struct KeyPolicy<'a> {
    name: &'a str,
    rule: &'a str,
    images: &'a str,
    pem: &'a str,
    entry: Vec<&'a str>,
    more: &'a str,
}

impl<'a> KeyPolicy<'a> {
    /// The policy `name`, its rule `r` verifying the images matching `images` (a
    /// `imageReferences` pattern) against the PEM public key `pem`.
    pub fn new(name: &'a str, images: &'a str, pem: &'a str) -> Self {
        KeyPolicy {
            name,
            rule: "r",
            images,
            pem,
            entry: Vec::new(),
            more: "",
        }
    }

    /// Names the rule `rule` instead of `r`.
    pub fn rule(mut self, rule: &'a str) -> Self {
        self.rule = rule;
        self
    }

    /// Adds a field of the entry, written as YAML on one line (`mutateDigest: false`);
    /// fields come before the attestors, in the order added.
    pub fn field(mut self, field: &'a str) -> Self {
        self.entry.push(field);
        self
    }

    /// YAML that follows the attestors at the entry's level (indented 10), such as its
    /// `attestations`.
    pub fn then(mut self, yaml: &'a str) -> Self {
        self.more = yaml;
        self
    }

    /// The policy document.
    pub fn yaml(&self) -> String {
        let fields: String = self
            .entry
            .iter()
            .map(|f| format!("          {f}\n"))
            .collect();
        format!(
            "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {{name: {name}}}
spec:
  validationFailureAction: Enforce
  rules:
    - name: {rule}
      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}
      verifyImages:
        - imageReferences: [\"{images}\"]
{fields}          attestors:
            - entries:
{keys}{more}",
            name = self.name,
            rule = self.rule,
            images = self.images,
            keys = key_entry(self.pem, 16),
            more = self.more,
        )
    }
}

/// The entry's `attestations` (for [`KeyPolicy::then`]): a SLSA provenance v0.2 signed by
/// the PEM public key `pem`, its transparency log not required.
pub fn provenance_by_key(pem: &str) -> String {
    format!(
        "          attestations:
            - type: https://slsa.dev/provenance/v0.2
              attestors:
                - entries:
{}",
        key_entry(pem, 20)
    )
}

/// An attestor set's entry (a YAML list item indented `spaces`) for the PEM public key
/// `pem`, its transparency log not required.
pub fn key_entry(pem: &str, spaces: usize) -> String {
    let pad = " ".repeat(spaces);
    format!(
        "{pad}- keys:\n{pad}    publicKeys: |-\n{}{pad}    rekor: {{url: \"https://rekor.sigstore.dev\", ignoreTlog: true}}\n",
        indent(pem, spaces + 6)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----";

    #[test]
    fn the_plain_policy_reads_as_written() {
        let yaml = KeyPolicy::new("p", "reg.example/*", PEM).yaml();
        assert_eq!(
            yaml,
            "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: p}
spec:
  validationFailureAction: Enforce
  rules:
    - name: r
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: [\"reg.example/*\"]
          attestors:
            - entries:
                - keys:
                    publicKeys: |-
                      -----BEGIN PUBLIC KEY-----
                      MFkw
                      -----END PUBLIC KEY-----
                    rekor: {url: \"https://rekor.sigstore.dev\", ignoreTlog: true}
"
        );
    }

    #[test]
    fn provenance_is_required_by_the_same_kind_of_key_entry() {
        let yaml = provenance_by_key(PEM);
        let head =
            "          attestations:\n            - type: https://slsa.dev/provenance/v0.2\n";
        assert!(yaml.starts_with(head), "{yaml}");
        assert!(yaml.ends_with(&key_entry(PEM, 20)), "{yaml}");
    }

    #[test]
    fn fields_go_before_the_attestors_and_more_after() {
        let yaml = KeyPolicy::new("p", "*", PEM)
            .rule("signed")
            .field("mutateDigest: false")
            .field("verifyDigest: false")
            .then("          attestations: []\n")
            .yaml();
        assert!(yaml.contains("    - name: signed\n"), "{yaml}");
        assert!(
            yaml.contains("[\"*\"]\n          mutateDigest: false\n          verifyDigest: false\n          attestors:\n"),
            "{yaml}"
        );
        assert!(
            yaml.ends_with("ignoreTlog: true}\n          attestations: []\n"),
            "{yaml}"
        );
    }
}
