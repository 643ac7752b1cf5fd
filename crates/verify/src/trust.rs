//! Trust roots as data: the Sigstore public-good root embedded in the binary, a
//! `trusted_root.json` given by the operator, or PEM files for a private instance
//! (Fulcio CA chains, Rekor and CT log keys, timestamp-authority chains). Nothing is
//! fetched: no TUF repository is contacted unless a root is configured to use one.

mod json;
mod pem;
mod set;
#[cfg(test)]
mod tests;

pub use pem::PemRoot;
pub use set::{TrustRoots, PUBLIC_GOOD as PUBLIC_GOOD_NAME};

use crate::crypto::VerificationKey;
use crate::{Error, Result};

/// The Sigstore public-good `trusted_root.json`, so that an air-gapped verifier needs no
/// TUF round trip. It is the production root as the TUF repository serves it (exported by
/// sigstore-conformance; the same CAs, CT logs and timestamp authority as sigstore-python's
/// pinned copy), with the Rekor v1 log, the Rekor v2 log `log2025-1` and the
/// `timestamp.sigstore.dev` TSA.
const PUBLIC_GOOD: &[u8] = include_bytes!("../trust/public-good.trusted_root.json");

/// A closed interval of Unix seconds in which a key or CA may be used (`validFor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidityPeriod {
    /// First second of use; `None` only for material without a `validFor` at all (PEM
    /// files), which is usable at any time.
    pub start: Option<i64>,
    /// Last second of use (inclusive); `None` when open-ended.
    pub end: Option<i64>,
}

impl ValidityPeriod {
    /// Usable at any time.
    pub const ALWAYS: ValidityPeriod = ValidityPeriod {
        start: None,
        end: None,
    };

    /// Whether `unix` lies in the period; both ends are inclusive.
    pub fn contains(&self, unix: i64) -> bool {
        self.start.is_none_or(|s| s <= unix) && self.end.is_none_or(|e| unix <= e)
    }
}

impl Default for ValidityPeriod {
    fn default() -> Self {
        ValidityPeriod::ALWAYS
    }
}

/// A transparency log (Rekor) or certificate-transparency log whose signatures Signet
/// accepts.
#[derive(Debug, Clone)]
pub struct TransparencyLog {
    /// Base URL, for messages; its host is the name a Rekor checkpoint is signed under.
    pub base_url: String,
    /// The log's public key.
    pub key: VerificationKey,
    /// The log id: SHA-256 of the key's SPKI DER (Rekor v1, CT), or the signed-note key
    /// id of the log (Rekor v2).
    pub log_id: Vec<u8>,
    /// When the key may be used.
    pub valid_for: ValidityPeriod,
}

impl TransparencyLog {
    /// The name the log signs its checkpoints under: the host (and port) of its base URL,
    /// or `None` when the log was configured without a URL.
    pub fn checkpoint_name(&self) -> Option<&str> {
        let rest = self
            .base_url
            .split_once("://")
            .map_or(self.base_url.as_str(), |(_, r)| r);
        let host = rest.split('/').next().unwrap_or_default();
        (!host.is_empty()).then_some(host)
    }
}

/// A certificate authority (Fulcio) or timestamp authority: one chain of certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateAuthority {
    /// The authority's URI, for messages.
    pub uri: String,
    /// DER certificates from the one closest to the leaf to the root, in file order. For a
    /// timestamp authority the first is the TSA's signing certificate.
    pub chain: Vec<Vec<u8>>,
    /// When certificates may be issued (CA) or timestamps made (TSA).
    pub valid_for: ValidityPeriod,
}

impl CertificateAuthority {
    /// The root certificate (last of the chain).
    pub fn root(&self) -> Option<&[u8]> {
        self.chain.last().map(Vec::as_slice)
    }

    /// The certificates between the leaf and the root.
    pub fn intermediates(&self) -> &[Vec<u8>] {
        match self.chain.len() {
            0 => &[],
            n => &self.chain[..n - 1],
        }
    }
}

