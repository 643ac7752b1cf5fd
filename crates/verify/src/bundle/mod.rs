//! Sigstore bundles (v0.1 to v0.3, `application/vnd.dev.sigstore.bundle+json;version=0.x`
//! and `application/vnd.dev.sigstore.bundle.v0.3+json`), verified offline against a
//! [`TrustRoot`], with the policy of the Sigstore clients (sigstore-go, sigstore-python):
//!
//! 1. the verification material is what the caller expects: a certificate for an identity,
//!    a public-key hint for a key;
//! 2. the signature (message signature, or DSSE envelope with an in-toto statement) is over
//!    the artifact by the signer's key;
//! 3. every transparency-log entry is from a trusted log and about this signature, key and
//!    artifact; its signed entry timestamp verifies (required in v0.1); its inclusion proof
//!    leads to the root hash of a checkpoint the log signed (required from v0.2);
//! 4. every RFC 3161 timestamp covers the signature and is from a trusted TSA;
//! 5. at least one trusted time (an integrated time vouched by a SET, or a TSA time; Rekor
//!    v2 entries have none of their own), none in the future, each inside the log key's
//!    validity and the signing certificate's;
//! 6. keyless: at each of those times the certificate chains to a Fulcio CA of the trust
//!    root valid then; its SCTs verify (when the root has CT logs); SAN and OIDC issuer are
//!    the expected ones.
//!
//! Signet never asks a log or a TUF repository anything here.
//!
//! Why not `sigstore::bundle::verify` (sigstore 0.15): on the 70 sigstore-conformance
//! cases it decides 50 as named, many of those for the wrong reason. It does not check
//! signed entry timestamps, inclusion proofs or checkpoints (`set-invalid-signature_fail`,
//! `checkpoint-*_fail`, `invalid-checkpoint-signature_fail` verify), reads neither Rekor v2
//! entries nor RFC 3161 timestamps (every `rekor2-*` happy path fails), has no managed-key
//! verification, refuses the `;version=0.3` media type, and fails SCTs with extensions.

mod body;
mod certs;
mod checkpoint;
mod content;
mod der;
mod error;
mod merkle;
mod model;
mod rekor;
mod tsa;

#[cfg(test)]
mod tests;

pub use error::{BundleError, FailureClass};

use aws_lc_rs::digest;

use crate::crypto::VerificationKey;
use crate::trust::TrustRoot;
use crate::x509::CertificateIdentity;
use body::Signed;
use error::Classify;
use model::{Content, Material};

/// Tolerated clock difference when deciding that a time is in the future, in seconds.
const CLOCK_SKEW: i64 = 300;

/// What was signed: the artifact's bytes, or only its SHA-256.
#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    /// The artifact itself.
    Bytes(&'a [u8]),
    /// The SHA-256 of the artifact (`sha256:<hex>` on the command line). ECDSA P-256 and
    /// RSA message signatures, and DSSE envelopes, can be checked from it.
    Sha256([u8; 32]),
}

impl Artifact<'_> {
    /// The artifact's SHA-256.
    pub fn sha256(&self) -> [u8; 32] {
        match self {
            Artifact::Sha256(d) => *d,
            Artifact::Bytes(b) => {
                let mut out = [0u8; 32];
                out.copy_from_slice(digest::digest(&digest::SHA256, b).as_ref());
                out
            }
        }
    }

    /// Reads `sha256:<64 hex>`; `None` for anything else.
    pub fn parse_digest(text: &str) -> Option<[u8; 32]> {
        let hex_part = text.strip_prefix("sha256:")?;
        let bytes = hex::decode(hex_part).ok()?;
        bytes.try_into().ok()
    }
}

/// A caller's rule for the identity of a signing certificate: `Err` says why not.
pub type IdentityCheck =
    std::sync::Arc<dyn Fn(&CertificateIdentity) -> Result<(), String> + Send + Sync>;

