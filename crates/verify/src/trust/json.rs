//! `trusted_root.json` (Sigstore's `TrustedRoot` protobuf message in JSON form).

use base64::Engine;
use serde::Deserialize;

use super::{CertificateAuthority, TransparencyLog, TrustRoot, ValidityPeriod};
use crate::crypto::VerificationKey;
use crate::{Error, Result};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TrustedRootFile {
    #[serde(default)]
    tlogs: Vec<LogFile>,
    #[serde(default)]
    ctlogs: Vec<LogFile>,
    #[serde(default)]
    certificate_authorities: Vec<CaFile>,
    #[serde(default)]
    timestamp_authorities: Vec<CaFile>,
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
    #[serde(default)]
    key_details: String,
    valid_for: Option<ValidForFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogIdFile {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaFile {
    #[serde(default)]
    uri: String,
    cert_chain: CertChainFile,
    valid_for: Option<ValidForFile>,
}

#[derive(Deserialize)]
struct CertChainFile {
    #[serde(default)]
    certificates: Vec<CertFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CertFile {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct ValidForFile {
    start: Option<String>,
    end: Option<String>,
}

fn malformed(what: &str, detail: &str) -> Error {
    Error::Malformed(format!("trusted_root.json: {what}: {detail}"))
}

fn b64(s: &str, what: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| malformed(what, "not base64"))
}

/// Unix seconds of an RFC 3339 time.
pub(crate) fn rfc3339(s: &str, what: &str) -> Result<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp())
        .map_err(|e| malformed(what, &format!("validFor time {s:?}: {e}")))
}

/// A `validFor`; absent means unbounded, but present without `start` is malformed.
fn validity(v: Option<ValidForFile>, what: &str) -> Result<ValidityPeriod> {
    let Some(v) = v else {
        return Ok(ValidityPeriod::ALWAYS);
    };
    let start = v
        .start
        .as_deref()
        .ok_or_else(|| malformed(what, "validFor has no start"))?;
    let period = ValidityPeriod {
        start: Some(rfc3339(start, what)?),
        end: v.end.as_deref().map(|e| rfc3339(e, what)).transpose()?,
    };
    if let (Some(s), Some(e)) = (period.start, period.end) {
        if e < s {
            return Err(malformed(what, "validFor ends before it starts"));
        }
    }
    Ok(period)
}

/// DER of a SubjectPublicKeyInfo for a PKCS#1 `RSAPublicKey`, as the trust root stores
/// keys whose `keyDetails` is `PKCS1_RSA_*`.
fn rsa_pkcs1_to_spki(pkcs1: &[u8]) -> Vec<u8> {
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = body.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|&b| b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend_from_slice(body);
        out
    }
    // SEQUENCE { OID rsaEncryption, NULL }
    let algorithm = tlv(
        0x30,
        &[
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
        ],
    );
    let mut bits = vec![0u8];
    bits.extend_from_slice(pkcs1);
    let mut body = algorithm;
    body.extend(tlv(0x03, &bits));
    tlv(0x30, &body)
}

fn log_key(key: &KeyFile, what: &str) -> Result<VerificationKey> {
    let raw = b64(&key.raw_bytes, what)?;
    match VerificationKey::from_spki_der(&raw) {
        Ok(k) => Ok(k),
        Err(_) if key.key_details.starts_with("PKCS1_RSA") => {
            VerificationKey::from_spki_der(&rsa_pkcs1_to_spki(&raw))
                .map_err(|e| malformed(what, &e.to_string()))
        }
        Err(e) => Err(malformed(what, &e.to_string())),
    }
}

fn logs(files: Vec<LogFile>, kind: &str) -> Result<Vec<TransparencyLog>> {
    files
        .into_iter()
        .map(|l| {
            let what = format!("{kind} {}", l.base_url);
            Ok(TransparencyLog {
                key: log_key(&l.public_key, &what)?,
                log_id: b64(&l.log_id.key_id, &what)?,
                valid_for: validity(l.public_key.valid_for, &what)?,
                base_url: l.base_url,
            })
        })
        .collect()
}

fn authorities(files: Vec<CaFile>, kind: &str) -> Result<Vec<CertificateAuthority>> {
    files
        .into_iter()
        .map(|ca| {
            let what = format!("{kind} {}", ca.uri);
            let chain = ca
                .cert_chain
                .certificates
                .iter()
                .map(|c| b64(&c.raw_bytes, &what))
                .collect::<Result<Vec<_>>>()?;
            if chain.is_empty() {
                return Err(malformed(&what, "empty certificate chain"));
            }
            Ok(CertificateAuthority {
                valid_for: validity(ca.valid_for, &what)?,
                uri: ca.uri,
                chain,
            })
        })
        .collect()
}

pub(super) fn parse(bytes: &[u8]) -> Result<TrustRoot> {
    let file: TrustedRootFile = serde_json::from_slice(bytes)
        .map_err(|e| Error::Malformed(format!("trusted_root.json: {e}")))?;
    let fulcio = authorities(file.certificate_authorities, "certificate authority")?;
    Ok(TrustRoot {
        tlogs: logs(file.tlogs, "tlog")?,
        ctlogs: logs(file.ctlogs, "ctlog")?,
        certificate_authorities: fulcio
            .iter()
            .flat_map(|a| a.chain.iter().cloned())
            .collect(),
        authorities: fulcio,
        timestamp_authorities: authorities(file.timestamp_authorities, "timestamp authority")?,
    })
}
