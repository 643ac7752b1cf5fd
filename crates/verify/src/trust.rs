//! Trust roots as data: the Sigstore public-good root embedded in the binary, or a
//! `trusted_root.json` given by the operator. Nothing is fetched.

use base64::Engine;
use serde::Deserialize;

use crate::crypto::VerificationKey;
use crate::{Error, Result};

/// The Sigstore public-good `trusted_root.json` (from the `sigstore` crate's embedded TUF
/// target), so that an air-gapped verifier needs no TUF round trip.
const PUBLIC_GOOD: &[u8] = include_bytes!("../trust/public-good.trusted_root.json");

/// A transparency log (Rekor) whose signed entry timestamps Signet accepts.
#[derive(Debug, Clone)]
pub struct TransparencyLog {
    /// Base URL, for messages.
    pub base_url: String,
    /// The log's public key.
    pub key: VerificationKey,
    /// The log id: SHA-256 of the key's SPKI DER.
    pub log_id: Vec<u8>,
}

/// The keys and certificates Signet trusts for keyless and transparency-log checks.
#[derive(Debug, Clone, Default)]
pub struct TrustRoot {
    /// Rekor logs.
    pub tlogs: Vec<TransparencyLog>,
    /// Fulcio CA certificates (DER), roots and intermediates, in file order.
    pub certificate_authorities: Vec<Vec<u8>>,
    /// Certificate-transparency logs.
    pub ctlogs: Vec<TransparencyLog>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TrustedRootFile {
    #[serde(default)]
    tlogs: Vec<LogFile>,
    #[serde(default)]
    ctlogs: Vec<LogFile>,
    #[serde(default)]
    certificate_authorities: Vec<CaFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogFile {
    #[serde(default)]
    base_url: String,
    public_key: KeyFile,
    log_id: LogIdFile,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyFile {
    raw_bytes: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogIdFile {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaFile {
    cert_chain: CertChainFile,
}

#[derive(Deserialize)]
struct CertChainFile {
    certificates: Vec<CertFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CertFile {
    raw_bytes: String,
}

impl TrustRoot {
    /// The Sigstore public-good instance, embedded.
    pub fn public_good() -> Result<Self> {
        Self::from_trusted_root_json(PUBLIC_GOOD)
    }

    /// Reads a `trusted_root.json` (Sigstore's `TrustedRoot` message in JSON form).
    pub fn from_trusted_root_json(bytes: &[u8]) -> Result<Self> {
        let file: TrustedRootFile = serde_json::from_slice(bytes)
            .map_err(|e| Error::Malformed(format!("trusted_root.json: {e}")))?;
        let b64 = |s: &str, what: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| Error::Malformed(format!("trusted_root.json: {what} is not base64")))
        };
        let logs = |logs: Vec<LogFile>, what: &str| -> Result<Vec<TransparencyLog>> {
            logs.into_iter()
                .map(|l| {
                    Ok(TransparencyLog {
                        key: VerificationKey::from_spki_der(&b64(&l.public_key.raw_bytes, what)?)?,
                        log_id: b64(&l.log_id.key_id, what)?,
                        base_url: l.base_url,
                    })
                })
                .collect()
        };
        let mut certificate_authorities = Vec::new();
        for ca in file.certificate_authorities {
            for cert in ca.cert_chain.certificates {
                certificate_authorities.push(b64(&cert.raw_bytes, "certificate")?);
            }
        }
        Ok(TrustRoot {
            tlogs: logs(file.tlogs, "tlog key")?,
            ctlogs: logs(file.ctlogs, "ctlog key")?,
            certificate_authorities,
        })
    }

    /// A root with one Rekor key (`--rekor-public-key`, a policy's `rekor.pubkey`).
    pub fn with_rekor_key(key: VerificationKey, base_url: &str) -> Self {
        let log_id = hex::decode(key.fingerprint()).unwrap_or_default();
        TrustRoot {
            tlogs: vec![TransparencyLog {
                base_url: base_url.to_owned(),
                key,
                log_id,
            }],
            ..TrustRoot::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_good_root_has_rekor_and_fulcio() {
        let root = TrustRoot::public_good().expect("embedded root parses");
        assert!(root
            .tlogs
            .iter()
            .any(|l| l.base_url == "https://rekor.sigstore.dev"));
        for log in &root.tlogs {
            // The log id is the SHA-256 of the key, which is how bundles name their log.
            assert_eq!(
                hex::encode(&log.log_id),
                log.key.fingerprint(),
                "{}",
                log.base_url
            );
        }
        assert!(!root.certificate_authorities.is_empty());
        assert!(!root.ctlogs.is_empty());
    }

    #[test]
    fn malformed_root_is_an_error() {
        assert!(TrustRoot::from_trusted_root_json(b"{").is_err());
        let bad = br#"{"tlogs":[{"publicKey":{"rawBytes":"!!"},"logId":{"keyId":"AA=="}}]}"#;
        assert!(TrustRoot::from_trusted_root_json(bad).is_err());
    }
}
