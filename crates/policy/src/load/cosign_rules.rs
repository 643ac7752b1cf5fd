//! What a `type: Cosign` entry (the default) may hold beyond what `SigstoreBundle` needs.
//! Signet checks a cosign signature's signing time against its Rekor bundle only; it reads
//! no RFC 3161 timestamp from the signature, so a `ctlog.tsaCertChain` there would be a
//! trust anchor that is never consulted, and is refused with its path.

use crate::decode::{Errors, Path};
use crate::{AttestorKind, AttestorSet, CtLog, ImageVerification};

const TSA_UNSUPPORTED: &str = "not supported by Signet: with type Cosign, signing times are \
taken from the Rekor bundle, not from RFC 3161 timestamps (tsaCertChain is used with type \
SigstoreBundle)";

/// Checks a `Cosign` entry at `path`.
pub(super) fn check(entry: &ImageVerification, path: &Path, errs: &mut Errors) {
    for (i, set) in entry.attestors.iter().enumerate() {
        check_set(set, &path.field("attestors").index(i), errs);
    }
    for (i, attestation) in entry.attestations.iter().enumerate() {
        let at = path.field("attestations").index(i).field("attestors");
        for (j, set) in attestation.attestors.iter().enumerate() {
            check_set(set, &at.index(j), errs);
        }
    }
}

fn check_set(set: &AttestorSet, path: &Path, errs: &mut Errors) {
    for (i, attestor) in set.entries.iter().enumerate() {
        let at = path.field("entries").index(i);
        let (field, ctlog) = match &attestor.kind {
            AttestorKind::Keys(k) => ("keys", k.ctlog.as_ref()),
            AttestorKind::Keyless(k) => ("keyless", k.ctlog.as_ref()),
            AttestorKind::Certificates(c) => ("certificates", c.ctlog.as_ref()),
            AttestorKind::Nested(nested) => {
                check_set(nested, &at.field("attestor"), errs);
                continue;
            }
        };
        if ctlog.is_some_and(|c: &CtLog| !c.tsa_cert_chain.is_empty()) {
            errs.push(
                &at.field(field).field("ctlog").field("tsaCertChain"),
                TSA_UNSUPPORTED,
            );
        }
    }
}
