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