/// Who must have signed.
#[derive(Clone)]
pub enum Signer {
    /// A Fulcio certificate for exactly this SAN from exactly this OIDC issuer.
    Identity {
        /// The certificate identity (SAN: email, URI, ...).
        identity: String,
        /// The OIDC issuer URL.
        issuer: String,
    },
    /// A Fulcio certificate whose identity the check accepts (policies: globs, regular
    /// expressions, extensions).
    Certificate(IdentityCheck),
    /// A key the verifier holds (the bundle carries a public-key hint).
    Key(VerificationKey),
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signer::Identity { identity, issuer } => f
                .debug_struct("Identity")
                .field("identity", identity)
                .field("issuer", issuer)
                .finish(),
            Signer::Certificate(_) => f.write_str("Certificate(<check>)"),
            Signer::Key(key) => f.debug_tuple("Key").field(key).finish(),
        }
    }
}

/// A verified bundle.
#[derive(Debug, Clone)]
pub struct Verified {
    /// SHA-256 of the artifact.
    pub artifact_sha256: [u8; 32],
    /// The trusted signing times (Unix seconds): integrated times and TSA times.
    pub signing_times: Vec<i64>,
    /// Log indexes of the transparency-log entries.
    pub log_indexes: Vec<i64>,
    /// The certificate's identity, for keyless bundles.
    pub identity: Option<CertificateIdentity>,
    /// The in-toto statement of a DSSE bundle (the envelope's payload, as signed).
    pub statement: Option<Vec<u8>>,
}

/// What a verification demands beyond the signature: Sigstore clients demand both; a
/// policy may waive them (Kyverno's `rekor.ignoreTlog` and `ctlog.ignoreSCT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirements {
    /// At least one transparency-log entry, each verified. When false, the bundle's log
    /// entries are not read at all (as sigstore-go without `WithTransparencyLog`), and
    /// signing times come from RFC 3161 timestamps alone.
    pub tlog: bool,
    /// At least one trusted signing time. When false and the bundle has none, a
    /// certificate is checked at the current time (sigstore-go's `WithCurrentTime`).
    pub signing_time: bool,
}

impl Default for Requirements {
    fn default() -> Self {
        Requirements {
            tlog: true,
            signing_time: true,
        }
    }
}

/// Verifies `bundle_json` for `artifact` and `signer` against `trust`, now.
pub fn verify(
    bundle_json: &[u8],
    artifact: &Artifact<'_>,
    signer: &Signer,
    trust: &TrustRoot,
) -> Result<Verified, BundleError> {
    verify_at(
        bundle_json,
        artifact,
        signer,
        trust,
        chrono::Utc::now().timestamp(),
    )
}

fn signer_key(
    material: &Material,
    signer: &Signer,
) -> Result<(VerificationKey, Option<Vec<u8>>), BundleError> {
    match (material, signer) {
        (Material::Certificate(leaf), Signer::Identity { .. } | Signer::Certificate(_)) => {
            let key = VerificationKey::from_certificate_der(leaf).class(FailureClass::Material)?;
            Ok((key, Some(leaf.clone())))
        }
        (Material::PublicKey, Signer::Key(key)) => Ok((key.clone(), None)),
        (Material::PublicKey, Signer::Identity { .. } | Signer::Certificate(_)) => {
            Err(BundleError::new(
                FailureClass::Material,
                "the bundle is signed with a key, not a certificate: verify it with the key",
            ))
        }
        (Material::Certificate(_), Signer::Key(_)) => Err(BundleError::new(
            FailureClass::Material,
            "the bundle is signed with a certificate: verify it with an identity and issuer",
        )),
    }
}

/// [`verify`] with `now` as the current time (Unix seconds).
pub fn verify_at(
    bundle_json: &[u8],
    artifact: &Artifact<'_>,
    signer: &Signer,
    trust: &TrustRoot,
    now: i64,
) -> Result<Verified, BundleError> {
    verify_with(
        bundle_json,
        artifact,
        signer,
        trust,
        Requirements::default(),
        now,
    )
}

