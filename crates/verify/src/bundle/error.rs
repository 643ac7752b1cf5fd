//! Why a bundle did not verify, by class, so that callers and tests can tell a forged
//! signature from a malformed file.

use std::fmt;

/// The kind of check a bundle failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureClass {
    /// Not a bundle: bad JSON, bad base64, missing or contradictory fields.
    Malformed,
    /// A media type (bundle version) Signet does not know.
    UnsupportedVersion,
    /// The trust root cannot be used (malformed, or lacks what the bundle needs).
    TrustRoot,
    /// The verification material is unusable or not the kind the caller asked for: an
    /// empty chain, a root certificate in the chain, a key where a certificate is needed.
    Material,
    /// The signing certificate does not chain to a trusted CA at the signing time, or the
    /// CA was not valid then.
    Certificate,
    /// The certificate's identity (SAN) or OIDC issuer is not the expected one.
    Identity,
    /// The certificate's embedded SCTs do not verify with a trusted CT log.
    CertificateTransparency,
    /// The signature does not verify with the signer's key.
    Signature,
    /// The bundle is not about this artifact (digest, DSSE subject).
    ArtifactMismatch,
    /// The transparency-log entry is about another signature, key or artifact.
    LogEntryMismatch,
    /// The log is not trusted, or its signed entry timestamp does not verify.
    TransparencyLog,
    /// The inclusion proof is missing or does not lead to the root hash.
    InclusionProof,
    /// The checkpoint is malformed, unsigned by the log, or for another tree.
    Checkpoint,
    /// An RFC 3161 timestamp does not verify with a trusted timestamp authority.
    Timestamp,
    /// No trusted time, a time in the future, or a signing time outside the certificate's
    /// (or the log key's) validity.
    SigningTime,
}

impl FailureClass {
    /// A short lowercase name, used in messages.
    pub fn name(self) -> &'static str {
        match self {
            FailureClass::Malformed => "malformed bundle",
            FailureClass::UnsupportedVersion => "unsupported bundle version",
            FailureClass::TrustRoot => "trust root",
            FailureClass::Material => "verification material",
            FailureClass::Certificate => "certificate chain",
            FailureClass::Identity => "certificate identity",
            FailureClass::CertificateTransparency => "certificate transparency",
            FailureClass::Signature => "signature",
            FailureClass::ArtifactMismatch => "artifact mismatch",
            FailureClass::LogEntryMismatch => "log entry mismatch",
            FailureClass::TransparencyLog => "transparency log",
            FailureClass::InclusionProof => "inclusion proof",
            FailureClass::Checkpoint => "checkpoint",
            FailureClass::Timestamp => "timestamp",
            FailureClass::SigningTime => "signing time",
        }
    }
}

/// A failed bundle verification: its class and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleError {
    /// What kind of check failed.
    pub class: FailureClass,
    /// What exactly.
    pub message: String,
}

impl BundleError {
    /// An error of `class`.
    pub fn new(class: FailureClass, message: impl Into<String>) -> Self {
        BundleError {
            class,
            message: message.into(),
        }
    }
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class.name(), self.message)
    }
}

impl std::error::Error for BundleError {}

/// `Err(BundleError)` of `class` from a `String` error.
pub(crate) trait Classify<T> {
    /// Tags the error with `class`.
    fn class(self, class: FailureClass) -> Result<T, BundleError>;
}

impl<T, E: fmt::Display> Classify<T> for Result<T, E> {
    fn class(self, class: FailureClass) -> Result<T, BundleError> {
        self.map_err(|e| BundleError::new(class, e.to_string()))
    }
}
