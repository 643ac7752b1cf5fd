//! The verification crate's one error type. A failed verification is not an error: it is
//! a verdict. Errors are what keeps Signet from deciding (an unreachable registry, a
//! malformed response, a bad key file), and map to the `error` result.

/// Errors of the verification engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The registry could not be reached or kept failing (after retries).
    #[error("registry {registry}: {reason}")]
    Registry {
        /// Registry host.
        registry: String,
        /// What happened.
        reason: String,
    },
    /// The registry did not answer in time.
    #[error("registry {registry}: timed out after {seconds}s")]
    Timeout {
        /// Registry host.
        registry: String,
        /// The timeout that expired.
        seconds: u64,
    },
    /// The registry refused our credentials, or demanded credentials we do not have.
    #[error("registry {registry}: unauthorized: {reason}")]
    Unauthorized {
        /// Registry host.
        registry: String,
        /// The registry's message.
        reason: String,
    },
    /// A manifest, blob or payload larger than Signet accepts.
    #[error("{what} exceeds the limit of {limit} bytes")]
    TooLarge {
        /// What was being read.
        what: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// Content whose digest is not the one asked for.
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// What was being read.
        what: String,
        /// The requested digest.
        expected: String,
        /// The digest of what was served.
        actual: String,
    },
    /// Something the registry served (or a file) is not what it should be.
    #[error("{0}")]
    Malformed(String),
    /// A key or certificate that cannot be used.
    #[error("key: {0}")]
    Key(String),
    /// Signing failed.
    #[error("signing: {0}")]
    Signing(String),
    /// A named key or credential that the key source does not have.
    #[error("{0} not found")]
    NotFound(String),
    /// An error from the policy crate (image references, conditions).
    #[error(transparent)]
    Policy(#[from] signet_policy::Error),
}

/// Result alias for the verification crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