/// The keys and certificates Signet trusts for keyless, transparency-log and timestamp
/// checks.
#[derive(Debug, Clone, Default)]
pub struct TrustRoot {
    /// Rekor logs.
    pub tlogs: Vec<TransparencyLog>,
    /// Fulcio CA certificates (DER), roots and intermediates of every authority, flat, in
    /// file order. [`TrustRoot::authorities`] keeps them per chain.
    pub certificate_authorities: Vec<Vec<u8>>,
    /// Certificate-transparency logs.
    pub ctlogs: Vec<TransparencyLog>,
    /// Fulcio certificate authorities, one chain each, with their validity.
    pub authorities: Vec<CertificateAuthority>,
    /// RFC 3161 timestamp authorities.
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

impl TrustRoot {
    /// The Sigstore public-good instance, embedded.
    pub fn public_good() -> Result<Self> {
        Self::from_trusted_root_json(PUBLIC_GOOD)
    }

    /// The Sigstore staging instance. Not embedded (the `sigstore` crate ships only the
    /// production root), so this always fails with a message saying what to do instead.
    pub fn staging() -> Result<Self> {
        Err(Error::Malformed(
            "the Sigstore staging trust root is not embedded in Signet and is never fetched: \
             give the staging trusted_root.json as a trust root (--trusted-root)"
                .into(),
        ))
    }

    /// Reads a `trusted_root.json` (Sigstore's `TrustedRoot` message in JSON form). A
    /// `validFor` without a `start` is refused, never read as unbounded.
    pub fn from_trusted_root_json(bytes: &[u8]) -> Result<Self> {
        json::parse(bytes)
    }

    /// A private root from PEM text; see [`PemRoot`].
    pub fn from_pem(root: &PemRoot) -> Result<Self> {
        pem::build(root)
    }

    /// A private root from PEM files: each of `fulcio_chains` and `tsa_chains` is one
    /// authority's chain (leaf-most first, root last), each of `rekor_keys` and
    /// `ctlog_keys` holds public keys. A Rekor key file may be named `URL=FILE` to give the
    /// log's base URL, whose host checkpoints are signed under.
    pub fn from_pem_files(
        fulcio_chains: &[std::path::PathBuf],
        rekor_keys: &[std::path::PathBuf],
        ctlog_keys: &[std::path::PathBuf],
        tsa_chains: &[std::path::PathBuf],
    ) -> Result<Self> {
        pem::from_files(fulcio_chains, rekor_keys, ctlog_keys, tsa_chains)
    }

    /// A root with one Rekor key (`--rekor-public-key`, a policy's `rekor.pubkey`).
    pub fn with_rekor_key(key: VerificationKey, base_url: &str) -> Self {
        let log_id = hex::decode(key.fingerprint()).unwrap_or_default();
        TrustRoot {
            tlogs: vec![TransparencyLog {
                base_url: base_url.to_owned(),
                key,
                log_id,
                valid_for: ValidityPeriod::ALWAYS,
            }],
            ..TrustRoot::default()
        }
    }

    /// The Rekor log with this log id.
    pub fn tlog(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.tlogs.iter().find(|l| l.log_id == log_id)
    }
}

impl TrustRoot {
    /// SHA-256 (hex) over every key, certificate and validity period of this trust root:
    /// verdicts cached under one trust root are never answered under another.
    pub fn fingerprint(&self) -> String {
        use aws_lc_rs::digest::{Context, SHA256};
        fn validity(h: &mut Context, v: &ValidityPeriod) {
            for bound in [v.start, v.end] {
                h.update(&bound.map_or(i64::MIN, |b| b).to_be_bytes());
            }
        }
        let mut h = Context::new(&SHA256);
        for (kind, logs) in [("tlog", &self.tlogs), ("ctlog", &self.ctlogs)] {
            for log in logs {
                h.update(kind.as_bytes());
                h.update(log.base_url.as_bytes());
                h.update(&log.log_id);
                h.update(log.key.spki_der());
                validity(&mut h, &log.valid_for);
            }
        }
        for der in &self.certificate_authorities {
            h.update(b"ca");
            h.update(der);
        }
        for (kind, cas) in [
            ("authority", &self.authorities),
            ("tsa", &self.timestamp_authorities),
        ] {
            for ca in cas {
                h.update(kind.as_bytes());
                h.update(ca.uri.as_bytes());
                for der in &ca.chain {
                    h.update(&(der.len() as u64).to_be_bytes());
                    h.update(der);
                }
                validity(&mut h, &ca.valid_for);
            }
        }
        hex::encode(h.finish())
    }
}
