//! What a `type: SigstoreBundle` entry may hold. Kyverno verifies bundles with sigstore-go
//! (`pkg/cosign/sigstore.go`): a key, or a certificate identity made of a subject and an
//! issuer; nothing else reaches the verifier. Fields that Kyverno would silently drop, or
//! that make every bundle fail there, are refused here with their path, so that a policy
//! that loads is enforced as written.

use crate::decode::{Errors, Path};
use crate::{AttestorKind, AttestorSet, ImageVerification, SignatureAlgorithm};

/// Checks a `SigstoreBundle` entry at `path`.
pub(super) fn check(entry: &ImageVerification, path: &Path, errs: &mut Errors) {
    for (i, set) in entry.attestors.iter().enumerate() {
        check_set(set, &path.field("attestors").index(i), errs);
    }
    for (i, attestation) in entry.attestations.iter().enumerate() {
        let at = path.field("attestations").index(i);
        if attestation.attestors.is_empty() {
            errs.push(
                &at.field("attestors"),
                "required with type SigstoreBundle: a bundle is verified for a key or a \
                 certificate identity (Kyverno's empty attestor verifies no bundle)",
            );
        }
        for (j, set) in attestation.attestors.iter().enumerate() {
            check_set(set, &at.field("attestors").index(j), errs);
        }
    }
}

fn check_set(set: &AttestorSet, path: &Path, errs: &mut Errors) {
    for (i, attestor) in set.entries.iter().enumerate() {
        let at = path.field("entries").index(i);
        if !attestor.annotations.is_empty() {
            errs.push(
                &at.field("annotations"),
                "not supported with type SigstoreBundle: a bundle carries no signed annotations",
            );
        }
        match &attestor.kind {
            AttestorKind::Keys(keys) => {
                if keys.signature_algorithm != SignatureAlgorithm::Sha256 {
                    errs.push(
                        &at.field("keys").field("signatureAlgorithm"),
                        "only sha256 is supported with type SigstoreBundle",
                    );
                }
            }
            AttestorKind::Keyless(keyless) => {
                let subject = keyless.subject.is_some() || keyless.subject_regexp.is_some();
                let issuer = keyless.issuer.is_some() || keyless.issuer_regexp.is_some();
                if !subject || !issuer {
                    errs.push(
                        &at.field("keyless"),
                        "type SigstoreBundle needs both a subject (or subjectRegExp) and an \
                         issuer (or issuerRegExp): the certificate identity of the bundle",
                    );
                }
            }
            AttestorKind::Certificates(_) => errs.push(
                &at.field("certificates"),
                "not supported with type SigstoreBundle: use keys or keyless",
            ),
            AttestorKind::Nested(nested) => check_set(nested, &at.field("attestor"), errs),
        }
    }
}
