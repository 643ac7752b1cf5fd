//! Attestor sets: `count` of `entries`, each a key, a keyless identity, certificates or a
//! nested set, checked against what an image carries (its signatures, or the attestations
//! of one type). Kyverno's semantics: several PEM keys in one `publicKeys` count as that
//! many entries; a set passes when at least `count` (default: all) entries verify.

use futures_util::future::BoxFuture;
use signet_policy::{AttestorKind, AttestorSet, KeySource, KeysAttestor, SignatureAlgorithm};

pub(crate) use super::certs::{CertLeaf, CertPolicy};
use super::Ctx;
use crate::crypto::VerificationKey;
use crate::Result;

/// What one leaf attestor proved, or why not.
#[derive(Debug)]
pub(crate) enum Leaf {
    Verified,
    Failed(String),
}

/// The outcome of a set: the satisfied entries' paths, or why it failed.
#[derive(Debug)]
pub(crate) enum SetOutcome {
    Satisfied(Vec<String>),
    Failed(String),
}

/// A key-based leaf: the keys that may have signed (any one suffices) and its options.
#[derive(Debug)]
pub(crate) struct KeyLeaf<'a> {
    pub(crate) keys: Vec<VerificationKey>,
    pub(crate) attestor: &'a KeysAttestor,
    pub(crate) annotations: &'a [(String, String)],
    pub(crate) repository: Option<&'a str>,
    pub(crate) algorithm: SignatureAlgorithm,
}

/// Checks one leaf against the image; implemented for signatures and for attestations.
pub(crate) trait LeafCheck: Send + Sync {
    fn check_keys<'a>(
        &'a self,
        ctx: &'a Ctx<'a>,
        leaf: &'a KeyLeaf<'a>,
    ) -> BoxFuture<'a, Result<Leaf>>;

    /// A keyless or certificates leaf.
    fn check_certs<'a>(
        &'a self,
        ctx: &'a Ctx<'a>,
        leaf: &'a CertLeaf<'a>,
    ) -> BoxFuture<'a, Result<Leaf>>;
}

/// An `attestations[]` entry without attestors, as Kyverno checks it: one keyless leaf
/// with no identity against the trust root (see [`CertPolicy::AnyIdentity`]).
pub(crate) async fn verify_any_identity(
    ctx: &Ctx<'_>,
    path: String,
    check: &dyn LeafCheck,
) -> Result<SetOutcome> {
    let leaf = CertLeaf {
        policy: CertPolicy::AnyIdentity,
        annotations: &[],
        repository: None,
    };
    Ok(match check.check_certs(ctx, &leaf).await? {
        Leaf::Verified => SetOutcome::Satisfied(vec![path]),
        Leaf::Failed(why) => SetOutcome::Failed(format!(
            "no attestors given, so any keylessly signed attestation chained to the trust root counts, and none did: {why}"
        )),
    })
}

/// Evaluates `set` at `path` (e.g. `attestors[0]`).
pub(crate) fn verify_set<'a>(
    ctx: &'a Ctx<'a>,
    set: &'a AttestorSet,
    path: String,
    check: &'a dyn LeafCheck,
) -> BoxFuture<'a, Result<SetOutcome>> {
    Box::pin(async move {
        let mut satisfied = Vec::new();
        let mut reasons = Vec::new();
        let mut total = 0usize;
        let mut verified = 0usize;
        for (i, attestor) in set.entries.iter().enumerate() {
            let entry_path = format!("{path}.entries[{i}]");
            match &attestor.kind {
                AttestorKind::Keys(keys) => {
                    let groups = key_groups(ctx, keys).await?;
                    let count = groups.len();
                    for (k, group) in groups.into_iter().enumerate() {
                        total += 1;
                        let label = if count > 1 {
                            format!("{entry_path}.keys[{k}]")
                        } else {
                            format!("{entry_path}.keys")
                        };
                        let leaf = KeyLeaf {
                            keys: group,
                            attestor: keys,
                            annotations: &attestor.annotations,
                            repository: attestor.repository.as_deref(),
                            algorithm: keys.signature_algorithm,
                        };
                        match check.check_keys(ctx, &leaf).await? {
                            Leaf::Verified => {
                                verified += 1;
                                satisfied.push(label);
                            }
                            Leaf::Failed(why) => {
                                reasons.push(format!("{label} (key {} of {count}): {why}", k + 1))
                            }
                        }
                    }
                }
                AttestorKind::Nested(nested) => {
                    total += 1;
                    match verify_set(ctx, nested, format!("{entry_path}.attestor"), check).await? {
                        SetOutcome::Satisfied(mut inner) => {
                            verified += 1;
                            satisfied.push(format!("{entry_path}.attestor"));
                            satisfied.append(&mut inner);
                        }
                        SetOutcome::Failed(why) => reasons.push(format!("nested attestor: {why}")),
                    }
                }
                AttestorKind::Keyless(_) | AttestorKind::Certificates(_) => {
                    total += 1;
                    let (policy, label) = match &attestor.kind {
                        AttestorKind::Keyless(k) => {
                            (CertPolicy::Keyless(k), format!("{entry_path}.keyless"))
                        }
                        AttestorKind::Certificates(c) => (
                            CertPolicy::Certificates(c),
                            format!("{entry_path}.certificates"),
                        ),
                        _ => continue,
                    };
                    let leaf = CertLeaf {
                        policy,
                        annotations: &attestor.annotations,
                        repository: attestor.repository.as_deref(),
                    };
                    match check.check_certs(ctx, &leaf).await? {
                        Leaf::Verified => {
                            verified += 1;
                            satisfied.push(label);
                        }
                        Leaf::Failed(why) => reasons.push(format!("{label}: {why}")),
                    }
                }
            }
        }
        let required = match set.count {
            None | Some(0) => total,
            Some(n) => n,
        };
        if verified >= required && required > 0 {
            Ok(SetOutcome::Satisfied(satisfied))
        } else {
            Ok(SetOutcome::Failed(format!(
                "{verified} of {required} required attestors verified: {}",
                reasons.join("; ")
            )))
        }
    })
}

/// The keys of a `keys` attestor as verification groups: one group per inline PEM key
/// (each counts as an entry), or one group holding every key stored under a secret.
async fn key_groups(ctx: &Ctx<'_>, keys: &KeysAttestor) -> Result<Vec<Vec<VerificationKey>>> {
    match &keys.source {
        KeySource::PublicKeys(pems) => pems
            .iter()
            .map(|k| ctx.verifier.parsed_keys.get(k).map(|v| vec![v]))
            .collect(),
        KeySource::Secret(reference) => {
            let resolved = ctx.verifier.keys.resolve(reference).await?;
            let group = resolved
                .iter()
                .map(|k| ctx.verifier.parsed_keys.get(k))
                .collect::<Result<Vec<_>>>()?;
            Ok(vec![group])
        }
    }
}
