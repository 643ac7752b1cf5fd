//! Private trust roots from PEM: Fulcio-like CA chains, Rekor and CT log keys, TSA chains.

use std::path::{Path, PathBuf};

use aws_lc_rs::digest;
use signet_policy::pem_material::{parse_certificates, parse_public_keys, KeyAlgorithm};

use super::{CertificateAuthority, TransparencyLog, TrustRoot, ValidityPeriod};
use crate::crypto::VerificationKey;
use crate::{Error, Result};

/// A private trust root in PEM form. PEM material carries no `validFor`: every key and
/// chain is usable at any time (certificates still have their own validity).
#[derive(Debug, Clone, Default)]
pub struct PemRoot {
    /// Fulcio-like CA chains, one authority each: certificates leaf-most first, root last.
    pub fulcio_chains: Vec<String>,
    /// Rekor logs: `(base URL, PEM public keys)`. The URL may be empty; when given, its
    /// host is the name the log signs checkpoints under.
    pub rekor_keys: Vec<(String, String)>,
    /// Certificate-transparency log public keys (PEM).
    pub ctlog_keys: Vec<String>,
    /// Timestamp-authority chains, one authority each: the TSA's signing certificate
    /// first, root last.
    pub tsa_chains: Vec<String>,
}

fn chain(text: &str, kind: &str, index: usize) -> Result<CertificateAuthority> {
    let certs = parse_certificates(text)
        .map_err(|e| Error::Malformed(format!("{kind} chain {}: {e}", index + 1)))?;
    Ok(CertificateAuthority {
        uri: format!("{kind} chain {}", index + 1),
        chain: certs.into_iter().map(|c| c.der).collect(),
        valid_for: ValidityPeriod::ALWAYS,
    })
}

/// The log id of a key: the signed-note key id (SHA-256 of `name \n 0x01 key`) for an
/// Ed25519 Rekor v2 log with a name, else SHA-256 of the SPKI DER (RFC 6962, Rekor v1).
fn log_id(key: &VerificationKey, name: Option<&str>) -> Vec<u8> {
    match (key.algorithm(), name) {
        (KeyAlgorithm::Ed25519, Some(name)) => {
            let spki = key.spki_der();
            let raw = &spki[spki.len().saturating_sub(32)..];
            let mut input = Vec::with_capacity(name.len() + 34);
            input.extend_from_slice(name.as_bytes());
            input.extend_from_slice(b"\n\x01");
            input.extend_from_slice(raw);
            digest::digest(&digest::SHA256, &input).as_ref().to_vec()
        }
        _ => digest::digest(&digest::SHA256, key.spki_der())
            .as_ref()
            .to_vec(),
    }
}

fn logs(base_url: &str, text: &str, kind: &str) -> Result<Vec<TransparencyLog>> {
    let keys = parse_public_keys(text).map_err(|e| Error::Key(format!("{kind} key: {e}")))?;
    keys.iter()
        .map(|k| {
            let key = VerificationKey::from_public_key(k)?;
            let mut log = TransparencyLog {
                base_url: base_url.to_owned(),
                log_id: Vec::new(),
                key,
                valid_for: ValidityPeriod::ALWAYS,
            };
            log.log_id = log_id(&log.key, log.checkpoint_name());
            Ok(log)
        })
        .collect()
}

pub(super) fn build(root: &PemRoot) -> Result<TrustRoot> {
    let authorities = root
        .fulcio_chains
        .iter()
        .enumerate()
        .map(|(i, t)| chain(t, "Fulcio CA", i))
        .collect::<Result<Vec<_>>>()?;
    let mut tlogs = Vec::new();
    for (url, text) in &root.rekor_keys {
        tlogs.extend(logs(url, text, "Rekor")?);
    }
    let mut ctlogs = Vec::new();
    for text in &root.ctlog_keys {
        ctlogs.extend(logs("", text, "CT log")?);
    }
    Ok(TrustRoot {
        tlogs,
        ctlogs,
        certificate_authorities: authorities
            .iter()
            .flat_map(|a| a.chain.iter().cloned())
            .collect(),
        authorities,
        timestamp_authorities: root
            .tsa_chains
            .iter()
            .enumerate()
            .map(|(i, t)| chain(t, "timestamp authority", i))
            .collect::<Result<_>>()?,
    })
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::Malformed(format!("cannot read {}: {e}", path.display())))
}

fn read_all(paths: &[PathBuf]) -> Result<Vec<String>> {
    paths.iter().map(|p| read(p)).collect()
}

pub(super) fn from_files(
    fulcio_chains: &[PathBuf],
    rekor_keys: &[PathBuf],
    ctlog_keys: &[PathBuf],
    tsa_chains: &[PathBuf],
) -> Result<TrustRoot> {
    let rekor_keys = rekor_keys
        .iter()
        .map(|p| {
            let text = p.to_string_lossy();
            match text.split_once('=') {
                Some((url, file)) if url.contains("://") => {
                    Ok((url.to_owned(), read(Path::new(file))?))
                }
                _ => Ok((String::new(), read(p)?)),
            }
        })
        .collect::<Result<_>>()?;
    build(&PemRoot {
        fulcio_chains: read_all(fulcio_chains)?,
        rekor_keys,
        ctlog_keys: read_all(ctlog_keys)?,
        tsa_chains: read_all(tsa_chains)?,
    })
}
