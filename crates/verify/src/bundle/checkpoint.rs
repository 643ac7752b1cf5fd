//! Rekor checkpoints: a signed note (C2SP `signed-note`) whose text is the log origin, the
//! tree size and the root hash. Signature lines from keys Signet does not know (witness
//! cosignatures, other keys) are ignored; a line from the log's own name and key hint
//! must verify, and at least one must.

use signet_policy::SignatureAlgorithm;

use super::model::b64;
use crate::trust::TransparencyLog;

/// A parsed checkpoint.
#[derive(Debug, Clone)]
pub(crate) struct Checkpoint {
    /// The first line: the log's origin.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The root hash.
    pub root_hash: Vec<u8>,
    /// The signed text: every line up to and including the one before the blank line.
    text: String,
    signatures: Vec<NoteSignature>,
}

#[derive(Debug, Clone)]
struct NoteSignature {
    name: String,
    key_hint: [u8; 4],
    signature: Vec<u8>,
}

/// Parses a signed note; `Err` says what is missing.
pub(crate) fn parse(envelope: &str) -> Result<Checkpoint, String> {
    let (text, signatures) = envelope
        .split_once("\n\n")
        .ok_or("the checkpoint has no blank line before its signatures")?;
    let mut lines = text.lines();
    let origin = lines.next().unwrap_or_default();
    if origin.is_empty() {
        return Err("the checkpoint has no origin line".into());
    }
    let size = lines
        .next()
        .and_then(|l| l.parse::<u64>().ok())
        .ok_or("the checkpoint's second line is not a tree size")?;
    let root_hash = lines
        .next()
        .and_then(|l| b64(l, "root hash").ok())
        .filter(|h| h.len() == 32)
        .ok_or("the checkpoint's third line is not a base64 SHA-256 root hash")?;
    let mut parsed = Vec::new();
    for line in signatures.lines() {
        let rest = line.strip_prefix("\u{2014} ").ok_or_else(|| {
            format!("checkpoint signature line {line:?} does not start with \"\u{2014} \"")
        })?;
        let (name, sig) = rest
            .rsplit_once(' ')
            .ok_or_else(|| format!("checkpoint signature line {line:?} has no signature"))?;
        let bytes = b64(sig, "checkpoint signature").map_err(|e| e.message)?;
        if bytes.len() < 5 || name.is_empty() {
            return Err(format!("checkpoint signature line {line:?} is too short"));
        }
        parsed.push(NoteSignature {
            name: name.to_owned(),
            key_hint: [bytes[0], bytes[1], bytes[2], bytes[3]],
            signature: bytes[4..].to_vec(),
        });
    }
    if parsed.is_empty() {
        return Err("the checkpoint is not signed".into());
    }
    Ok(Checkpoint {
        origin: origin.to_owned(),
        size,
        root_hash,
        text: format!("{text}\n"),
        signatures: parsed,
    })
}

impl Checkpoint {
    /// Checks that the log signed the checkpoint under its name and key. A log configured
    /// without a URL signs under the checkpoint's origin (up to a Rekor v1 `" - "` suffix).
    pub(crate) fn verify(&self, log: &TransparencyLog) -> Result<(), String> {
        let origin_name = self
            .origin
            .split_once(" - ")
            .map_or(self.origin.as_str(), |(n, _)| n);
        let name = log.checkpoint_name().unwrap_or(origin_name);
        let hint = log.log_id.get(..4).unwrap_or_default();
        let mut verified = false;
        for sig in &self.signatures {
            if sig.name != name || sig.key_hint != hint {
                continue; // a witness, or a key Signet does not know
            }
            log.key
                .verify(
                    self.text.as_bytes(),
                    &sig.signature,
                    SignatureAlgorithm::Sha256,
                )
                .map_err(|e| format!("the checkpoint signature of {name} does not verify: {e}"))?;
            verified = true;
        }
        if verified {
            Ok(())
        } else {
            Err(format!(
                "the checkpoint has no signature from the log {name} (key hint {})",
                hex::encode(hint)
            ))
        }
    }
}
