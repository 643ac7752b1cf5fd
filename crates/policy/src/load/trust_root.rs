//! The `signet.dev/trust-root` annotation: the stored trust root (Fulcio CAs, Rekor and CT
//! log keys) that this policy's checks use instead of the verifier's default root. Kyverno
//! documents have no field for it; like `signet.dev/cluster-selector`, the annotation
//! leaves the document a valid Kyverno policy. Whether the root exists is the service's
//! concern; here the name must be one a trust root can have.

use std::collections::BTreeMap;

use crate::decode::{Errors, Path};

/// The annotation naming a policy's trust root.
pub const TRUST_ROOT_ANNOTATION: &str = "signet.dev/trust-root";

/// The trust root named by `annotations`, if any; a malformed name is an error at
/// `metadata.annotations[signet.dev/trust-root]`.
pub(super) fn read(
    annotations: &BTreeMap<String, String>,
    path: &Path,
    errs: &mut Errors,
) -> Option<String> {
    let name = annotations.get(TRUST_ROOT_ANNOTATION)?;
    let valid = !name.is_empty()
        && name.len() <= 253
        && !name.contains('/')
        && !name.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        errs.push(
            &path.key(TRUST_ROOT_ANNOTATION),
            format!(
                "{name:?} is not a trust root name (1 to 253 characters, no '/', no white space)"
            ),
        );
        return None;
    }
    Some(name.clone())
}

#[cfg(test)]
mod tests {
    use crate::load_policies;

    fn policy(annotation: &str) -> String {
        format!(
            "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: p
  annotations:
{annotation}
spec:
  rules:
    - name: r
      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}
      verifyImages:
        - imageReferences: [\"*\"]
          required: false
        - imageReferences: [\"ghcr.io/*\"]
          required: false
"
        )
    }

    #[test]
    fn the_named_root_goes_on_every_entry() {
        let p = load_policies(&policy("    signet.dev/trust-root: corp")).expect("loads");
        let entries = &p[0].spec.rules[0].verify_images;
        assert!(entries
            .iter()
            .all(|e| e.trust_root.as_deref() == Some("corp")));
        let p = load_policies(&policy("    other: x")).expect("loads");
        assert!(p[0].spec.rules[0].verify_images[0].trust_root.is_none());
    }

    #[test]
    fn a_malformed_name_is_refused_with_its_path() {
        for bad in ["\"\"", "a/b", "\"a b\""] {
            let err = load_policies(&policy(&format!("    signet.dev/trust-root: {bad}")))
                .expect_err(bad)
                .to_string();
            assert!(
                err.contains("metadata.annotations[signet.dev/trust-root]"),
                "{bad}: {err}"
            );
        }
    }
}
