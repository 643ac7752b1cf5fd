//! One transparency-log entry of a bundle: the log is trusted, the entry is about this
//! bundle, its signed entry timestamp (inclusion promise) verifies, its inclusion proof
//! leads to the root hash of a checkpoint the log signed.

use base64::Engine;
use serde_json::Value;
use signet_policy::SignatureAlgorithm;

use super::body::{self, Signed};
use super::error::{BundleError, Classify, FailureClass};
use super::model::{TlogEntry, Version};
use super::{checkpoint, merkle};
use crate::trust::{TransparencyLog, TrustRoot};

/// A verified entry: its log, and its integrated time when a signed entry timestamp
/// vouches for it (Rekor v1).
#[derive(Debug)]
pub(crate) struct LoggedEntry<'t> {
    pub log: &'t TransparencyLog,
    pub integrated_time: Option<i64>,
}

fn err(class: FailureClass, msg: impl Into<String>) -> BundleError {
    BundleError::new(class, msg)
}

/// The SET signs the canonical JSON (sorted keys, no spaces) of these four fields.
fn verify_set(entry: &TlogEntry, set: &[u8], log: &TransparencyLog) -> Result<(), BundleError> {
    if entry.integrated_time <= 0 {
        return Err(err(
            FailureClass::TransparencyLog,
            "the entry has a signed entry timestamp but no integrated time",
        ));
    }
    let canonical = format!(
        r#"{{"body":{},"integratedTime":{},"logID":{},"logIndex":{}}}"#,
        Value::String(base64::engine::general_purpose::STANDARD.encode(&entry.body)),
        entry.integrated_time,
        Value::String(hex::encode(&entry.log_id)),
        entry.log_index
    );
    log.key
        .verify(canonical.as_bytes(), set, SignatureAlgorithm::Sha256)
        .map_err(|e| {
            err(
                FailureClass::TransparencyLog,
                format!(
                    "the signed entry timestamp does not verify with the key of {}: {e}",
                    log.base_url
                ),
            )
        })
}

fn verify_proof(
    entry: &TlogEntry,
    proof: &super::model::InclusionProof,
    log: &TransparencyLog,
    version: Version,
) -> Result<(), BundleError> {
    let (Ok(index), Ok(size)) = (
        u64::try_from(proof.log_index),
        u64::try_from(proof.tree_size),
    ) else {
        return Err(err(
            FailureClass::InclusionProof,
            "the inclusion proof has a negative index or tree size",
        ));
    };
    let root = merkle::root_from_inclusion_proof(
        index,
        size,
        merkle::leaf_hash(&entry.body),
        &proof.hashes,
    )
    .class(FailureClass::InclusionProof)?;
    if root.as_slice() != proof.root_hash {
        return Err(err(
            FailureClass::InclusionProof,
            "the inclusion proof does not lead to its root hash: the entry is not in that tree",
        ));
    }
    let Some(envelope) = &proof.checkpoint else {
        if version >= Version::V02 {
            return Err(err(
                FailureClass::Checkpoint,
                "the inclusion proof has no checkpoint",
            ));
        }
        return Ok(());
    };
    let cp = checkpoint::parse(envelope).class(FailureClass::Checkpoint)?;
    cp.verify(log).class(FailureClass::Checkpoint)?;
    if cp.root_hash != proof.root_hash || cp.size != size {
        return Err(err(
            FailureClass::Checkpoint,
            "the checkpoint is for another tree than the inclusion proof (root hash or size differ)",
        ));
    }
    Ok(())
}

/// Verifies one entry against the trust root and what the bundle says was signed.
pub(crate) fn verify_entry<'t>(
    entry: &TlogEntry,
    version: Version,
    signed: &Signed,
    trust: &'t TrustRoot,
) -> Result<LoggedEntry<'t>, BundleError> {
    if entry.log_index < 0 {
        return Err(err(
            FailureClass::Malformed,
            format!("the log entry has a negative log index {}", entry.log_index),
        ));
    }
    let log = trust.tlog(&entry.log_id).ok_or_else(|| {
        err(
            FailureClass::TransparencyLog,
            format!(
                "the entry is from a log the trust root does not have (log id {})",
                base64::engine::general_purpose::STANDARD.encode(&entry.log_id)
            ),
        )
    })?;
    body::check(&entry.kind, &entry.kind_version, &entry.body, signed)
        .class(FailureClass::LogEntryMismatch)?;
    let mut integrated_time = None;
    match &entry.set {
        Some(set) => {
            verify_set(entry, set, log)?;
            integrated_time = Some(entry.integrated_time);
        }
        None if version == Version::V01 => {
            return Err(err(
                FailureClass::TransparencyLog,
                "a v0.1 bundle needs a signed entry timestamp (inclusion promise)",
            ))
        }
        None => {}
    }
    match &entry.proof {
        Some(proof) => verify_proof(entry, proof, log, version)?,
        None if version >= Version::V02 => {
            return Err(err(
                FailureClass::InclusionProof,
                "the log entry has no inclusion proof (required from bundle v0.2 on; \
                 Signet does not ask the log)",
            ))
        }
        None => {}
    }
    if let Some(t) = integrated_time {
        if !log.valid_for.contains(t) {
            return Err(err(
                FailureClass::SigningTime,
                format!(
                    "the entry was integrated at {} (Unix), outside the validity of the key of {}",
                    t, log.base_url
                ),
            ));
        }
    }
    Ok(LoggedEntry {
        log,
        integrated_time,
    })
}