/// [`verify_at`] under `required` (what a policy demands).
pub fn verify_with(
    bundle_json: &[u8],
    artifact: &Artifact<'_>,
    signer: &Signer,
    trust: &TrustRoot,
    required: Requirements,
    now: i64,
) -> Result<Verified, BundleError> {
    let bundle = model::parse(bundle_json)?;
    let (key, leaf) = signer_key(&bundle.material, signer)?;
    let artifact_sha256 = content::verify(&bundle.content, artifact, &key)?;
    let (signature, dsse) = match &bundle.content {
        Content::Message { signature, .. } => (signature.clone(), None),
        Content::Dsse {
            payload_type,
            payload,
            signature,
        } => (
            signature.clone(),
            Some((payload_type.clone(), payload.clone())),
        ),
    };
    let signed = Signed {
        artifact_digest: artifact_sha256,
        signature,
        key_spki: key.spki_der().to_vec(),
        leaf,
        dsse,
    };
    let entries: &[model::TlogEntry] = if required.tlog {
        &bundle.tlog_entries
    } else {
        &[]
    };
    if required.tlog && entries.is_empty() {
        return Err(BundleError::new(
            FailureClass::TransparencyLog,
            "the bundle has no transparency-log entry",
        ));
    }
    let mut times = Vec::new();
    let mut untimed_logs = Vec::new();
    for entry in entries {
        let logged = rekor::verify_entry(entry, bundle.version, &signed, trust)?;
        match logged.integrated_time {
            Some(t) => times.push(t),
            None => untimed_logs.push(logged.log),
        }
    }
    let mut tsa_times = Vec::new();
    for (i, ts) in bundle.timestamps.iter().enumerate() {
        let t = tsa::verify(ts, &signed.signature, trust).map_err(|e| {
            BundleError::new(FailureClass::Timestamp, format!("timestamp {}: {e}", i + 1))
        })?;
        tsa_times.push(t);
    }
    for log in untimed_logs {
        if let Some(t) = tsa_times.iter().find(|t| !log.valid_for.contains(**t)) {
            return Err(BundleError::new(
                FailureClass::SigningTime,
                format!(
                    "timestamped at {t} (Unix), outside the validity of the key of {}",
                    log.base_url
                ),
            ));
        }
    }
    times.extend(tsa_times);
    let checked_at = if times.is_empty() && !required.signing_time {
        vec![now]
    } else {
        Vec::new()
    };
    if times.is_empty() && required.signing_time {
        return Err(BundleError::new(
            FailureClass::SigningTime,
            "no trusted signing time: the bundle has neither a signed entry timestamp nor an \
             RFC 3161 timestamp (Rekor v2 entries need a timestamp)",
        ));
    }
    if let Some(t) = times.iter().find(|t| **t > now + CLOCK_SKEW) {
        return Err(BundleError::new(
            FailureClass::SigningTime,
            format!("the signing time {t} (Unix) is in the future"),
        ));
    }
    let cert_times = if checked_at.is_empty() {
        &times
    } else {
        &checked_at
    };
    let identity = match (&signed.leaf, signer) {
        (Some(leaf), Signer::Identity { identity, issuer }) => {
            Some(certs::verify(leaf, cert_times, trust, &|id| {
                certs::exact_identity(id, identity, issuer)
            })?)
        }
        (Some(leaf), Signer::Certificate(check)) => {
            Some(certs::verify(leaf, cert_times, trust, check.as_ref())?)
        }
        _ => None,
    };
    Ok(Verified {
        artifact_sha256,
        signing_times: times,
        log_indexes: entries.iter().map(|e| e.log_index).collect(),
        identity,
        statement: signed.dsse.map(|(_, payload)| payload),
    })
}
